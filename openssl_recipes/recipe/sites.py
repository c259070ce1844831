"""Edge sites: a recipe whose `nanomq.bridge.client` names a fleet of clients has one site per member —
one NanoMQ on its own gateway, bridging to the cloud with that member's certificate. A fleet of servers
named by `nanomq.listener.server`, with the same count, pairs with the sites by number: each site's
listener serves its own certificate.

In the `nanomq:` section of such a recipe, `{name}` (the member's name) and `{n}` / `{n:03d}` (its
number) are filled in the bridge's `clientid` and in its topics; `{{` and `}}` write a brace. In a
recipe without sites they stay as written (a topic is taken literally).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from ..core.errors import loc_text
from .entries import Leaf
from .fleet import Fleet, parts_of


class Named(Protocol):  # a recipe entry as written (`schema.LeafIn`)
    name: str
    count: int | None


# What `fill` replaces; a lone brace (neither `{{`, `}}` nor one of these) is a problem in a recipe with sites
PLACEHOLDER = re.compile(r"\{\{|\}\}|\{name\}|\{n(?::(0?)(\d{1,2})d)?\}")


@dataclass(frozen=True)
class FleetEntry:
    path: str  # its place in the recipe (`Leaf.path`), e.g. "clients[1]"
    count: int


Fleets = dict[str, dict[str, FleetEntry]]  # "server", "client" → a fleet's name as written → its entry


def fleet_entries(servers: Sequence[Named], clients: Sequence[Named]) -> Fleets:
    """The recipe's fleet entries (those with a count), by role and name."""
    return {
        role: {e.name: FleetEntry(loc_text((f"{role}s", i)), e.count) for i, e in enumerate(entries) if e.count}
        for role, entries in (("server", servers), ("client", clients))
    }


def site_entries(client: str | None, server: str | None, fleets: Fleets) -> SiteEntries | None:
    """The fleets that make the recipe's sites, when nanomq.bridge.client names a fleet (`client`);
    `server`: nanomq.listener.server, a fleet paired with them or not."""
    if client not in fleets["client"]:
        return None
    paired = fleets["server"].get(server or "")
    return SiteEntries(fleets["client"][client].path, paired.path if paired else None, fleets["client"][client].count)


@dataclass(frozen=True)
class SiteEntries:
    """The entries that make a recipe's sites, by their place in the recipe (`Leaf.path`)."""

    clients: str  # e.g. "clients[1]": the fleet of the sites' bridge certificates
    servers: str | None  # the fleet of their listeners' certificates, paired by number, or None
    count: int


@dataclass(frozen=True)
class Site:
    n: int
    client: Leaf  # the certificate its bridge presents to the cloud
    server: Leaf | None  # the certificate its own listener serves, if the sites have one each

    @property
    def name(self) -> str:
        return self.client.name


def fill(text: str, name: str, n: int) -> str:
    """`text` for one site: `{name}` and `{n}` / `{n:03d}` filled, `{{` and `}}` made single braces."""

    def one(match: re.Match[str]) -> str:
        found = match.group(0)
        if found in ("{{", "}}"):
            return found[0]
        if found == "{name}":
            return name
        return f"{n:0{match.group(2)}d}" if match.group(2) else str(n)

    return PLACEHOLDER.sub(one, text)


def lone_brace(text: str) -> bool:
    """Whether `text` holds a brace that `fill` would not replace (write `{{` for one)."""
    rest = PLACEHOLDER.sub("", text)
    return "{" in rest or "}" in rest


def has_placeholder(text: str, only_number: bool = False) -> bool:
    """Whether `text` names the site (`{name}`, `{n}`), which only a recipe with sites can fill;
    `only_number`: by its number (`{n}`, `{n:03d}`)."""
    return any(
        m.group(0) not in ("{{", "}}") and not (only_number and m.group(0) == "{name}") for m in PLACEHOLDER.finditer(text)
    )


def sites(clients: tuple[Leaf, ...] | object, servers: tuple[Leaf, ...] | object, entries: SiteEntries) -> Iterator[Site]:
    """The sites in order (the fleet's members made one at a time: 10 000 sites are not 10 000 objects)."""
    bridges = _members(clients, entries.clients)
    listeners = _members(servers, entries.servers) if entries.servers else iter(())
    for n, client in enumerate(bridges, 1):
        yield Site(n, client, next(listeners, None) if entries.servers else None)


def _members(leaves: object, path: str) -> Iterator[Leaf]:
    for part in parts_of(leaves):  # type: ignore[arg-type]
        if isinstance(part, Fleet):
            if part.template.path == path:
                yield from part
        elif part.path == path:
            yield part

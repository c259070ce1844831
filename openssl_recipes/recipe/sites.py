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
from collections.abc import Iterator
from dataclasses import dataclass

from .entries import Leaf
from .fleet import Fleet, parts_of

# What `fill` replaces; a lone brace (neither `{{`, `}}` nor one of these) is a problem in a recipe with sites
PLACEHOLDER = re.compile(r"\{\{|\}\}|\{name\}|\{n(?::(0?)(\d{1,2})d)?\}")


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
    return "{" in PLACEHOLDER.sub("", text) or "}" in PLACEHOLDER.sub("", text)


def has_placeholder(text: str) -> bool:
    """Whether `text` names the site (`{name}`, `{n}`), which only a recipe with sites can fill."""
    return any(match.group(0) not in ("{{", "}}") for match in PLACEHOLDER.finditer(text))


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

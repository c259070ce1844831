"""Broker TLS configuration from the recipe: one template per broker (templates/<broker>.conf.j2),
one code path. A password is written only into files (created 0600); on stdout it is a comment.

`insert_blocks` puts the rendered blocks into an existing configuration file between marker comments,
leaving every other byte as it was, so a second run changes nothing.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..core.errors import UsageError
from ..core.names import CRL_FILE
from ..core.text import control_characters
from ..recipe.broker import CLIENT_ID, DEFAULT_CLIENT_ID, BridgeIn, NanoMQIn, path_problem
from ..recipe.entries import Leaf
from ..recipe.model import Recipe
from ..recipe.sites import Site, fill
from .hocon import sets

BROKERS = ("nanomq", "mosquitto", "emqx")
BLOCKS = ("listener", "bridge")
BLOCK_RE = re.compile(r"^# BEGIN openssl-recipes (?P<name>\w+)\n.*?^# END openssl-recipes (?P=name)\n", re.S | re.M)


def context(
    recipe: Recipe,
    blocks: tuple[str, ...],
    secret_values: dict[str, str] | None,
    broker: str = "nanomq",
    site: Site | None = None,
    acl_file: str | None = None,
) -> dict[str, Any]:
    """What the templates see. `secret_values` None: passwords become comments (for stdout). In a recipe
    with sites, NanoMQ's blocks are `site`'s (default: the first), the far end's listener is the cloud's
    (`acl_file`: the access rules it reads), and the far end has no bridge."""
    section = recipe.nanomq or NanoMQIn()
    cert_dir = section.cert_dir or str(recipe.output_dir)
    if problem := path_problem(cert_dir):  # the output folder, when nanomq.cert_dir does not say
        raise UsageError(f"the certificates' folder {problem}; set nanomq.cert_dir to where the files will live")
    ca_file = posixpath.join(cert_dir, recipe.trust_file)

    def files(leaf: Leaf) -> dict[str, Any]:
        password = None
        if leaf.password and secret_values is not None and leaf.password.env_name in secret_values:
            password = secret_values[leaf.password.env_name]  # (resolved only for the blocks written)
            if broker == "nanomq" and (problem := nanomq_password_problem(password)):
                raise UsageError(f"the key password of {leaf.name} ({leaf.password.describe()}) {problem}")
        return {
            "keyfile": posixpath.join(cert_dir, leaf.key_file),
            "certfile": posixpath.join(cert_dir, leaf.chain_file or leaf.cert_file),
            "cacertfile": ca_file,
            "key_name": leaf.key_file,
            "certname": leaf.cert_file,
            "key_password": password,
            "password_source": leaf.password.describe() if leaf.password else None,
        }

    listener = None
    if broker == "nanomq" and recipe.site_entries is not None:
        site = site or next(recipe.sites())  # (the far end's blocks have no site)
    server, client = nanomq_leaves(recipe, site) if broker == "nanomq" else far_end_leaves(recipe)
    if server is not None:
        verify_peer, fail = listener_verification(recipe)
        host, port = section.listener.bind.rsplit(":", 1)
        listener = {
            **files(server),
            "bind": section.listener.bind,
            "host": host.strip("[]"),
            "port": int(port),
            "verify_peer": verify_peer,
            "fail_if_no_peer_cert": fail,
            # written once `revoke`/`crl` made one: mosquitto then refuses revoked client certificates
            "crlfile": posixpath.join(cert_dir, CRL_FILE) if (recipe.output_dir / CRL_FILE).is_file() else None,
            "mode": "two-way: client certificates required"
            if fail
            else ("client certificates optional" if verify_peer else "one-way"),
            "acl_file": acl_file,
            "sites": recipe.site_entries is not None and broker != "nanomq",
        }
    bridge = None
    if client is not None:
        spec = section.bridge
        bridge = {
            **files(client),
            **spec.model_dump(include={"name", "host", "port", "proto_ver", "keepalive", "clean_start"}),
            "clientid": bridge_clientid(spec, site),
            "forwards": [filled_topics(f.model_dump(), site) for f in spec.forwards],
            "subscription": [filled_topics(s.model_dump(), site) for s in spec.subscription],
            "site": site.name if site else None,
        }
    return {"recipe_name": recipe.path.name, "blocks": blocks, "listener": listener, "bridge": bridge}


def bridge_clientid(spec: BridgeIn, site: Site | None) -> str:
    """The bridge's client id: as the recipe says, with a site's name and number filled in; by default
    bridge_client, or with sites the site's name (the cloud tells the sites apart by it too)."""
    if site is None:
        return spec.clientid or DEFAULT_CLIENT_ID
    clientid = fill(spec.clientid or "{name}", site.name, site.n)
    if not CLIENT_ID.match(clientid):
        raise UsageError(
            f"nanomq.bridge.clientid: {clientid!r} (site {site.name}) is not 1 to 128 letters, digits, '_', '.', ':' or '-'"
        )
    return clientid


def filled_topics(pair: dict[str, Any], site: Site | None) -> dict[str, Any]:
    """A forward or subscription with the site's name and number in its topics (as written without sites)."""
    if site is None:
        return pair
    return {**pair, **{side: fill(pair[side], site.name, site.n) for side in ("remote_topic", "local_topic")}}


def render_conf(
    recipe: Recipe,
    broker: str,
    blocks: tuple[str, ...],
    secret_values: dict[str, str] | None,
    templates_dir: Path | None = None,
    site: Site | None = None,
    acl_file: str | None = None,
) -> str:
    from .jinja import render

    text = render(f"{broker}.conf.j2", context(recipe, blocks, secret_values, broker, site, acl_file), templates_dir)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"


def working_blocks(
    recipe: Recipe, broker: str, blocks: tuple[str, ...], asked: bool, into: str | None = None, site: Site | None = None
) -> tuple[tuple[str, ...], str | None]:
    """The blocks to render, and why one was left out (None: none was). NanoMQ stops at start-up on a
    bridge without a `server` ("node address is null", 0.25.5), so its bridge block is rendered only
    where it can work: with nanomq.bridge.host, `--into` a file that gives that bridge its `server`, or
    when `asked` for by name (`--block bridge`: the ssl section for a bridge the user's file has)."""
    client = nanomq_leaves(recipe, site)[1]
    bridge = (recipe.nanomq or NanoMQIn()).bridge
    if broker != "nanomq" or "bridge" not in blocks or asked or client is None or bridge.host is not None:
        return blocks, None
    if into is not None and sets(into, ("bridges", "mqtt", bridge.name, "server")):
        return blocks, None
    why = (
        "no bridge block: nanomq.bridge has no host (NanoMQ stops at start-up on a bridge without a server); "
        f"set it, or take the ssl section alone with --block bridge for the bridges.mqtt.{bridge.name} of your nanomq.conf"
    )
    return tuple(block for block in blocks if block != "bridge"), why


def nanomq_leaves(recipe: Recipe, site: Site | None = None) -> tuple[Leaf | None, Leaf | None]:
    """The server NanoMQ's listener serves and the client its bridge presents (the nanomq section's
    choice, else the first of each); in a recipe with sites, `site`'s (default: the first site's)."""
    if recipe.site_entries is not None:
        site = site or next(recipe.sites())
        return site.server, site.client
    section = recipe.nanomq or NanoMQIn()
    return _pick(recipe.servers, section.listener.server), _pick(recipe.clients, section.bridge.client)


def far_end_leaves(recipe: Recipe) -> tuple[Leaf | None, Leaf | None]:
    """What mosquitto's and EMQX's blocks use: NanoMQ's own choice, or in a recipe with sites the cloud's
    listener (the first server that is not a site's) and no bridge (the sites bridge to it)."""
    if recipe.site_entries is None:
        return nanomq_leaves(recipe)
    cloud = next((leaf for leaf in recipe.servers if leaf.path != recipe.site_entries.servers), None)
    return cloud, None


def listener_verification(recipe: Recipe) -> tuple[bool, bool]:
    """(verify_peer, fail_if_no_peer_cert) of the listener: two-way when the recipe has clients,
    unless the nanomq section says otherwise."""
    listener = (recipe.nanomq or NanoMQIn()).listener
    verify_peer = bool(recipe.clients) if listener.verify_peer is None else listener.verify_peer
    fail = verify_peer if listener.fail_if_no_peer_cert is None else listener.fail_if_no_peer_cert
    return verify_peer, fail


def used_by_nanomq(recipe: Recipe) -> list[Leaf]:
    """The leaves a recipe's explicit nanomq section puts into NanoMQ (none without the section): with
    sites, every site's."""
    if recipe.nanomq is None:
        return []
    if recipe.site_entries is not None:
        return [leaf for site in recipe.sites() for leaf in (site.client, site.server) if leaf is not None]
    return [leaf for leaf in nanomq_leaves(recipe) if leaf is not None]


def carries_password(recipe: Recipe, blocks: tuple[str, ...], broker: str = "nanomq", site: Site | None = None) -> bool:
    server, client = nanomq_leaves(recipe, site) if broker == "nanomq" else far_end_leaves(recipe)
    used = ([server] if "listener" in blocks else []) + ([client] if "bridge" in blocks else [])
    return any(leaf is not None and leaf.password is not None for leaf in used)


MARKER_RE = re.compile(r"# (BEGIN|END) openssl-recipes (\S*)\s*")


def marker_problem(existing: str) -> str | None:
    """Why the marked blocks of a file cannot be replaced safely, naming the line, or None: a BEGIN
    without its END (everything after it would be taken for the block), an END before its BEGIN, a
    block inside another, a block twice."""
    open_at: tuple[str, int] | None = None
    seen: dict[str, int] = {}
    for number, line in enumerate(existing.split("\n"), 1):
        found = MARKER_RE.fullmatch(line)
        if found is None:
            continue
        edge, name = found.groups()
        if edge == "BEGIN":
            if open_at is not None:
                return f"line {number}: '# BEGIN openssl-recipes {name}' inside the block {open_at[0]} begun on line {open_at[1]} (no END before it)"
            if name in seen:
                return f"line {number}: a second block {name} (the first begins on line {seen[name]}); keep one"
            open_at, seen[name] = (name, number), number
        elif open_at is None or open_at[0] != name:
            return f"line {number}: '# END openssl-recipes {name}' without its '# BEGIN openssl-recipes {name}' before it"
        else:
            open_at = None
    if open_at is not None:
        return f"line {open_at[1]}: '# BEGIN openssl-recipes {open_at[0]}' has no '# END openssl-recipes {open_at[0]}' after it"
    return None


def insert_blocks(existing: str, rendered: str) -> str:
    """Replace each marked block of `rendered` in `existing`, or append it; everything else stays.
    `existing` has no `marker_problem`."""
    result = existing
    for match in BLOCK_RE.finditer(rendered):
        block = match.group(0)
        pattern = re.compile(
            rf"^# BEGIN openssl-recipes {match.group('name')}\n.*?^# END openssl-recipes {match.group('name')}(?:\n|\Z)",
            re.S | re.M,
        )
        if pattern.search(result):
            result = pattern.sub(lambda _m, b=block: b, result, count=1)
        else:
            if result and not result.endswith("\n"):
                result += "\n"
            result += ("\n" if result else "") + block
    return result


def nanomq_password_problem(password: str) -> str | None:
    """Why NanoMQ cannot be given `password` in its configuration, or None. Measured with 0.25.5:
    its HOCON reader unescapes `\\"` but not `\\\\`, `\\n` or `\\t`, so a key whose password holds a
    backslash or a control character never opens (mbedtls_pk_parse_key -15232, "password mismatch"); an
    invisible character (the package's one rule, `core.text`) is refused with them."""
    if "\\" in password:
        return "holds a backslash, which NanoMQ 0.25.5 cannot read from its configuration: choose a password without one"
    if control_characters(password):
        return "holds a control character, which NanoMQ 0.25.5 cannot read from its configuration"
    return None


def _pick(leaves: Sequence[Leaf], name: str | None) -> Leaf | None:
    if name is None:
        return leaves[0] if leaves else None
    return next(leaf for leaf in leaves if leaf.name == name)  # cross_check made sure it exists

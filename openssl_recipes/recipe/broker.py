"""The recipe's `nanomq:` section: where the files live on the device, the listener, the bridge.

Validated with the rest of the recipe (extra="forbid"); `cross_check` ties its names to the recipe's
servers and clients. `conf` renders NanoMQ's, mosquitto's and EMQX's TLS settings from it.

Every value that reaches a rendered file is checked here, where it enters, so that no recipe can write
a line or a key the user did not ask for: HOCON strings are escaped on the way out, but mosquitto's
configuration has no quoting at all (one directive a line, words split on spaces).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from ..core.errors import Problem
from ..core.text import control_characters, is_dns_name
from .fields import Strict, accepts, any_case, limits
from .sites import Fleets, fill, has_placeholder, lone_brace

CLIENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
DEFAULT_CLIENT_ID = "bridge_client"
DURATION = re.compile(r"^\s*(\d{1,6})\s*(s|secs?|seconds?|m|mins?|minutes?|h|hours?)?\s*$", re.I)
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}
MAX_KEEPALIVE = 65535  # seconds: MQTT's keep-alive is two bytes
MAX_TOPIC_BYTES = 65535  # MQTT's limit for a topic name


def host_problem(value: str) -> str | None:
    """Why `value` is not a host a broker can be reached at (a DNS name or an IPv4 address), or None."""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return (
            None
            if is_dns_name(value) and not value.replace(".", "").isdigit()
            else f"{value!r} is not a DNS name or an IP address"
        )
    if address.version == 6:
        return f"{value!r}: an IPv6 bridge address is not supported yet (mosquitto's and NanoMQ's forms differ); give a DNS name"
    return None


def parse_seconds(value: object) -> int:
    """`60`, `"60s"`, `"1m"`, `"1 minute"`, `"2h"` → seconds (1 … 65535, MQTT's keep-alive range)."""
    if isinstance(value, bool):
        raise ValueError("give a duration such as 60s, 5m or 1h, not true/false")
    match = DURATION.match(str(value)) if isinstance(value, int | str) else None
    if not match:
        raise ValueError(f"{value!r} is not a duration: give seconds (60), or a number with s, m or h (60s, 5m, 1h)")
    seconds = int(match.group(1)) * UNIT_SECONDS[(match.group(2) or "s")[0].lower()]
    if not 1 <= seconds <= MAX_KEEPALIVE:
        raise ValueError(f"{value!r} is {seconds} s: MQTT's keep-alive is 1 to {MAX_KEEPALIVE} seconds")
    return seconds


class ListenerIn(Strict):
    server: str | None = Field(
        None, description="The server entry NanoMQ's TLS listener uses (default: the first server)."
    )  # default: the first server
    bind: str = Field("0.0.0.0:8883", description="host:port the listener binds (default 0.0.0.0:8883).")
    verify_peer: bool | None = Field(
        None, description="Ask clients for a certificate (default: true when the recipe has clients)."
    )  # default: true when the recipe has clients (two-way)
    fail_if_no_peer_cert: bool | None = Field(None, description="Refuse clients without a certificate (default: as verify_peer).")

    @field_validator("bind")
    @classmethod
    def _bind(cls, value: str) -> str:
        if (
            not re.fullmatch(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}", value)
            or not 0 < int(value.rsplit(":", 1)[1]) < 65536
        ):
            raise ValueError(f"{value!r} is not host:port (e.g. 0.0.0.0:8883)")
        return value


def topic(value: str) -> str:
    """An exact MQTT topic that every broker's configuration can hold as one word."""
    if not value:
        raise ValueError("a topic cannot be empty")
    if bad := control_characters(value):
        raise ValueError(f"{value!r} holds control characters ({', '.join(bad)})")
    if any(c.isspace() for c in value):
        raise ValueError(f"{value!r} holds a space: mosquitto's bridge `topic` lines split on spaces")
    if "+" in value or "#" in value:
        raise ValueError(f"{value!r} holds a wildcard (+ or #): a bridge maps one exact topic to another here")
    if len(value.encode("utf-8")) > MAX_TOPIC_BYTES:
        raise ValueError(f"a topic is at most {MAX_TOPIC_BYTES} bytes")
    return value


class _Topics(Strict):
    remote_topic: str = Field(description="The topic on the remote broker (exact, no wildcards).")
    local_topic: str = Field(description="The topic on NanoMQ (exact, no wildcards).")

    @field_validator("remote_topic", "local_topic")
    @classmethod
    def _topic(cls, value: str) -> str:
        return topic(value)


class ForwardIn(_Topics):
    qos: Literal[0, 1, 2] | None = Field(None, description="QoS of forwarded messages (0, 1 or 2).")


class SubscriptionIn(_Topics):
    qos: Literal[0, 1, 2] = Field(1, description="QoS of the subscription (default 1).")


class BridgeIn(Strict):
    name: str = Field("emqx1", description="The bridge's name: bridges.mqtt.<name>.")
    client: str | None = Field(
        None, description="The client entry the bridge presents (default: the first client)."
    )  # default: the first client
    host: str | None = Field(
        None, description="The remote broker's DNS name or IPv4 address; without it only the ssl block is rendered."
    )  # the remote broker; without it only the ssl block is rendered
    port: int = Field(
        8883, description="The remote broker's TLS port (default 8883).", json_schema_extra=limits(minimum=1, maximum=65535)
    )
    clientid: str | None = Field(
        None,
        description="The bridge's MQTT client id (default: bridge_client; with sites, each site's name). "
        "With sites, {name} and {n} are filled in.",
    )
    proto_ver: Literal[4, 5] = Field(4, description="MQTT version: 4 (3.1.1, default) or 5.")
    keepalive: int = Field(
        60,
        description="Keep-alive: seconds, or text such as 60s, 1m, '1 minute' (1 to 65535 s).",
        json_schema_extra=accepts(  # `_keepalive`: seconds, or a number with its unit
            {"type": "integer", "minimum": 1, "maximum": MAX_KEEPALIVE},
            {"type": "string", "pattern": any_case(DURATION.pattern)},
            drop=("type",),
        ),
    )
    clean_start: bool = Field(False, description="Start a clean session.")
    forwards: list[ForwardIn] = Field([], description="Local topics forwarded to the remote broker.")
    subscription: list[SubscriptionIn] = Field([], description="Remote topics brought to NanoMQ.")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value):
            raise ValueError(f"{value!r}: a bridge name is 1 to 64 letters, digits, '_' or '-' (it becomes bridges.mqtt.<name>)")
        return value

    @field_validator("host")
    @classmethod
    def _host(cls, value: str | None) -> str | None:
        if value is not None and (problem := host_problem(value)):
            raise ValueError(problem)
        return value

    @field_validator("port")
    @classmethod
    def _port(cls, value: int) -> int:
        if not 0 < value < 65536:
            raise ValueError(f"{value} is not a TCP port")
        return value

    @field_validator("clientid")
    @classmethod
    def _clientid(cls, value: str | None) -> str | None:
        if value is not None and not CLIENT_ID.match(fill(value, "x", 1)):  # as filled for a site (else `cross_check`)
            raise ValueError(
                f"{value!r}: a client id is 1 to 128 letters, digits, '_', '.', ':' or '-' (with sites: and {{name}}, {{n}})"
            )
        return value

    @field_validator("keepalive", mode="before")
    @classmethod
    def _keepalive(cls, value: object) -> int:
        return parse_seconds(value)


class NanoMQIn(Strict):
    cert_dir: str | None = Field(
        None, description="Where the files will live on the device (default: the output folder)."
    )  # where the files will live on the device; default: the output folder
    listener: ListenerIn = Field(ListenerIn(), description="NanoMQ's TLS listener (listeners.ssl).")
    bridge: BridgeIn = Field(BridgeIn(), description="NanoMQ's bridge to a remote broker over mutual TLS.")

    @field_validator("cert_dir")
    @classmethod
    def _cert_dir(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if problem := path_problem(value):
            raise ValueError(problem)
        return value

    @classmethod
    def all_models(cls) -> list[type[BaseModel]]:
        """Every model of this section, so unknown keys can be matched against their names."""
        return [cls, ListenerIn, BridgeIn, ForwardIn, SubscriptionIn]


def path_problem(value: str) -> str | None:
    """Why `value` cannot be written as a folder in every broker's configuration, or None."""
    if not value.startswith("/"):
        return f"{value!r}: give an absolute path (NanoMQ opens relative paths against its working directory)"
    if bad := control_characters(value):
        return f"{value!r} holds control characters ({', '.join(bad)})"
    if value != value.strip():
        return f"{value!r} begins or ends with a space, which mosquitto's configuration drops"
    return None


def cross_check(section: NanoMQIn | None, servers: list[str], clients: list[str], fleets: Fleets | None = None) -> list[Problem]:
    """Problems (with field paths) for names the section uses that the recipe does not declare, and for
    its sites (`sites`): `fleets`, the recipe's fleet entries (`sites.fleet_entries`)."""
    if section is None:
        return []
    fleets = fleets or {"server": {}, "client": {}}
    problems = []
    sites = fleets["client"].get(section.bridge.client or "")
    site_count = sites.count if sites else None
    if section.listener.server is not None and section.listener.server not in servers:
        if section.listener.server not in fleets["server"]:
            message = f"{section.listener.server!r} is not one of the recipe's servers ({', '.join(servers) or 'none'})"
            problems.append(Problem(("nanomq", "listener", "server"), message))
        elif site_count is None:
            message = (
                f"{section.listener.server!r} is a fleet of servers: that pairs with sites, which need nanomq.bridge.client "
                "to name a fleet of clients with the same count"
            )
            problems.append(Problem(("nanomq", "listener", "server"), message))
        elif fleets["server"][section.listener.server].count != site_count:
            message = (
                f"{section.listener.server!r} has {fleets['server'][section.listener.server].count} servers and the sites "
                f"({section.bridge.client!r}) are {site_count}: each site's listener pairs with one server by number"
            )
            problems.append(Problem(("nanomq", "listener", "server"), message))
    elif section.listener.server is not None and site_count is not None:
        message = (
            f"{section.listener.server!r} is one server: every site would carry its key. Name a fleet of servers with "
            f"the sites' count ({site_count}), or leave nanomq.listener.server out (the sites then have no TLS listener)"
        )
        problems.append(Problem(("nanomq", "listener", "server"), message))
    if section.bridge.client is not None and section.bridge.client not in clients and site_count is None:
        message = f"{section.bridge.client!r} is not one of the recipe's clients ({', '.join(clients) or 'none'})"
        problems.append(Problem(("nanomq", "bridge", "client"), message))
    problems += _site_fields(section.bridge, site_count)
    return problems


def _site_fields(bridge: BridgeIn, site_count: int | None) -> list[Problem]:
    """The bridge's fields that name the site: filled with sites (a lone brace is a mistake then), an
    error in a client id without them (a topic is taken as written)."""
    problems = []
    if site_count is None:
        if bridge.clientid is not None and has_placeholder(bridge.clientid):
            message = f"{bridge.clientid!r}: {{name}} and {{n}} are filled only when nanomq.bridge.client names a fleet of clients (sites)"
            problems.append(Problem(("nanomq", "bridge", "clientid"), message))
        return problems
    for field, topics in (("forwards", bridge.forwards), ("subscription", bridge.subscription)):
        for index, pair in enumerate(topics):
            for side in ("remote_topic", "local_topic"):
                if lone_brace(getattr(pair, side)):
                    message = (
                        f"{getattr(pair, side)!r}: with sites, {{name}} and {{n}} are filled in; write {{{{ or }}}} for a brace"
                    )
                    problems.append(Problem(("nanomq", "bridge", field, index, side), message))
    return problems

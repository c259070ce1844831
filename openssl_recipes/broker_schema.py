"""The recipe's `nanomq:` section: where the files live on the device, the listener, the bridge.

Validated with the rest of the recipe (extra="forbid"); `cross_check` ties its names to the recipe's
servers and clients. `conf` renders NanoMQ's, mosquitto's and EMQX's TLS settings from it.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ListenerIn(_Strict):
    server: str | None = None  # default: the first server
    bind: str = "0.0.0.0:8883"
    verify_peer: bool | None = None  # default: true when the recipe has clients (two-way)
    fail_if_no_peer_cert: bool | None = None

    @field_validator("bind")
    @classmethod
    def _bind(cls, value: str) -> str:
        if (
            not re.fullmatch(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}", value)
            or not 0 < int(value.rsplit(":", 1)[1]) < 65536
        ):
            raise ValueError(f"{value!r} is not host:port (e.g. 0.0.0.0:8883)")
        return value


class ForwardIn(_Strict):
    remote_topic: str
    local_topic: str
    qos: Literal[0, 1, 2] | None = None


class SubscriptionIn(_Strict):
    remote_topic: str
    local_topic: str
    qos: Literal[0, 1, 2] = 1


class BridgeIn(_Strict):
    name: str = "emqx1"
    client: str | None = None  # default: the first client
    host: str | None = None  # the remote broker; without it only the ssl block is rendered
    port: int = 8883
    clientid: str = "bridge_client"
    proto_ver: Literal[4, 5] = 4
    keepalive: str = "60s"
    clean_start: bool = False
    forwards: list[ForwardIn] = []
    subscription: list[SubscriptionIn] = []

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_-]+", value):
            raise ValueError(f"{value!r}: a bridge name is letters, digits, '_' or '-' (it becomes bridges.mqtt.<name>)")
        return value

    @field_validator("host")
    @classmethod
    def _host(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9.:-]+", value):
            raise ValueError(f"{value!r} is not a host name or address")
        return value

    @field_validator("port")
    @classmethod
    def _port(cls, value: int) -> int:
        if not 0 < value < 65536:
            raise ValueError(f"{value} is not a TCP port")
        return value


class NanoMQIn(_Strict):
    cert_dir: str | None = None  # where the files will live on the device; default: the output folder
    listener: ListenerIn = ListenerIn()
    bridge: BridgeIn = BridgeIn()

    @field_validator("cert_dir")
    @classmethod
    def _cert_dir(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("/"):
            raise ValueError(f"{value!r}: give an absolute path (NanoMQ opens relative paths against its working directory)")
        return value

    @classmethod
    def all_models(cls) -> list[type[BaseModel]]:
        """Every model of this section, so unknown keys can be matched against their names."""
        return [cls, ListenerIn, BridgeIn, ForwardIn, SubscriptionIn]


def cross_check(section: NanoMQIn | None, servers: list[str], clients: list[str]) -> list[str]:
    """Errors (with field paths) for names the section uses that the recipe does not declare."""
    if section is None:
        return []
    errors = []
    if section.listener.server is not None and section.listener.server not in servers:
        errors.append(
            f"nanomq.listener.server: {section.listener.server!r} is not one of the recipe's servers ({', '.join(servers) or 'none'})"
        )
    if section.bridge.client is not None and section.bridge.client not in clients:
        errors.append(
            f"nanomq.bridge.client: {section.bridge.client!r} is not one of the recipe's clients ({', '.join(clients) or 'none'})"
        )
    return errors

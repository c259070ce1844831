"""`init`: the facts a user knows (scenario, server names, clients, a fleet, a remote broker) → a
commented recipes.yaml that passes plan, build, verify and handshake as written. Pure: no I/O beyond
reading the template; the text is validated by the loader before anyone writes it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import UsageError
from ..core.numbering import FLEET_PATTERN, MAX_FLEET, fill_number
from ..recipe.broker import host_problem
from ..recipe.json_schema import SCHEMA_FILE
from ..recipe.sans import parse_san
from ..recipe.schema import ENTRY_NAME, ENV_NAME

SCENARIOS = {
    "two-way": "two-way (mutual) TLS PKI: a CA, a server, clients with certificates",
    "one-way": "one-way TLS PKI: a CA and a server; clients check the server only",
    "fleet": "two-way TLS PKI for a fleet of devices, each with its own certificate",
    "bridge": "PKI for a NanoMQ bridge: the remote broker's server certificate and NanoMQ's client certificate",
    "sites": "PKI for many NanoMQ sites, each bridging to one cloud broker that knows it by its certificate",
}
DEFAULT_PATTERNS = {"fleet": "device-{n:04d}", "sites": "site-{n:03d}"}


@dataclass
class Facts:
    scenario: str
    servers: list[str] = field(default_factory=list)  # every name and address clients use; the first is the CN
    clients: list[str] = field(default_factory=list)
    count: int = 10
    pattern: str | None = None  # default: DEFAULT_PATTERNS
    remote: str | None = None  # HOST[:PORT]
    key_type: str = "rsa"
    password_env: str | None = None  # with `hsm`: the token's PIN (default CA_PIN)
    hsm: str | None = None  # the CA key's PKCS#11 URI


def recipe_text(facts: Facts) -> str:
    """The recipe for `facts`, or UsageError naming the option that is wrong."""
    from .jinja import render

    if facts.scenario not in SCENARIOS:
        raise UsageError(f"unknown scenario {facts.scenario!r}: one of {', '.join(SCENARIOS)}")
    remote = _remote(facts.remote) if facts.scenario in ("bridge", "sites") else None
    if facts.scenario in ("bridge", "sites") and remote is None:
        raise UsageError(f"the {facts.scenario} scenario needs --remote HOST[:PORT] (the broker NanoMQ bridges to)")
    servers = facts.servers or ([remote["host"]] if remote else ["localhost", "127.0.0.1"])
    for name in servers:
        try:
            parse_san(name)
        except ValueError as exc:
            raise UsageError(f"--server {name}: {exc}") from None
    if parse_san(servers[0]).kind not in ("DNS", "IP"):
        raise UsageError(f"--server {servers[0]}: the first server name is the certificate's CN: give a DNS name or address")
    default_clients = {"two-way": ["client"], "bridge": ["bridge"], "fleet": [], "one-way": [], "sites": ["cloud-app"]}[
        facts.scenario
    ]
    clients = [] if facts.scenario == "one-way" else (facts.clients or default_clients)
    for name in clients:
        if not ENTRY_NAME.match(name):
            raise UsageError(f"--client {name}: letters, digits, '.', '_' or '-', starting with a letter or digit")
    fleet = _fleet(facts) if facts.scenario in ("fleet", "sites") else None
    if facts.key_type not in ("rsa", "ec"):
        raise UsageError(f"--key-type {facts.key_type}: rsa or ec")
    if facts.password_env is not None and not ENV_NAME.match(facts.password_env):
        raise UsageError(f"--password-env {facts.password_env}: not an environment variable name")
    if facts.hsm is not None and not facts.hsm.startswith("pkcs11:"):
        raise UsageError(f"--hsm {facts.hsm}: a PKCS#11 URI, e.g. 'pkcs11:token=ca;object=root'")
    context = {
        "schema": SCHEMA_FILE,  # beside the recipe (run.init writes it): a path that lasts
        "scenario": facts.scenario,
        "scenario_title": SCENARIOS[facts.scenario],
        "key_type": facts.key_type,
        "organization": "MQTT",
        "ca_name": "MQTT Root CA",
        "password_env": facts.password_env or ("CA_PIN" if facts.hsm else None),
        "hsm": facts.hsm,
        "server_comment": {"sites": "the cloud broker's certificate (conf mosquitto --acl)"}.get(
            facts.scenario, "the remote broker's certificate" if remote else "the broker's certificate"
        ),
        "server_names": servers,
        "clients": clients,
        "fleet": fleet,
        "remote": remote,
    }
    return render("recipes.yaml.j2", context, filters={"yaml": _yaml})


def _yaml(value: object) -> str:
    """A YAML scalar that reads back exactly (JSON strings are YAML)."""
    text = str(value)
    return (
        text
        if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", text) and text not in ("true", "false", "null", "yes", "no")
        else json.dumps(text)
    )


def _remote(text: str | None) -> dict[str, object] | None:
    if not text:
        return None
    host, _, port = text.rpartition(":") if text.count(":") == 1 else (text, "", "8883")
    port = port or "8883"
    if problem := host_problem(host):
        raise UsageError(f"--remote {text}: {problem}")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--remote {text}: {port!r} is not a TCP port")
    return {"host": host, "port": int(port)}


def _fleet(facts: Facts) -> dict[str, object]:
    pattern = facts.pattern or DEFAULT_PATTERNS[facts.scenario]
    if not FLEET_PATTERN.search(pattern):
        raise UsageError(f"--pattern {pattern}: must hold the number, e.g. {DEFAULT_PATTERNS[facts.scenario]!r}")
    if not 1 <= facts.count <= MAX_FLEET:
        raise UsageError(f"--count {facts.count}: from 1 to {MAX_FLEET}")

    first, last = fill_number(pattern, 1), fill_number(pattern, facts.count)
    if not ENTRY_NAME.match(first):
        raise UsageError(f"--pattern {pattern}: a name is letters, digits, '.', '_' or '-'")
    return {"pattern": pattern, "count": facts.count, "first": first, "last": last}


def check(text: str, where: Path) -> None:
    """The written recipe must load: a template or option mistake is ours to catch, not the user's."""
    from ..recipe.load import parse_recipe

    parse_recipe(text, where)

"""Any text in any field of the `nanomq:` section (hypothesis): refused with exit 2 and the field's path,
or rendered into files that read back — pyhocon for NanoMQ and EMQX, a strict line parser for mosquitto
(one known directive a line, the words expected) — with exactly the values given and nothing extra."""

from __future__ import annotations

import copy

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pyhocon import ConfigFactory

from ..helpers import SMALL_RECIPE, cli, examples

BASE = yaml.safe_load(SMALL_RECIPE)
BASE["nanomq"] = {
    "cert_dir": "/etc/certs",
    "listener": {"bind": "0.0.0.0:8883"},
    "bridge": {
        "host": "broker.example.com",
        "clientid": "edge-1",
        "keepalive": "60s",
        "forwards": [{"remote_topic": "cloud/up", "local_topic": "edge/up"}],
        "subscription": [{"remote_topic": "cloud/down", "local_topic": "edge/down", "qos": 1}],
    },
}
FIELDS = [
    ("cert_dir",),
    ("listener", "bind"),
    ("bridge", "name"),
    ("bridge", "host"),
    ("bridge", "port"),
    ("bridge", "clientid"),
    ("bridge", "keepalive"),
    ("bridge", "forwards", 0, "remote_topic"),
    ("bridge", "forwards", 0, "local_topic"),
    ("bridge", "subscription", 0, "remote_topic"),
    ("bridge", "subscription", 0, "local_topic"),
]
MOSQUITTO_DIRECTIVES = {
    "listener": None,
    "cafile": 1,
    "certfile": 1,
    "keyfile": 1,
    "require_certificate": 1,
    "use_identity_as_username": 1,
    "connection": 1,
    "address": 1,
    "bridge_protocol_version": 1,
    "remote_clientid": 1,
    "cleansession": 1,
    "keepalive_interval": 1,
    "bridge_cafile": 1,
    "bridge_certfile": 1,
    "bridge_keyfile": 1,
    "bridge_insecure": 1,
    "topic": 5,
}  # directive → words after it (None: one or two)
PATH_DIRECTIVES = {"cafile", "certfile", "keyfile", "bridge_cafile", "bridge_certfile", "bridge_keyfile"}
hostile = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            'a"b',
            "a\\b",
            "a\nallow_anonymous true",
            "${HOME}",
            "a#b",
            "a b",
            "+",
            "#",
            "x}",
            "{",
            "\u2028",
            "1 minute",
            "-1",
            "0",
            "99999",
            "::1",
            "[::1]:1",
            "host:1",
            "/etc/certs\nx",
            "/ok dir",
            "",
            " ",
            "é/ü",
        ]
    ),
    st.integers(min_value=-5, max_value=70000),
)


def path_text(where: tuple) -> str:
    text = "nanomq"
    for part in where:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def read_mosquitto(text: str) -> list[list[str]]:
    """mosquitto's configuration as its parser sees it: a known directive a line, with its words."""
    lines = []
    for raw in text.splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        directive, _, rest = raw.partition(" ")
        # a file directive takes the rest of the line (spaces included: checked with mosquitto 2.0.11)
        words = [directive, rest] if directive in PATH_DIRECTIVES else raw.split(" ")
        expected = MOSQUITTO_DIRECTIVES.get(words[0], 0)
        assert expected != 0, f"unknown directive {words[0]!r} in {raw!r}"
        assert (len(words) - 1 in (1, 2)) if expected is None else (len(words) - 1 == expected), raw
        lines.append(words)
    return lines


@settings(max_examples=examples(50))
@given(where=st.sampled_from(FIELDS), value=hostile)
def test_any_value_in_the_nanomq_section_is_refused_or_reads_back_exactly(tmp_path, where, value):
    recipe = copy.deepcopy(BASE)
    parent = recipe["nanomq"]
    for part in where[:-1]:
        parent = parent[part]
    parent[where[-1]] = value
    path = tmp_path / "recipes.yaml"
    path.write_text(yaml.safe_dump(recipe, allow_unicode=True), encoding="utf-8")
    rendered = {broker: cli("conf", broker, "--recipe", str(path)) for broker in ("nanomq", "emqx", "mosquitto")}
    codes = {result.code for result in rendered.values()}
    assert codes <= {0, 2} and len(codes) == 1, rendered  # the recipe is good for every broker or for none
    if codes == {2}:
        assert path_text(where) in rendered["nanomq"].stderr, rendered["nanomq"]
        assert "Traceback" not in rendered["nanomq"].output
        return
    section = yaml.safe_load(path.read_text())["nanomq"]
    bridge_spec = section["bridge"]
    name = bridge_spec.get("name", "emqx1")
    nanomq = ConfigFactory.parse_string(rendered["nanomq"].stdout)
    assert set(nanomq) == {"listeners", "bridges"} and set(nanomq["bridges.mqtt"]) == {name}
    bridge = nanomq["bridges.mqtt"][name]
    assert set(bridge) == {"server", "proto_ver", "clientid", "keepalive", "clean_start", "forwards", "subscription", "ssl"}
    assert bridge["server"] == f"tls+mqtt-tcp://{bridge_spec['host']}:{bridge_spec.get('port', 8883)}"
    assert bridge["clientid"] == bridge_spec["clientid"]
    assert [dict(f) for f in bridge["forwards"]] == bridge_spec["forwards"]
    assert [dict(s) for s in bridge["subscription"]] == bridge_spec["subscription"]
    assert nanomq["listeners.ssl.bind"] == section["listener"]["bind"]
    assert nanomq["listeners.ssl.certfile"] == f"{section['cert_dir']}/server.pem"
    emqx = ConfigFactory.parse_string(rendered["emqx"].stdout)
    assert emqx["listeners.ssl.default.ssl_options.keyfile"] == f"{section['cert_dir']}/server.key"
    words = read_mosquitto(rendered["mosquitto"].stdout)
    by_directive = {line[0]: line[1:] for line in words}
    assert by_directive["connection"] == [name] and by_directive["remote_clientid"] == [bridge_spec["clientid"]]
    assert by_directive["address"] == [f"{bridge_spec['host']}:{bridge_spec.get('port', 8883)}"]
    assert by_directive["bridge_certfile"] == [f"{section['cert_dir']}/client.pem"]
    topics = [line[1:] for line in words if line[0] == "topic"]
    forward, subscription = bridge_spec["forwards"][0], bridge_spec["subscription"][0]
    assert topics == [
        ['""', "out", "1", forward["local_topic"], forward["remote_topic"]],
        ['""', "in", "1", subscription["local_topic"], subscription["remote_topic"]],
    ]

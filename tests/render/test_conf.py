"""conf: NanoMQ / EMQX HOCON that parses back exactly, --into that touches only its blocks, and the
mosquitto configuration used for real (a two-way listener, and a bridge that carries a message)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pyhocon import ConfigFactory

from ..helpers import SMALL_RECIPE, cli, write_recipe

DATA = Path(__file__).parent.parent / "data"
HOSTILE_PASSWORD = 'p"a$s#w o{r}d ${HOME} // x'  # no backslash: NanoMQ cannot read one (test_nanomq.py)

BRIDGE = """\
nanomq:
  cert_dir: /etc/certs
  bridge:
    host: broker.example.com
    clientid: edge-01
    forwards: [{remote_topic: fwd/topic1, local_topic: topic1}]
    subscription: [{remote_topic: cmd/topic1, local_topic: topic3, qos: 1}]
"""


def test_nanomq_conf_for_the_default_recipe_parses_and_uses_absolute_paths(default_pki):
    result = cli("conf", "nanomq", "--recipe", str(default_pki.recipe))
    assert result.code == 0, result
    conf = ConfigFactory.parse_string(result.stdout)
    folder = str(default_pki.folder)
    listener = conf["listeners.ssl"]
    assert listener["keyfile"] == f"{folder}/server.key" and listener["certfile"] == f"{folder}/server.pem"
    assert listener["cacertfile"] == f"{folder}/ca-trust.pem"
    assert listener["verify_peer"] is True and listener["fail_if_no_peer_cert"] is True
    assert "key_password" not in listener  # the key is not encrypted
    # no remote host in the recipe: no bridge block, which would stop NanoMQ at start-up; said on stderr
    assert "bridges" not in conf and "no bridge block: nanomq.bridge has no host" in result.stderr, result
    asked = cli("conf", "nanomq", "--recipe", str(default_pki.recipe), "--block", "bridge")
    assert asked.code == 0 and not asked.stderr, asked
    ssl = ConfigFactory.parse_string(asked.stdout)["bridges.mqtt.emqx1.ssl"]  # the document's ssl block, asked for
    assert dict(ssl) == {
        "keyfile": f"{folder}/client-key.pem",
        "certfile": f"{folder}/client.pem",
        "cacertfile": f"{folder}/ca-trust.pem",
    }
    assert "does NOT verify the remote broker's certificate" in asked.stdout and "TLS 1.2 only" in asked.stdout
    assert "your nanomq.conf must already have" in asked.stdout


def test_a_bridge_block_goes_into_a_file_whose_bridge_has_a_server_and_nowhere_else(default_pki, tmp_path):
    """Without nanomq.bridge.host the ssl section joins a bridge the user's file declares with a server;
    into a file without one, or --out, only the listener is written, and nothing at all is an error."""
    users = tmp_path / "nanomq.conf"
    users.write_text('bridges.mqtt.emqx1 {\n  server = "tls+mqtt-tcp://cloud.example.com:8883"\n}\n')
    into = cli("conf", "nanomq", "--recipe", str(default_pki.recipe), "--into", str(users))
    assert into.code == 0 and not into.stderr, into
    assert "bridges.mqtt.emqx1.ssl {" in users.read_text() and "listeners.ssl {" in users.read_text()
    other = tmp_path / "other.conf"
    other.write_text('bridges.mqtt.another {\n  server = "tls+mqtt-tcp://x:8883"\n}\n# bridges.mqtt.emqx1.server = x\n')
    assert cli("conf", "nanomq", "--recipe", str(default_pki.recipe), "--into", str(other)).code == 0
    assert "bridges.mqtt.emqx1" not in other.read_text().replace("# bridges.mqtt.emqx1.server", "")
    out = tmp_path / "out.conf"
    written = cli("conf", "nanomq", "--recipe", str(default_pki.recipe), "--out", str(out))
    assert written.code == 0 and "no bridge block" in written.stderr and "bridges" not in out.read_text(), written
    clients_only = write_recipe(tmp_path, "ca: {subject: {CN: R}}\nclients:\n  - {name: c, subject: {CN: c}}\n")
    nothing = cli("conf", "nanomq", "--recipe", str(clients_only), "--out", str(tmp_path / "none.conf"))
    assert nothing.code == 2 and "nothing to write: no bridge block" in nothing.stderr, nothing
    assert not (tmp_path / "none.conf").exists()


def test_whole_bridge_block_and_one_way_listener(tmp_path):
    recipe = write_recipe(
        tmp_path, SMALL_RECIPE.split("clients:")[0] + BRIDGE.replace("  bridge:", "  listener: {bind: '0.0.0.0:8884'}\n  bridge:")
    )
    result = cli("conf", "nanomq", "--recipe", str(recipe))
    assert result.code == 0, result
    conf = ConfigFactory.parse_string(result.stdout)
    assert conf["listeners.ssl.verify_peer"] is False and conf["listeners.ssl.fail_if_no_peer_cert"] is False
    assert conf["listeners.ssl.bind"] == "0.0.0.0:8884"
    assert "bridges" not in conf  # no client: no bridge


def test_bridge_with_an_encrypted_key_writes_the_password_only_into_a_0600_file(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE + "    password: {env: CLIENT_PASS}\n" + BRIDGE)
    env = {"CLIENT_PASS": HOSTILE_PASSWORD}
    shown = cli("conf", "nanomq", "--recipe", str(recipe), env=env)
    assert shown.code == 0, shown
    assert HOSTILE_PASSWORD not in shown.output and "# key_password" in shown.stdout
    target = tmp_path / "bridge.conf"
    written = cli("conf", "nanomq", "--recipe", str(recipe), "--out", str(target), env=env)
    assert written.code == 0, written
    assert HOSTILE_PASSWORD not in written.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    conf = ConfigFactory.parse_file(str(target))
    bridge = conf["bridges.mqtt.emqx1"]
    assert bridge["server"] == "tls+mqtt-tcp://broker.example.com:8883"
    assert bridge["clientid"] == "edge-01" and bridge["proto_ver"] == 4
    assert bridge["forwards"][0]["remote_topic"] == "fwd/topic1"
    assert bridge["subscription"][0]["qos"] == 1
    assert bridge["ssl"]["key_password"] == HOSTILE_PASSWORD
    assert bridge["ssl"]["keyfile"] == "/etc/certs/client.key"


def test_into_changes_only_its_blocks_is_idempotent_and_keeps_a_backup(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE + BRIDGE)
    target = tmp_path / "nanomq.conf"
    original = (DATA / "nanomq.conf").read_text()
    target.write_text(original)
    first = cli("conf", "nanomq", "--recipe", str(recipe), "--into", str(target))
    assert first.code == 0, first
    updated = target.read_text()
    assert updated.startswith(original)  # every byte of the user's file is still there, in place
    backups = sorted(tmp_path.glob("nanomq.conf.*.bak"))
    assert [b.read_text() for b in backups] == [original], backups
    conf = ConfigFactory.parse_string(updated)
    assert conf["listeners.tcp.bind"] == "0.0.0.0:1883" and conf["bridges.mqtt.emqx1.ssl.certfile"] == "/etc/certs/client.pem"
    second = cli("conf", "nanomq", "--recipe", str(recipe), "--into", str(target))
    assert second.code == 0 and "already up to date" in second.stdout, second
    assert target.read_text() == updated
    # a changed recipe replaces the block in place; the rest stays byte for byte
    recipe.write_text(recipe.read_text().replace("edge-01", "edge-02"))
    assert cli("conf", "nanomq", "--recipe", str(recipe), "--into", str(target)).code == 0
    again = target.read_text()
    assert again.replace("edge-02", "edge-01") == updated


def test_emqx_listener_parses(default_pki):
    result = cli("conf", "emqx", "--recipe", str(default_pki.recipe))
    assert result.code == 0, result
    ssl = ConfigFactory.parse_string(result.stdout)["listeners.ssl.default.ssl_options"]
    assert ssl["verify"] == "verify_peer" and ssl["fail_if_no_peer_cert"] is True
    assert ssl["certfile"] == f"{default_pki.folder}/server.pem"


def test_unknown_names_are_bad_input(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE + "nanomq:\n  bridge: {client: nobody}\n  listener: {server: ghost}\n")
    result = cli("conf", "nanomq", "--recipe", str(recipe))
    assert result.code == 2, result
    assert "nanomq.bridge.client: 'nobody' is not one of the recipe's clients (client)" in result.stderr
    assert "nanomq.listener.server: 'ghost' is not one of the recipe's servers (server)" in result.stderr

    # the same listener refuses a client without certificate: it really is two-way (checked in test_mosquitto.py too)


@pytest.mark.parametrize("broker", ["nanomq", "mosquitto", "emqx"])
def test_templates_can_be_overridden(tmp_path, default_pki, broker):
    custom = tmp_path / "templates"
    custom.mkdir()
    (custom / f"{broker}.conf.j2").write_text("# custom {{ listener.certfile }}\n")
    result = cli("conf", broker, "--recipe", str(default_pki.recipe), "--templates", str(custom))
    assert result.code == 0 and result.stdout == f"# custom {default_pki.folder}/server.pem\n", result
    (custom / f"{broker}.conf.j2").write_text("{{ no_such_variable }}\n")
    result = cli("conf", broker, "--recipe", str(default_pki.recipe), "--templates", str(custom))
    assert result.code == 2 and "no_such_variable" in result.stderr, result


@pytest.mark.parametrize(
    "bridge, path, reason",
    [
        (
            'forwards: [{remote_topic: "a\\nallow_anonymous true", local_topic: b}]',
            "nanomq.bridge.forwards[0].remote_topic",
            "control characters (U+000A)",
        ),
        ("forwards: [{remote_topic: 'a b', local_topic: b}]", "nanomq.bridge.forwards[0].remote_topic", "holds a space"),
        ("subscription: [{remote_topic: 'cmd/#', local_topic: b}]", "nanomq.bridge.subscription[0].remote_topic", "wildcard"),
        ("forwards: [{remote_topic: '', local_topic: b}]", "nanomq.bridge.forwards[0].remote_topic", "cannot be empty"),
        ("keepalive: soon", "nanomq.bridge.keepalive", "is not a duration"),
        ("keepalive: 100000", "nanomq.bridge.keepalive", "1 to 65535 seconds"),
        ("keepalive: true", "nanomq.bridge.keepalive", "not true/false"),
        ('host: "evil.example.com\\nallow_anonymous true"', "nanomq.bridge.host", "not a DNS name or an IP address"),
        ("host: '::1'", "nanomq.bridge.host", "IPv6"),
        ("clientid: 'edge 1'", "nanomq.bridge.clientid", "a client id is"),
    ],
)
def test_values_that_would_break_a_rendered_file_are_refused_where_they_enter(tmp_path, bridge, path, reason):
    recipe = write_recipe(
        tmp_path,
        SMALL_RECIPE
        + f"nanomq:\n  bridge: {{host: broker.example.com, {bridge}}}\n".replace("host: broker.example.com, host:", "host:"),
    )
    for broker in ("nanomq", "mosquitto"):
        result = cli("conf", broker, "--recipe", str(recipe))
        assert result.code == 2 and path in result.stderr and reason in result.stderr, result


@pytest.mark.parametrize(
    "given, seconds", [("60", 60), ("90s", 90), ("1 minute", 60), ("2m", 120), ("1h", 3600), ("45 seconds", 45)]
)
def test_keepalive_is_parsed_once_into_seconds_for_every_broker(tmp_path, given, seconds):
    recipe = write_recipe(
        tmp_path,
        SMALL_RECIPE
        + f"nanomq:\n  bridge: {{host: broker.example.com, keepalive: '{given}', forwards: [{{remote_topic: a, local_topic: b}}]}}\n",
    )
    nanomq = cli("conf", "nanomq", "--recipe", str(recipe), "--block", "bridge")
    mosquitto_conf = cli("conf", "mosquitto", "--recipe", str(recipe), "--block", "bridge")
    assert ConfigFactory.parse_string(nanomq.stdout)["bridges.mqtt.emqx1.keepalive"].total_seconds() == seconds
    assert f"\nkeepalive_interval {seconds}\n" in mosquitto_conf.stdout


@pytest.mark.parametrize(
    ("markers", "line", "why"),
    [
        ("# BEGIN openssl-recipes bridge\nuser = 1\n", 2, "has no '# END openssl-recipes bridge' after it"),
        ("# END openssl-recipes bridge\n# BEGIN openssl-recipes bridge\n", 2, "without its '# BEGIN openssl-recipes bridge'"),
        ("# BEGIN openssl-recipes bridge\n# BEGIN openssl-recipes listener\n", 3, "inside the block bridge"),
    ],
)
def test_into_refuses_markers_it_cannot_replace_safely_and_changes_nothing(tmp_path, markers, line, why):
    """A BEGIN without its END: the next run took every line after it for the block and deleted them."""
    recipe = write_recipe(tmp_path, SMALL_RECIPE + BRIDGE)
    target = tmp_path / "nanomq.conf"
    original = "system { num_taskq_thread = 2 }\n" + markers + "after = kept\n"
    target.write_text(original)
    refused = cli("conf", "nanomq", "--recipe", str(recipe), "--into", str(target))
    assert refused.code == 2 and f"line {line}: " in refused.stderr and why in refused.stderr, refused
    assert target.read_text() == original and not list(tmp_path.glob("nanomq.conf.*bak"))


def test_into_keeps_every_earlier_version_and_writes_through_a_link_it_was_given(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE + BRIDGE)
    real = tmp_path / "etc" / "nanomq.conf"
    real.parent.mkdir()
    real.write_text("system { num_taskq_thread = 2 }\n")
    link = tmp_path / "nanomq.conf"
    link.symlink_to(real)
    versions = [real.read_text()]
    for clientid in ("edge-02", "edge-03", "edge-04"):  # three runs within one second, each a change
        assert cli("conf", "nanomq", "--recipe", str(recipe), "--into", str(link)).code == 0
        versions.append(real.read_text())
        recipe.write_text(recipe.read_text().replace(f"edge-0{int(clientid[-1]) - 1}", clientid))
    assert link.is_symlink() and link.resolve() == real.resolve()
    kept = {b.read_text() for b in real.parent.glob("nanomq.conf.*.bak")}
    assert set(versions[:-1]) <= kept, (versions, kept)  # no backup overwritten by a later one


def test_a_listener_alone_needs_no_password_of_the_bridge_client(tmp_path):
    """An encrypted client key and no bridge host: the listener is written, and the client's password
    (not resolved: no block of it is written) is not looked up (KeyError, exit 3)."""
    recipe = write_recipe(
        tmp_path, SMALL_RECIPE.replace("    subject: {CN: client}\n", "    subject: {CN: client}\n    password: {env: C_PASS}\n")
    )
    target = tmp_path / "nanomq.conf"
    target.write_text("system { num_taskq_thread = 2 }\n")
    done = cli("conf", "nanomq", "--recipe", str(recipe), "--into", str(target), env={"C_PASS": "secret-pass"})
    assert done.code == 0 and "listeners.ssl" in target.read_text() and "secret-pass" not in target.read_text(), done

"""A real mosquitto broker with the generated certificates and `require_certificate true`."""

from __future__ import annotations

import ssl
import subprocess
import time
from pathlib import Path

import pytest

from ..helpers import DEFAULT_RECIPE, TWO_CLIENTS, cli, foreign_pki, require, write_recipe
from ..peers import free_port, listener_conf, mosquitto


def _client(program: str, port: int, folder, cert: str | None, key: str | None, topic: str) -> list[str]:
    """A mosquitto client's argv to 127.0.0.1:port over TLS with the PKI's CA (and a client certificate)."""
    args = [require(program), "-h", "127.0.0.1", "-p", str(port), "--cafile", str(folder / "ca.pem")]
    if cert:
        args += ["--cert", str(folder / cert), "--key", str(folder / key)]
    return [*args, "-t", topic]


def pub(port: int, folder, cert: str | None, key: str | None, topic: str, message: str, retain: bool = True):
    args = [*_client("mosquitto_pub", port, folder, cert, key, topic), "-m", message, "-q", "1", *(["-r"] if retain else [])]
    return subprocess.run(args, capture_output=True, text=True, timeout=20)


def sub_one(port: int, folder, cert: str, key: str, topic: str, wait: int = 10):
    args = [*_client("mosquitto_sub", port, folder, cert, key, topic), "-C", "1", "-W", str(wait)]
    return subprocess.run(args, capture_output=True, text=True, timeout=20)


@pytest.fixture
def broker(default_pki, tmp_path):
    port = free_port()
    folder = default_pki.folder
    conf = listener_conf(port, folder / "ca.pem", folder / "server.pem", folder / "server.key")
    with mosquitto(conf, tmp_path, [port]) as running:
        yield port, folder, running


def test_client_certificate_publishes_and_receives(broker):
    port, folder, _running = broker
    sent = pub(port, folder, "client.pem", "client-key.pem", "recipes/test", "hello over mTLS")
    assert sent.returncode == 0, sent.stderr
    got = sub_one(port, folder, "client.pem", "client-key.pem", "recipes/test")
    assert got.returncode == 0, got.stderr
    assert got.stdout.strip() == "hello over mTLS"


def test_client_without_certificate_is_refused(broker):
    port, folder, running = broker
    refused = pub(port, folder, None, None, "recipes/anon", "should not arrive")
    assert refused.returncode != 0, refused  # the client's words vary with the moment TLS 1.3 says it
    assert running.wait_for_log("peer did not return a certificate"), running.log.read_text()  # why: the broker says
    got = sub_one(port, folder, "client.pem", "client-key.pem", "recipes/anon", wait=2)
    assert got.stdout.strip() != "should not arrive"


def test_client_with_a_foreign_certificate_is_refused(broker, tmp_path):
    port, folder, running = broker
    foreign = foreign_pki(tmp_path)  # (absolute paths: `folder /` leaves them as they are)
    refused = pub(port, folder, str(foreign / "client.pem"), str(foreign / "client.key"), "recipes/foreign", "intruder")
    assert refused.returncode != 0, refused
    assert running.wait_for_log("certificate verify failed"), running.log.read_text()
    got = sub_one(port, folder, "client.pem", "client-key.pem", "recipes/foreign", wait=2)
    assert got.stdout.strip() != "intruder"


def mosquitto_sub(port: int, folder: Path, topic: str, tls: bool = True) -> subprocess.Popen:
    args = [require("mosquitto_sub"), "-h", "127.0.0.1", "-p", str(port), "-t", topic, "-C", "1", "-W", "20"]
    if tls:
        args += [
            "--cafile",
            str(folder / "ca.pem"),
            "--cert",
            str(folder / "client.pem"),
            "--key",
            str(folder / "client-key.pem"),
        ]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_rendered_mosquitto_listener_and_bridge_carry_a_message(tmp_path):
    """Broker A: the rendered two-way TLS listener. Broker B: plain local listener + the rendered
    bridge (client certificate) to A. A message published on B arrives at a subscriber on A."""
    port_a, port_b = free_port(), free_port()
    text = DEFAULT_RECIPE.read_text() + (
        "nanomq:\n"
        f"  listener: {{bind: '127.0.0.1:{port_a}'}}\n"
        f"  bridge: {{name: edge, host: 127.0.0.1, port: {port_a}, clientid: edge-bridge,\n"
        "            forwards: [{remote_topic: remote/in, local_topic: edge/out}]}\n"
    )
    recipe = write_recipe(tmp_path, text)
    assert (built := cli("build", "--recipe", str(recipe))).code == 0, built
    folder = tmp_path / "certs"
    listener = cli("conf", "mosquitto", "--recipe", str(recipe), "--block", "listener")
    bridge = cli("conf", "mosquitto", "--recipe", str(recipe), "--block", "bridge")
    assert listener.code == 0 and bridge.code == 0, (listener, bridge)
    assert f"listener {port_a} 127.0.0.1" in listener.stdout and "require_certificate true" in listener.stdout
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with mosquitto(listener.stdout + "allow_anonymous true\n", tmp_path / "a", [port_a]):
        with mosquitto(f"listener {port_b} 127.0.0.1\nallow_anonymous true\n" + bridge.stdout, tmp_path / "b", [port_b]) as local:
            receiver = mosquitto_sub(port_a, folder, "remote/in")
            try:
                deadline = time.monotonic() + 20
                while receiver.poll() is None and time.monotonic() < deadline:
                    subprocess.run(
                        [
                            require("mosquitto_pub"),
                            "-h",
                            "127.0.0.1",
                            "-p",
                            str(port_b),
                            "-t",
                            "edge/out",
                            "-m",
                            "crossed the bridge",
                            "-q",
                            "1",
                        ],
                        capture_output=True,
                        timeout=10,
                    )
                    time.sleep(0.5)
                out, err = receiver.communicate(timeout=25)
            finally:
                if receiver.poll() is None:
                    receiver.kill()
            assert local.proc.poll() is None
    assert out.strip() == "crossed the bridge", err


def test_revoking_twice_is_a_clear_error_and_mosquitto_gets_the_crl(tmp_path, copy_pki):
    import socket

    from openssl_recipes.check import mqtt

    pki = copy_pki(TWO_CLIENTS)
    recipe, folder = pki.recipe, pki.folder
    assert cli("revoke", "client", "--recipe", str(recipe)).code == 0
    again = cli("revoke", "client", "--recipe", str(recipe))
    assert again.code == 2 and "client.pem is already revoked; crl.pem lists it" in again.stderr, again
    assert "ERROR:" not in again.output
    shown = cli("show", "client", "short", "--recipe", str(recipe))
    assert shown.code == 0 and shown.stdout.count("REVOKED") == 1, shown
    assert "REVOKED   on " in shown.stdout.split("short.pem")[0]  # in client's block, not short's
    port = free_port()
    recipe.write_text(TWO_CLIENTS + f"nanomq: {{listener: {{bind: '127.0.0.1:{port}'}}}}\n")
    listener = cli("conf", "mosquitto", "--recipe", str(recipe), "--block", "listener")
    assert listener.code == 0 and f"\ncrlfile {folder}/crl.pem\n" in listener.stdout, listener
    outcomes = {}
    (tmp_path / "mosquitto").mkdir()
    with mosquitto(listener.stdout + "allow_anonymous true\n", tmp_path / "mosquitto", [port]):
        for name in ("client", "short"):
            context = ssl.create_default_context(cafile=str(folder / "ca.pem"))
            context.load_cert_chain(folder / f"{name}.pem", folder / f"{name}.key")
            try:
                with (
                    socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
                    context.wrap_socket(raw, server_hostname="localhost") as tls,
                ):
                    session = mqtt.Client(tls, 10)
                    session.connect(f"crl-{name}")
                    session.leave()
                outcomes[name] = "accepted"
            except (ssl.SSLError, OSError, mqtt.MQTTError) as exc:
                outcomes[name] = f"refused: {exc}"
    assert outcomes["short"] == "accepted" and outcomes["client"].startswith("refused"), outcomes

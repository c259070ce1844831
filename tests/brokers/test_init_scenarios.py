"""The first ten minutes: for each scenario `init` offers, the files `conf nanomq --out` and `conf mosquitto
--out` write start their broker as they are (the test adds only its own ports: NanoMQ's system, tcp and
wss lines; mosquitto's `user root` and no persistence), log no error, and take a client of the recipe.
The recipe's listener is moved onto a free 127.0.0.1 port (everything here binds loopback). A one-way
listener does not identify clients, and its file says so: mosquitto 2 takes them once the user allows
anonymous clients (or gives a password file), which the test does for that scenario alone."""

from __future__ import annotations

import contextlib
import re
import ssl
from pathlib import Path

import pytest

from openssl_recipes.check.nanomq.broker import CONNACK_RACE, free_ports, harness_conf, running_nanomq

from ..helpers import cli
from ..peers import listener_conf, mosquitto, nanomq_binary, root_user_line
from .test_nanomq import RACE_ATTEMPTS, WAIT, assert_healthy, client_context, mqtt_into, mqtt_over_tls

SCENARIOS = {
    "two-way": ["--server", "localhost", "--server", "127.0.0.1", "--client", "sensor-1"],
    "one-way": ["--server", "localhost", "--server", "127.0.0.1"],
    "fleet": ["--server", "localhost", "--count", "3", "--pattern", "dev-{n:02d}"],
    "bridge": ["--server", "127.0.0.1", "--server", "localhost", "--client", "edge"],  # and --remote 127.0.0.1:PORT
}


def made(folder: Path, scenario: str, listen: int, far: int) -> tuple[Path, Path | None]:
    """The scenario's recipe (written by init, its listener moved to 127.0.0.1:listen) built: (certs
    folder, the client's certificate or None for one-way)."""
    folder.mkdir(parents=True)
    remote = ["--remote", f"127.0.0.1:{far}"] if scenario == "bridge" else []
    written = cli("init", scenario, *SCENARIOS[scenario], *remote, cwd=folder)
    assert written.code == 0, written
    recipe = folder / "recipes.yaml"
    text = recipe.read_text()
    bind = f"bind: 127.0.0.1:{listen}"
    text = (
        text.replace("bind: 0.0.0.0:8883", bind)
        if scenario != "bridge"
        else text.replace("  bridge:\n", f"  listener: {{{bind}}}\n  bridge:\n")
    )
    assert bind in text, text
    recipe.write_text(text)
    built = cli("build", "--recipe", str(recipe))
    assert built.code == 0, built
    certs = folder / "certs"
    clients = sorted(p.name for p in certs.glob("*.pem") if p.name not in ("ca.pem", "ca-trust.pem", "server.pem"))
    return certs, (certs / clients[0] if clients else None)


def rendered(folder: Path, broker: str) -> str:
    out = folder / f"{broker}-tls.conf"
    result = cli("conf", broker, "--recipe", str(folder / "recipes.yaml"), "--out", str(out))
    assert result.code == 0, result
    return out.read_text()


@contextlib.contextmanager
def far_end(scenario: str, certs: Path, port: int, folder: Path):
    """The bridge scenario's remote broker: a mosquitto with the recipe's server certificate, requiring
    client certificates from its CA (the test's own, not a file under test)."""
    if scenario != "bridge":
        yield
        return
    folder.mkdir(exist_ok=True)
    with mosquitto(listener_conf(port, certs / "ca.pem", certs / "server.pem", certs / "server.key"), folder, [port]):
        yield


def without_the_readiness_check(log: str) -> list[str]:
    """mosquitto's log without what the test's own readiness check leaves in it: a TCP connection closed
    before any TLS ("unexpected eof while reading", then maybe "Client <unknown> disconnected")."""
    kept, after_probe = [], False
    for line in log.splitlines():
        if "unexpected eof while reading" in line:
            after_probe = True
        elif not (after_probe and "Client <unknown> disconnected" in line):
            kept.append(line)
            after_probe = after_probe and "New connection" not in line
    return kept


def identity(certs: Path, client: Path | None) -> ssl.SSLContext:
    key = client.with_suffix(".key") if client else None
    return client_context(certs / "ca.pem", client, key)


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_each_scenarios_nanomq_file_starts_nanomq_as_written(tmp_path, scenario):
    binary = nanomq_binary()
    for attempt in range(1, RACE_ATTEMPTS + 1):  # NanoMQ's own CONNACK race: tried again only after its line
        folder = tmp_path / f"attempt-{attempt}"
        tcp, wss, listen, far = free_ports(4)
        certs, client = made(folder, scenario, listen, far)
        blocks = rendered(folder, "nanomq")
        assert ("bridges.mqtt." in blocks) == (scenario == "bridge"), blocks  # a bridge only with its server
        with (
            far_end(scenario, certs, far, folder / "far"),
            running_nanomq(binary, harness_conf(tcp, wss) + blocks, folder / "nanomq", [tcp, listen]) as broker,
        ):
            outcome = mqtt_into(broker, listen, identity(certs, client), "localhost")
            if scenario == "bridge":
                assert broker.wait_for_log(f"Bridge [tls+mqtt-tcp://127.0.0.1:{far}] connected!", WAIT), broker.tail(30)
            raced = any(CONNACK_RACE in line for line in broker.log())
            if outcome.startswith("connected") or not raced or attempt == RACE_ATTEMPTS:
                assert outcome.startswith("connected"), (outcome, broker.tail(30))
                assert_healthy(broker)
                return


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_each_scenarios_mosquitto_file_starts_mosquitto_as_written(tmp_path, scenario):
    listen, far = free_ports(2)
    certs, client = made(tmp_path / "pki", scenario, listen, far)
    text = rendered(tmp_path / "pki", "mosquitto")
    if scenario == "one-way":
        assert "refuses them without `allow_anonymous true`" in text, text
        text += "allow_anonymous true\n"
    with far_end(scenario, certs, far, tmp_path / "far"), mosquitto(text, tmp_path, [listen]) as broker:
        outcome = mqtt_over_tls(listen, identity(certs, client), "localhost")
        assert outcome.startswith("connected"), (outcome, broker.log.read_text())
        if client is not None:  # known by its certificate
            assert broker.wait_for_log(f"u'{client.stem}'", WAIT), broker.log.read_text()
        if scenario == "bridge":
            assert broker.wait_for_log("Connecting bridge", WAIT), broker.log.read_text()
    errors = [line for line in without_the_readiness_check(broker.log.read_text()) if re.search(r"\berror\b", line, re.I)]
    assert not errors, broker.log.read_text()
    assert root_user_line() in broker.log.parent.joinpath(f"mosquitto-{listen}.conf").read_text()

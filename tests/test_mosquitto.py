"""A real mosquitto broker with the generated certificates and `require_certificate true`."""

from __future__ import annotations

import subprocess

import pytest

from .brokers import free_port, listener_conf, mosquitto
from .helpers import foreign_pki, require

pytestmark = pytest.mark.slow  # real brokers, many builds or killed builds: `make test-fast` skips it


def pub(port: int, folder, cert: str | None, key: str | None, topic: str, message: str, retain: bool = True):
    args = [
        require("mosquitto_pub"),
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "--cafile",
        str(folder / "ca.pem"),
        "-t",
        topic,
        "-m",
        message,
        "-q",
        "1",
    ]
    if retain:
        args.append("-r")
    if cert:
        args += ["--cert", str(folder / cert), "--key", str(folder / key)]
    return subprocess.run(args, capture_output=True, text=True, timeout=20)


def sub_one(port: int, folder, cert: str, key: str, topic: str, wait: int = 10):
    args = [
        require("mosquitto_sub"),
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "--cafile",
        str(folder / "ca.pem"),
        "--cert",
        str(folder / cert),
        "--key",
        str(folder / key),
        "-t",
        topic,
        "-C",
        "1",
        "-W",
        str(wait),
    ]
    return subprocess.run(args, capture_output=True, text=True, timeout=20)


@pytest.fixture
def broker(default_pki, tmp_path):
    port = free_port()
    folder = default_pki.folder
    conf = listener_conf(port, folder / "ca.pem", folder / "server.pem", folder / "server.key")
    with mosquitto(conf, tmp_path, [port]):
        yield port, folder


def test_client_certificate_publishes_and_receives(broker):
    port, folder = broker
    sent = pub(port, folder, "client.pem", "client-key.pem", "recipes/test", "hello over mTLS")
    assert sent.returncode == 0, sent.stderr
    got = sub_one(port, folder, "client.pem", "client-key.pem", "recipes/test")
    assert got.returncode == 0, got.stderr
    assert got.stdout.strip() == "hello over mTLS"


def test_client_without_certificate_is_refused(broker):
    port, folder = broker
    refused = pub(port, folder, None, None, "recipes/anon", "should not arrive")
    assert refused.returncode != 0
    got = sub_one(port, folder, "client.pem", "client-key.pem", "recipes/anon", wait=2)
    assert got.stdout.strip() != "should not arrive"


def test_client_with_a_foreign_certificate_is_refused(broker, tmp_path):
    port, folder = broker
    foreign = foreign_pki(tmp_path)
    args = [
        require("mosquitto_pub"),
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "--cafile",
        str(folder / "ca.pem"),
        "--cert",
        str(foreign / "client.pem"),
        "--key",
        str(foreign / "client.key"),
        "-t",
        "recipes/foreign",
        "-m",
        "intruder",
        "-q",
        "1",
        "-r",
    ]
    refused = subprocess.run(args, capture_output=True, text=True, timeout=20)
    assert refused.returncode != 0
    got = sub_one(port, folder, "client.pem", "client-key.pem", "recipes/foreign", wait=2)
    assert got.stdout.strip() != "intruder"

"""Edge sites end to end: three NanoMQ sites, each installed from its own bundle by the shipped Ansible
playbook (three local "hosts", each with its own root folder), bridging over mutual TLS to a real
mosquitto configured by `conf mosquitto --acl`. The test rewrites only ports, the cloud's address and
the root the bundle was copied to."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from openssl_recipes.check.nanomq.broker import CONNACK_RACE, running_nanomq

from ..helpers import cli, foreign_pki, require, tree, write_recipe
from ..peers import free_port, mosquitto, nanomq_binary

SITES = """\
output: certs
defaults: {subject: {O: Edge}}
ca: {subject: {CN: Edge CA}}
servers:
  - {name: cloud, subject: {CN: localhost}, san: [localhost, 127.0.0.1]}
  - {name: 'gw-{n:03d}', count: 3, san: [localhost]}
clients:
  - {name: 'site-{n:03d}', count: 3, password: {file: 'secrets/{n}.pass'}}
  - {name: cloud-app}
nanomq:
  cert_dir: /etc/nanomq/certs
  listener: {server: 'gw-{n:03d}'}
  bridge:
    client: 'site-{n:03d}'
    host: cloud.example.com
    forwards: [{remote_topic: 'sites/{name}/up', local_topic: up, qos: 1}]
    subscription: [{remote_topic: 'sites/{name}/down', local_topic: down}]
"""
NAMES = ["site-001", "site-002", "site-003"]
ROOT_CERTS = "/etc/nanomq/certs"


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sites")
    (folder / "secrets").mkdir()
    for n in (1, 2, 3):
        (folder / "secrets" / f"{n}.pass").write_text(f"pass-of-site-{n}-{os.urandom(4).hex()}\n")
    recipe = write_recipe(folder, SITES)
    assert cli("build", "--recipe", str(recipe)).code == 0
    made = cli("bundle", "--recipe", str(recipe), "--playbook", str(folder / "deploy"))
    assert made.code == 0, made
    assert "does not check the cloud's certificate" in made.stderr
    return folder, recipe


def test_no_bundle_holds_another_sites_key_or_password(sites):
    folder, _recipe = sites
    bundles = {name: tree(folder / "bundles" / name) for name in NAMES}
    for name, files in bundles.items():
        n = int(name[-3:])
        everything = b"".join(files.values())
        own_password = (folder / "secrets" / f"{n}.pass").read_text().strip().encode()
        assert own_password in files["etc/nanomq.conf"]
        for other in NAMES:
            if other == name:
                continue
            m = int(other[-3:])
            assert (folder / "certs" / f"{other}.key").read_bytes() not in everything
            assert (folder / "certs" / f"gw-{m:03d}.key").read_bytes() not in everything
            assert (folder / "secrets" / f"{m}.pass").read_text().strip().encode() not in everything
        assert sorted(files) == sorted(
            [
                f"etc/nanomq/certs/{f}"
                for f in ("ca-trust.pem", f"{name}.key", f"{name}.pem", f"gw-{n:03d}.key", f"gw-{n:03d}.pem")
            ]
            + ["etc/nanomq.conf"]
        )
        assert (folder / "bundles" / name / "etc/nanomq/certs" / f"{name}.key").stat().st_mode & 0o777 == 0o600
        assert (folder / "bundles" / name / "etc/nanomq.conf").stat().st_mode & 0o777 == 0o600  # it holds the password


def _play(folder: Path, roots: Path) -> subprocess.CompletedProcess:
    inventory = {
        "all": {
            "hosts": {
                name: {
                    "ansible_connection": "local",
                    "ansible_python_interpreter": sys.executable,
                    "site_root": str(roots / name),
                    "nanomq_restart_command": f"touch {roots / name}.restarted",
                }
                for name in NAMES
            }
        }
    }
    (folder / "inventory.json").write_text(json.dumps(inventory))
    playbook = folder / "deploy" / "install-bundles.yml"
    env = {
        **os.environ,
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_LOCAL_TEMP": str(folder / ".ansible-tmp"),
        "ANSIBLE_HOME": str(folder / ".ansible"),
    }
    command = [str(Path(sys.executable).with_name("ansible-playbook")), "-i", str(folder / "inventory.json"), str(playbook)]
    return subprocess.run(
        [*command, "-e", f"bundles={folder / 'bundles'}", "-e", "batch=2"], capture_output=True, text=True, env=env, timeout=300
    )


def _recap(output: str) -> dict[str, dict[str, int]]:
    found = {}
    for line in output.splitlines():
        if match := re.match(r"^(site-\d+)\s+:\s+(.*)$", line):
            found[match.group(1)] = {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", match.group(2))}
    return found


def _site_conf(root: Path, ports: dict[str, int], cloud_port: int) -> str:
    """The site's nanomq.conf as installed, with only ports, the cloud's address and its root changed."""
    text = (root / "etc/nanomq.conf").read_text()
    text = text.replace(f'"{ROOT_CERTS}/', f'"{root}{ROOT_CERTS}/')
    text = text.replace('"0.0.0.0:1883"', f'"127.0.0.1:{ports["tcp"]}"').replace('"0.0.0.0:8883"', f'"127.0.0.1:{ports["tls"]}"')
    text = text.replace('"0.0.0.0:8086"', f'"127.0.0.1:{ports["wss"]}"')
    return text.replace("tls+mqtt-tcp://cloud.example.com:8883", f"tls+mqtt-tcp://127.0.0.1:{cloud_port}")


def _client(program: str, port: int, certs: Path, name: str | None, topic: str, key: Path | None = None) -> list[str]:
    args = [require(program), "-h", "127.0.0.1", "-p", str(port), "-t", topic]
    if name is not None:
        key = key or certs / f"{name}.key"
        args += ["--cafile", str(certs / "ca.pem"), "--cert", str(certs / f"{name}.pem"), "--key", str(key)]
    return args


def _subscriber(port: int, certs: Path, topic: str, wait: int) -> subprocess.Popen:
    """The cloud's own application (cloud-app) waiting for one message on `topic`, printed with its topic."""
    args = [*_client("mosquitto_sub", port, certs, "cloud-app", topic), "-v", "-C", "1", "-W", str(wait)]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _plain_key(folder: Path, name: str, n: int, into: Path) -> Path:
    """The site's key without its password, for mosquitto_pub (which would ask for it)."""
    from cryptography.hazmat.primitives import serialization

    password = (folder / "secrets" / f"{n}.pass").read_text().strip().encode()
    key = serialization.load_pem_private_key((folder / "certs" / f"{name}.key").read_bytes(), password)
    plain = into / f"{name}-plain.key"
    plain.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    plain.chmod(0o600)
    return plain


def test_the_playbook_installs_each_bundle_and_each_site_bridges_to_the_cloud_under_its_own_name(sites, tmp_path):
    folder, recipe = sites
    roots = tmp_path / "roots"
    for name in NAMES:
        (roots / name).mkdir(parents=True)
    outside = [Path("/etc/nanomq.conf"), Path(ROOT_CERTS)]
    before = [path.exists() for path in outside]
    first = _play(folder, roots)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-2000:]
    assert [path.exists() for path in outside] == before  # the inventory's root, not this machine's /
    recap = _recap(first.stdout)
    assert sorted(recap) == NAMES and all(r["failed"] == 0 and r["changed"] > 0 for r in recap.values()), first.stdout[-2000:]
    for name in NAMES:  # each root holds exactly its site's bundle, with its modes
        assert tree(roots / name) == tree(folder / "bundles" / name), name
        installed = roots / name / "etc/nanomq/certs" / f"{name}.key"
        assert installed.stat().st_mode & 0o777 == 0o600
        assert Path(f"{roots / name}.restarted").exists()  # the handler ran where something changed
        Path(f"{roots / name}.restarted").unlink()
    second = _play(folder, roots)
    assert second.returncode == 0, second.stdout[-3000:]
    assert all(r["changed"] == 0 for r in _recap(second.stdout).values()), second.stdout[-2000:]
    assert not any(Path(f"{roots / name}.restarted").exists() for name in NAMES)  # nothing changed: no restart

    certs = folder / "certs"
    cloud_port = free_port()
    acl = folder / "cloud.acl"
    listener = cli("conf", "mosquitto", "--recipe", str(recipe), "--block", "listener", "--acl", str(acl))
    assert listener.code == 0, listener
    cloud_conf = listener.stdout.replace("listener 8883", f"listener {cloud_port} 127.0.0.1").replace(ROOT_CERTS, str(certs))
    assert "pattern write sites/%u/up" in acl.read_text() and "use_identity_as_username true" in cloud_conf
    with mosquitto(cloud_conf, tmp_path, [cloud_port]) as cloud:
        for name in NAMES:
            _site_reaches_the_cloud(roots / name, name, cloud, cloud_port, certs, tmp_path)
        _a_site_cannot_publish_under_another_sites_name(cloud, cloud_port, certs, _plain_key(folder, "site-001", 1, tmp_path))
        refused = subprocess.run(
            [*_client("mosquitto_pub", cloud_port, foreign_pki(tmp_path), "client", "sites/site-001/up"), "-m", "x"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert refused.returncode != 0  # a certificate of another CA: the cloud refuses the handshake


def _site_reaches_the_cloud(root: Path, name: str, cloud, cloud_port: int, certs: Path, tmp_path: Path) -> None:
    """Start NanoMQ from the site's root; its message published locally arrives at the cloud under
    sites/<name>/up. NanoMQ's own TLS race (its log line) is retried on a fresh broker."""
    for attempt in range(3):
        ports = {"tcp": free_port(), "tls": free_port(), "wss": free_port()}
        receiver = _subscriber(cloud_port, certs, "sites/+/up", 30)
        try:
            assert cloud.wait_for_log("sites/+/up", 10 * (attempt + 1)), "the cloud's subscriber did not subscribe"
            with running_nanomq(
                nanomq_binary(), _site_conf(root, ports, cloud_port), tmp_path / f"run-{name}-{attempt}", [ports["tcp"]]
            ) as site:
                assert cloud.wait_for_log(f"as {name} ", 20), f"{name} never connected to the cloud:\n{site.tail()}"
                deadline = time.monotonic() + 20
                while receiver.poll() is None and time.monotonic() < deadline and site.alive():
                    subprocess.run(
                        [*_client("mosquitto_pub", ports["tcp"], certs, None, "up"), "-m", f"hello from {name}", "-q", "1"],
                        timeout=10,
                    )
                    try:
                        receiver.wait(timeout=0.5)
                    except subprocess.TimeoutExpired:
                        pass
                raced = any(CONNACK_RACE in line for line in site.log())
                assert site.problems() == [] or raced, site.tail()
        finally:
            if receiver.poll() is None:
                receiver.kill()
            out, err = receiver.communicate()
        if out.strip() == f"sites/{name}/up hello from {name}":
            return
        if not raced:
            break
    pytest.fail(f"{name}'s message did not arrive under sites/{name}/up: {out!r} {err!r}")


def _a_site_cannot_publish_under_another_sites_name(cloud, cloud_port: int, certs: Path, key: Path) -> None:
    """site-001's certificate publishes to sites/site-002/up, then to its own sites/site-001/up, once the
    cloud's subscriber is subscribed: the first message the subscriber gets is the second one (the cloud
    takes them in order, each acknowledged before the next is sent), so the first never came."""
    receiver = _subscriber(cloud_port, certs, "sites/#", 20)
    try:
        assert cloud.wait_for_log("sites/# (QoS", 20), "the cloud's subscriber did not subscribe"
        for topic in ("sites/site-002/up", "sites/site-001/up"):
            done = subprocess.run(
                [*_client("mosquitto_pub", cloud_port, certs, "site-001", topic, key), "-m", topic, "-q", "1"],
                capture_output=True,
                timeout=10,
            )
            assert done.returncode == 0, done.stderr
        receiver.wait(timeout=20)
    finally:
        if receiver.poll() is None:
            receiver.kill()
        out, _err = receiver.communicate()
    assert out.strip() == "sites/site-001/up sites/site-001/up", out


def test_handshake_runs_one_sites_blocks_in_a_real_nanomq(sites):
    _folder, recipe = sites
    said = cli("handshake", "--recipe", str(recipe), "--nanomq", nanomq_binary(), "--site", "site-002")
    assert said.code == 0, said
    assert "forward up → sites/site-002/up: accepted" in said.stdout
    assert "subscription sites/site-002/down → down: accepted" in said.stdout
    assert "site-002 → NanoMQ listener (gw-002)" in said.stdout
    refused = cli("handshake", "--recipe", str(recipe), "--nanomq", nanomq_binary(), "--site", "site-009")
    assert refused.code == 2 and "no site named 'site-009'" in refused.stderr, refused

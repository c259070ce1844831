"""A CA rotation with the real brokers: a mosquitto cloud and three NanoMQ sites bridging to it over
mutual TLS, each deployed from its own bundle, and a strict Python client that trusts only the file it
was given. At every step each site's bridge (restarted to read its files) carries a message to the
cloud, and the strict client connects exactly when its trust and the cloud's certificate allow it.
NanoMQ's bridge does not check the cloud's certificate: the cloud and the strict client are the
parties whose trust is proven here. Root and intermediate rotations alike."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest

from ..helpers import cli, write_recipe
from ..peers import free_port, listener_conf, mosquitto
from .test_sites import NAMES, ROOT_CERTS, _site_reaches_the_cloud

ROTATION = """\
output: certs
defaults: {subject: {O: Edge}}
ca: {subject: {CN: Edge CA}}
servers:
  - {name: cloud, subject: {CN: localhost}, san: [localhost, 127.0.0.1]}
clients:
  - {name: 'site-{n:03d}', count: 3}
  - {name: cloud-app}
  - {name: probe}
nanomq:
  cert_dir: /etc/nanomq/certs
  bridge:
    client: 'site-{n:03d}'
    host: cloud.example.com
    forwards: [{remote_topic: 'sites/{name}/up', local_topic: up, qos: 1}]
"""
WITH_INTERMEDIATE = ROTATION.replace(
    "ca: {subject: {CN: Edge CA}}\n", "ca: {subject: {CN: Edge CA}}\nintermediate: {subject: {CN: Edge Issuing}}\n"
)
# what OpenSSL says of a cloud whose CA the client does not hold: its issuer not found, or (when the
# server sends its chain, as mosquitto builds it from its CA file) a root not among those trusted
UNTRUSTED = ("unable to get local issuer certificate", "self-signed certificate in certificate chain")


def _connect_packet(client_id: str) -> bytes:
    """MQTT 3.1.1 CONNECT, clean session, keep-alive 60 s."""
    body = b"\x00\x04MQTT\x04\x02\x00\x3c" + len(client_id).to_bytes(2, "big") + client_id.encode()
    return bytes([0x10, len(body)]) + body


def strict_client(port: int, trust: Path, cert: Path, key: Path) -> str:
    """Python's strict TLS (X.509 strict, the name checked) trusting `trust` alone, with a client
    certificate: "connected" on CONNACK 0, else why not."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    context.load_verify_locations(cafile=str(trust))
    context.load_cert_chain(str(cert), str(key))
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname="localhost") as tls:
                tls.sendall(_connect_packet(f"strict-{os.urandom(3).hex()}"))
                answer = tls.recv(4)
    except ssl.SSLCertVerificationError as exc:
        return f"the client refuses the cloud: {exc.verify_message}"
    except (ssl.SSLError, OSError) as exc:
        return f"the cloud refuses the client: {exc}"
    return "connected" if answer[:2] == b"\x20\x02" and answer[3:4] == b"\x00" else f"CONNACK {answer!r}"


class Cloud:
    """mosquitto, reading its files from a folder of its own (what was deployed to it)."""

    def __init__(self, recipe: Path, folder: Path, tmp_path: Path) -> None:
        self.folder, self.tmp_path, self.port = folder, tmp_path, free_port()
        self.deployed = folder / "deployed-cloud"
        self.deployed.mkdir()
        acl = folder / "cloud.acl"
        listener = cli("conf", "mosquitto", "--recipe", str(recipe), "--block", "listener", "--acl", str(acl))
        assert listener.code == 0, listener
        text = listener.stdout.replace("listener 8883", f"listener {self.port} 127.0.0.1")
        self.conf = text.replace(ROOT_CERTS, str(self.deployed))
        self.stack = contextlib.ExitStack()
        self.broker = None

    def deploy(self, *names: str) -> None:
        for name in names:
            source = self.folder / "certs" / name
            if source.exists():
                shutil.copyfile(source, self.deployed / name)

    def restart(self) -> None:
        self.stack.close()
        self.broker = self.stack.enter_context(mosquitto(self.conf, self.tmp_path, [self.port]))

    def reload(self) -> None:
        sighup(self.broker)


def sighup(broker) -> None:  # noqa: ANN001 - peers.Mosquitto
    """SIGHUP: mosquitto reads its configuration again, and says so in its log (waited for)."""
    before = broker.log.read_text(errors="replace").count("Reloading config")
    broker.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while broker.log.read_text(errors="replace").count("Reloading config") == before:
        assert time.monotonic() < deadline, "mosquitto did not reload"
        time.sleep(0.05)


class Edge:
    """The whole deployment: the cloud, the three sites' roots and the cloud's own application."""

    def __init__(self, tmp_path: Path, text: str) -> None:
        self.folder = tmp_path / "pki"
        self.folder.mkdir()
        self.recipe = write_recipe(self.folder, text)
        self.tmp_path = tmp_path
        assert (built := cli("build", "--recipe", str(self.recipe))).code == 0, built
        # the cloud checks CRLs: a leaf is accepted only from a CA with a CRL in crl.pem, one per live CA
        assert (listed := cli("crl", "--recipe", str(self.recipe))).code == 0, listed
        self.certs = self.folder / "certs"
        self.chained = (self.certs / "cloud-chain.pem").exists()
        self.cloud = Cloud(self.recipe, self.folder, tmp_path)
        self.app = tmp_path / "app"  # what the cloud's application (the sites' message receiver) was given
        self.app.mkdir()
        self.roots = tmp_path / "roots"

    def run(self, *args: str) -> None:
        done = cli(*args, "--recipe", str(self.recipe))
        assert done.code == 0, done

    def deploy_cloud(self, how: str = "restart") -> None:
        self.cloud.deploy("ca-trust.pem", "crl.pem", "cloud.key", "cloud.pem", "cloud-chain.pem")
        self.cloud.restart() if how == "restart" else self.cloud.reload()
        shutil.copyfile(self.certs / "ca-trust.pem", self.app / "ca.pem")  # (the receiver's files, as `_client` names them)
        for name in ("cloud-app.key", "cloud-app.pem"):
            shutil.copyfile(
                self.certs / ("cloud-app-chain.pem" if name.endswith(".pem") and self.chained else name), self.app / name
            )

    def deploy_sites(self, *names: str) -> None:
        """Each site's bundle, made now, installed over its root (the playbook's job in the field)."""
        self.run("bundle", *(arg for name in names for arg in ("--only", name)), "--out", str(self.folder / "bundles"))
        for name in names:
            shutil.rmtree(self.roots / name, ignore_errors=True)
            shutil.copytree(self.folder / "bundles" / name, self.roots / name)

    def every_site_carries_a_message(self) -> None:
        for name in NAMES:
            _site_reaches_the_cloud(self.roots / name, name, self.cloud.broker, self.cloud.port, self.app, self.tmp_path)

    def strict(self, trust: Path, client: str = "cloud-app", cert: Path | None = None) -> str:
        chain = self.certs / (f"{client}-chain.pem" if self.chained else f"{client}.pem")
        return strict_client(self.cloud.port, trust, cert or chain, self.certs / f"{client}.key")


def eventually(check, until: str = "the client refuses", timeout: float = 10) -> str:  # noqa: ANN001
    """What `check` says once it starts with `until`, or what it said last when `timeout` ran out."""
    deadline = time.monotonic() + timeout
    while not (said := check()).startswith(until) and time.monotonic() < deadline:
        time.sleep(0.1)
    return said


def _kept(path: Path, label: str) -> Path:
    """A copy of what `path` holds now (what was deployed at this step)."""
    kept = path.parent.parent / f"{label}-{path.name}"
    shutil.copyfile(path, kept)
    return kept


@pytest.mark.parametrize("scope", ["root", "intermediate"])
def test_a_rotation_loses_no_site_at_any_step(tmp_path, scope):
    edge = Edge(tmp_path, ROTATION if scope == "root" else WITH_INTERMEDIATE)
    certs = edge.certs
    try:
        edge.deploy_cloud()
        edge.deploy_sites(*NAMES)
        edge.every_site_carries_a_message()
        old_trust = _kept(certs / "ca-trust.pem", "old")
        assert edge.strict(old_trust) == "connected"

        edge.run("rotate", "start", *(["--intermediate"] if scope == "intermediate" else []))
        new_trust = _kept(certs / "ca-trust.pem", "both")
        edge.run("renew", "probe")  # a client of the new CA, to see what mosquitto reads on SIGHUP
        if scope == "root":  # with a crlfile, a leaf of the new CA needs its CRL beside the new trust
            edge.cloud.deploy("ca-trust.pem")
            edge.cloud.reload()
            assert "refuses the client" in edge.strict(new_trust, "probe")
            assert edge.cloud.broker.wait_for_log("certificate verify failed")
            edge.cloud.deploy("crl.pem")
            edge.cloud.reload()  # (a listener with a crlfile reads its CA file again on SIGHUP: measured)
            assert eventually(lambda: edge.strict(new_trust, "probe"), "connected") == "connected"
        edge.deploy_cloud()  # the new trust, to the cloud only: a restart reads it
        assert edge.strict(new_trust, "probe") == "connected"
        assert edge.strict(old_trust) == "connected" and edge.strict(new_trust) == "connected"
        edge.every_site_carries_a_message()
        edge.deploy_sites("site-001")  # the new trust, to one site
        edge.every_site_carries_a_message()
        edge.deploy_sites(*NAMES)
        edge.every_site_carries_a_message()

        edge.run("renew", "cloud")  # the cloud's certificate under the new CA, read on SIGHUP
        edge.deploy_cloud(how="reload")
        # the log line comes before the certificates are read again: waited for, up to 10 s
        if scope == "root":
            said = eventually(lambda: edge.strict(old_trust))
            assert said.startswith("the client refuses the cloud: ") and said.split(": ", 1)[1] in UNTRUSTED, said
        else:  # the same root, and the cloud sends its chain: a client that holds the root is never cut off
            assert edge.strict(old_trust) == "connected"
        assert edge.strict(new_trust) == "connected"
        edge.every_site_carries_a_message()  # (NanoMQ's bridge does not check the cloud's certificate)

        edge.run("renew", "site-001")
        edge.deploy_sites("site-001")
        edge.every_site_carries_a_message()
        old_app = _kept(certs / ("cloud-app-chain.pem" if edge.chained else "cloud-app.pem"), "old")
        edge.run("renew", "site-002", "site-003", "cloud-app")
        edge.deploy_sites("site-002", "site-003")
        edge.deploy_cloud()
        edge.every_site_carries_a_message()

        edge.run("rotate", "finish")
        assert certs.joinpath("ca-trust.pem").read_bytes().count(b"BEGIN CERTIFICATE") == (1 if scope == "root" else 2)
        edge.deploy_cloud()
        edge.deploy_sites(*NAMES)
        edge.every_site_carries_a_message()
        assert edge.strict(certs / "ca-trust.pem") == "connected"
        refused = edge.strict(certs / "ca-trust.pem", cert=old_app)  # a certificate of the old CA
        assert refused.startswith("the cloud refuses the client"), refused
        assert edge.cloud.broker.wait_for_log("certificate verify failed"), "the cloud did not say why it refused"
        why = subprocess.run(  # what the cloud's OpenSSL found: no trust in its root, or (same root) no CRL of its CA
            ["openssl", "verify", "-crl_check", "-CAfile", "ca-trust.pem", "-CRLfile", "crl.pem", "-untrusted", old_app, old_app],
            cwd=certs,
            capture_output=True,
            text=True,
        )
        reason = "unable to get local issuer certificate" if scope == "root" else "unable to get certificate CRL"
        assert why.returncode != 0 and reason in why.stdout + why.stderr, why
    finally:
        edge.cloud.stack.close()


def test_what_mosquitto_reads_again_on_sighup_without_a_crlfile(tmp_path):
    """The server certificate: yes. The CA file: no (a restart reads it)."""
    recipe = write_recipe(
        tmp_path, "ca: {subject: {CN: Hup CA}}\nservers: [{name: cloud, san: [localhost]}]\nclients: [{name: probe}]\n"
    )
    assert cli("build", "--recipe", str(recipe)).code == 0
    certs, deployed, port = tmp_path / "certs", tmp_path / "deployed", free_port()
    shutil.copytree(certs, deployed)
    old_trust = _kept(certs / "ca-trust.pem", "old")
    conf = listener_conf(port, deployed / "ca-trust.pem", deployed / "cloud.pem", deployed / "cloud.key")
    with contextlib.ExitStack() as stack:
        broker = stack.enter_context(mosquitto(conf, tmp_path, [port]))
        old_probe = _kept(certs / "probe.pem", "old")
        for args in (("rotate", "start"), ("renew", "probe"), ("renew", "cloud")):
            assert cli(*args, "--recipe", str(recipe)).code == 0
        new_trust = _kept(certs / "ca-trust.pem", "both")
        for name in ("ca-trust.pem", "cloud.pem"):
            shutil.copyfile(certs / name, deployed / name)
        sighup(broker)
        said = eventually(lambda: strict_client(port, old_trust, old_probe, certs / "probe.key"))
        assert said.split(": ", 1)[-1] in UNTRUSTED, said  # the new server certificate is served
        assert strict_client(port, new_trust, old_probe, certs / "probe.key") == "connected"
        assert "refuses the client" in strict_client(port, new_trust, certs / "probe.pem", certs / "probe.key")
        assert broker.wait_for_log("certificate verify failed")  # the new CA is not trusted yet: the CA file was not read
        stack.close()
        stack.enter_context(mosquitto(conf, tmp_path, [port]))
        assert strict_client(port, new_trust, certs / "probe.pem", certs / "probe.key") == "connected"

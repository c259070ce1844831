"""Live TLS checks on 127.0.0.1 with Python's `ssl`, strict on both sides (VERIFY_X509_STRICT, as
Python 3.13 does by default; TLS 1.2 or newer): each server certificate serves, each client connects.

Expected outcomes, each a line: every client completes the two-way handshake verifying the server by
each of its names and addresses; a client without a certificate is refused; a client whose certificate
comes from another CA is refused; with no clients in the recipe (one-way), a client without a
certificate connects. A round trip after the handshake decides (TLS 1.3 reports a refused client
certificate only on the first read).
"""

from __future__ import annotations

import socket
import ssl
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..recipe.entries import Leaf
from ..recipe.model import Recipe

Outcome = Literal["accepted", "refused", "server not trusted"]  # the last: our client refused the server


@dataclass(frozen=True)
class Case:
    server: str
    client: str  # a client's name, "no certificate" or "foreign CA"
    name: str  # the server name or address the client asked for
    expected: Outcome
    outcome: Outcome
    detail: str

    @property
    def ok(self) -> bool:
        return self.expected == self.outcome

    def line(self) -> str:
        mark = "✔" if self.ok else "✘"
        want = "" if self.ok else f" (expected: {self.expected})"
        return f"{mark} {self.client} → {self.server} as {self.name}: {self.outcome}{want} — {self.detail}"


@dataclass(frozen=True)
class Identity:
    """A certificate (or chain) with its key and the key's password, as `ssl` loads them."""

    cert: Path
    key: Path
    password: str | None = None


def strict_context(side: int, ca_file: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(side)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    context.load_verify_locations(cafile=str(ca_file))
    if side == ssl.PROTOCOL_TLS_CLIENT:
        context.check_hostname = True
        context.verify_mode = ssl.CERT_REQUIRED
    return context


class EchoServer:
    """A TLS server in a thread on an OS-chosen port; echoes 4 bytes per connection; stops on exit."""

    def __init__(self, context: ssl.SSLContext, timeout: float) -> None:
        self.context = context
        self.timeout = timeout
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> EchoServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(self.timeout + 1)
        self.listener.close()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except (TimeoutError, OSError):
                continue
            conn.settimeout(self.timeout)
            try:
                with self.context.wrap_socket(conn, server_side=True) as tls:
                    tls.sendall(tls.recv(4))
            except (ssl.SSLError, OSError):
                pass  # the client sees the refusal
            finally:
                conn.close()


def connect(port: int, context: ssl.SSLContext, name: str, timeout: float) -> tuple[Outcome, str]:
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=name) as tls,
        ):
            tls.sendall(b"ping")
            echo = tls.recv(4)
            version = tls.version()
        if echo == b"ping":
            return "accepted", f"{version}, round trip ok"
        return "refused", "the server closed the connection after the handshake"
    except ssl.SSLCertVerificationError as exc:  # our client refused the server: not the refusal a case expects
        return "server not trusted", exc.verify_message or str(exc)
    except ssl.SSLError as exc:
        return "refused", exc.reason or str(exc)
    except OSError as exc:
        return "refused", exc.strerror or type(exc).__name__


NO_NAMES = "cannot be checked: its SANs hold no DNS name or IP address a client could dial"


def server_names(leaf: Leaf) -> list[str]:
    """The names and addresses a client may use (the DNS twins of IPs are for mbedTLS only); a wildcard
    `*.example.com` is dialled as `check.example.com`."""
    ips = {s.value for s in leaf.sans if s.kind == "IP"}
    names = [s.value for s in leaf.sans if s.kind in ("DNS", "IP") and not (s.kind == "DNS" and s.value in ips)]
    return list(dict.fromkeys(name.replace("*", "check", 1) if name.startswith("*.") else name for name in names))


def load_identity(context: ssl.SSLContext, who: Identity) -> str | None:
    """Load a certificate chain and key into `context`; None, or why they cannot be used."""
    try:
        context.load_cert_chain(who.cert, who.key, who.password)
    except ssl.SSLError as exc:
        if "KEY_VALUES_MISMATCH" in str(exc):
            return f"{who.cert.name} does not match {who.key.name}"
        return (
            f"{who.key.name} does not open"
            + (" with its password" if who.password is not None else "")
            + f" ({exc.reason or exc})"
        )
    except OSError as exc:
        return f"cannot read {exc.filename or who.cert}: {exc.strerror}"
    return None


def trust_of(recipe: Recipe) -> Path:
    """What the peers are given to trust: the trust file (while rotating: the old and the new CA), or
    the CA's certificate where a folder has none yet."""
    trust = recipe.output_dir / recipe.trust_file
    return trust if trust.is_file() else recipe.output_dir / recipe.ca.cert_file


def run_handshakes(recipe: Recipe, secret_values: dict[str, str], openssl: str, timeout: float = 10.0) -> list[Case]:
    folder = recipe.output_dir

    def identity(leaf: Leaf) -> Identity:
        password = secret_values.get(leaf.password.env_name) if leaf.password else None
        return Identity(folder / (leaf.chain_file or leaf.cert_file), folder / leaf.key_file, password)

    ca_file = trust_of(recipe)
    cases: list[Case] = []
    with tempfile.TemporaryDirectory(prefix="openssl-recipes-foreign-") as scratch:
        foreign = foreign_client(Path(scratch), openssl, frozenset(recipe.secret_names())) if recipe.clients else None
        for server in recipe.servers:
            me = identity(server)
            server_ctx = strict_context(ssl.PROTOCOL_TLS_SERVER, ca_file)
            names = server_names(server)
            if problem := load_identity(server_ctx, me) or (None if names else NO_NAMES):
                cases.append(Case(server.name, "its own certificate", "-", "accepted", "refused", problem))
                continue
            server_ctx.verify_mode = ssl.CERT_REQUIRED if recipe.clients else ssl.CERT_NONE
            with EchoServer(server_ctx, timeout) as echo:

                def attempt(
                    label: str,
                    who: Identity | None,
                    name: str,
                    expected: Outcome,
                    server_name: str = server.name,
                    port: int = echo.port,
                ) -> None:
                    client_ctx = strict_context(ssl.PROTOCOL_TLS_CLIENT, ca_file)
                    if who is not None and (problem := load_identity(client_ctx, who)):
                        cases.append(Case(server_name, label, name, expected, "refused", problem))
                        return
                    outcome, detail = connect(port, client_ctx, name, timeout)
                    cases.append(Case(server_name, label, name, expected, outcome, detail))

                for index, client in enumerate(c for c in recipe.clients if not c.device_key):  # a device's key is not here
                    # the first client by every name and address; a fleet's others by the first name
                    for name in names if index == 0 else names[:1]:
                        attempt(client.name, identity(client), name, "accepted")
                if recipe.clients:
                    attempt("no certificate", None, names[0], "refused")
                    attempt("foreign CA", foreign, names[0], "refused")
                else:
                    for name in names:
                        attempt("no certificate (one-way)", None, name, "accepted")
    return cases


def foreign_client(scratch: Path, openssl: str, hidden: frozenset[str] = frozenset()) -> Identity:
    """A CA and client certificate that have nothing to do with the recipe, made by this tool (a
    recipe built in memory: no YAML, the same planner and executor as any build)."""
    from ..core.openssl import probe
    from ..core.x509 import KeySpec
    from ..plan.planner import build_plan
    from ..recipe.entries import CertificateAuthority, Leaf
    from ..run.runner import BuildOptions, build

    key = KeySpec(type="ec")
    ca = CertificateAuthority("ca", "ca.key", "ca.pem", {"CN": "Foreign CA"}, 30, key, "sha256", None)
    intruder = Leaf(
        "client",
        "intruder",
        "intruder.key",
        "intruder.csr",
        "intruder.pem",
        {"CN": "intruder"},
        (),
        30,
        key,
        "sha256",
        None,
        nanomq=False,
        path="clients[0]",
    )
    foreign = Recipe(path=scratch / "foreign", output_dir=scratch / "pki", style="strict", ca=ca, servers=(), clients=(intruder,))
    # `hidden`: the recipe's password variables, which none of these children reads
    build(
        build_plan(foreign, probe(openssl, hidden)), {}, BuildOptions(jobs=2, quiet=True, hidden=hidden), say=lambda _line: None
    )
    return Identity(scratch / "pki" / "intruder.pem", scratch / "pki" / "intruder.key")

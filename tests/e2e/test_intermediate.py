"""An intermediate CA between the root and the leaves: pathlen:0, chain files, the root key offline."""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading

from cryptography import x509

from ..helpers import cli, load_cert, tree, write_recipe

RECIPE = """\
output: certs
defaults: {subject: {O: Test}, key_type: ec}
ca: {subject: {CN: Root}}
intermediate: {subject: {CN: Issuing CA}, days: 1825}
servers:
  - {name: server, subject: {CN: localhost}, san: [localhost, 127.0.0.1], days: 825}
clients:
  - {name: client, subject: {CN: client}, days: 825}
"""


def build(tmp_path, text=RECIPE):
    recipe = write_recipe(tmp_path, text)
    result = cli("build", "--recipe", str(recipe))
    assert result.code == 0, result
    return recipe, tmp_path / "certs"


def mutual_tls(folder, server_chain: str, client_chain: str, client_key: str, name: str) -> str:
    """One strict two-way handshake on 127.0.0.1 trusting only the root; returns the echo."""
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.verify_flags |= ssl.VERIFY_X509_STRICT
    server_ctx.verify_mode = ssl.CERT_REQUIRED
    server_ctx.load_cert_chain(folder / server_chain, folder / "server.key")
    server_ctx.load_verify_locations(folder / "ca.pem")
    client_ctx = ssl.create_default_context(cafile=folder / "ca.pem")
    client_ctx.verify_flags |= ssl.VERIFY_X509_STRICT
    client_ctx.load_cert_chain(folder / client_chain, folder / client_key)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve():
        conn, _ = listener.accept()
        with server_ctx.wrap_socket(conn, server_side=True) as tls:
            tls.sendall(tls.recv(4))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            client_ctx.wrap_socket(raw, server_hostname=name) as tls,
        ):
            tls.sendall(b"ping")
            return tls.recv(4).decode()
    finally:
        thread.join(10)
        listener.close()


def test_intermediate_chain_is_complete_and_strict(tmp_path):
    _, folder = build(tmp_path)
    root, im = load_cert(folder / "ca.pem"), load_cert(folder / "intermediate.pem")
    server, client = load_cert(folder / "server.pem"), load_cert(folder / "client.pem")
    bc = im.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca and bc.value.path_length == 0
    assert im.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    im.verify_directly_issued_by(root)
    server.verify_directly_issued_by(im)
    client.verify_directly_issued_by(im)
    assert (folder / "server-chain.pem").read_bytes() == (folder / "server.pem").read_bytes() + (
        folder / "intermediate.pem"
    ).read_bytes()
    assert (folder / "ca-trust.pem").read_bytes() == (folder / "intermediate.pem").read_bytes() + (folder / "ca.pem").read_bytes()
    proc = subprocess.run(
        [
            "openssl",
            "verify",
            "-x509_strict",
            "-purpose",
            "sslserver",
            "-CAfile",
            "ca.pem",
            "-untrusted",
            "intermediate.pem",
            "server.pem",
        ],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_two_way_tls_through_the_intermediate(tmp_path):
    _, folder = build(tmp_path)
    assert mutual_tls(folder, "server-chain.pem", "client-chain.pem", "client.key", "localhost") == "ping"
    assert mutual_tls(folder, "server-chain.pem", "client-chain.pem", "client.key", "127.0.0.1") == "ping"


def test_leaves_need_only_the_intermediate_key(tmp_path):
    recipe, folder = build(tmp_path)
    (folder / "ca.key").rename(tmp_path / "ca.key.offline")
    write_recipe(tmp_path, RECIPE + "  - {name: device2, subject: {CN: device2}, days: 825}\n")
    before = tree(folder)
    result = cli("build", "--recipe", str(recipe))
    assert result.code == 0, result
    assert "made device2.pem" in result.stdout and "made ca.pem" not in result.stdout
    after = tree(folder)
    changed = {name for name, data in before.items() if after[name] != data}
    assert changed <= {"openssl-recipes.cnf"}  # at most the extension file; no certificate or key
    load_cert(folder / "device2.pem").verify_directly_issued_by(load_cert(folder / "intermediate.pem"))
    # re-signing the intermediate needs the root key: a clear refusal, nothing changed
    (folder / "intermediate.pem").unlink()
    before = tree(folder)
    result = cli("build", "--recipe", str(recipe))
    assert result.code == 1 and "ca.key is not in the output folder" in result.stderr, result
    assert tree(folder) == before


def test_intermediate_needs_the_strict_style(tmp_path):
    recipe = write_recipe(tmp_path, "style: document\n" + RECIPE)
    result = cli("plan", "--recipe", str(recipe))
    assert result.code == 2 and "intermediate: an intermediate CA needs style: strict" in result.stderr, result

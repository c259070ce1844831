"""Run by Python 3.13 (strict by default): mutual TLS with ssl.create_default_context on both sides.
Usage: python3.13 default_context.py FOLDER SERVER_NAME CLIENT_CERT CLIENT_KEY — prints 'ok …' or 'FAIL …'."""

import socket
import ssl
import sys
import threading
from pathlib import Path

folder, name, client_cert, client_key = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ca = folder / "ca.pem"
server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=ca)
server_ctx.verify_mode = ssl.CERT_REQUIRED
server_ctx.load_cert_chain(folder / "server.pem", folder / "server.key")
client_ctx = ssl.create_default_context(cafile=ca)
client_ctx.load_cert_chain(folder / client_cert, folder / client_key)
assert client_ctx.verify_flags & ssl.VERIFY_X509_STRICT, "not a strict default context"
listener = socket.create_server(("127.0.0.1", 0))


def serve():
    conn, _ = listener.accept()
    try:
        with server_ctx.wrap_socket(conn, server_side=True) as tls:
            tls.sendall(tls.recv(4))
    except (ssl.SSLError, OSError):
        pass


threading.Thread(target=serve, daemon=True).start()
try:
    with (
        socket.create_connection(listener.getsockname(), timeout=10) as raw,
        client_ctx.wrap_socket(raw, server_hostname=name) as tls,
    ):
        tls.sendall(b"ping")
        assert tls.recv(4) == b"ping", "no echo: the server refused the client certificate"
    print(f"ok {sys.version.split()[0]} default context, two-way, as {name}")
except (ssl.SSLError, OSError, AssertionError) as exc:
    print(f"FAIL {exc}")
    sys.exit(1)

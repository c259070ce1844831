"""NanoMQ's view of a certificate and key, asked of mbedTLS 2.28 itself (python-mbedtls, the optional
`openssl-recipes[nanomq]` extra; NanoMQ 0.25.5 links mbedTLS 2.28 too).

Three questions, each answered by mbedTLS code rather than by rules about formats:
- does the key open, with its password (mbedTLS refuses OpenSSL 3's default AES-encrypted PKCS#8);
- does the chain verify: a TLS 1.2 handshake in memory, with mbedTLS on both sides;
- for a server, does an mbedTLS client accept it by each name and IPv4 address a NanoMQ client would
  dial (mbedTLS 2.x matches IP addresses only through DNS SANs).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.pem import blocks as pem_blocks
from ..core.x509 import Unreadable, key_cipher

READS_PKCS8 = {"des-ede3-cbc", "pbeWithSHA1And3-KeyTripleDES-CBC"}  # the encrypted PKCS#8 forms mbedTLS 2.28 opens


def pkcs8_form_problem(pem: str, key_name: str) -> str | None:
    """Why mbedTLS 2.28 cannot open this encrypted PKCS#8 key (its cipher, read by `core.x509`), or None
    (another form, or one it reads): a format rule, asked without python-mbedtls."""
    try:
        cipher = key_cipher(pem.encode("ascii", "replace"))
    except Unreadable as exc:
        cipher = f"unreadable ({exc})"
    if cipher is None or cipher in READS_PKCS8:
        return None
    return (
        f"{key_name} is PKCS#8 encrypted with AES, which mbedTLS 2.28 cannot read (NanoMQ logs "
        "`init_dialer_tls failed`): convert with `openssl rsa -traditional -aes256` or `openssl pkcs8 -topk8 -v2 des3`"
    )


def available() -> str | None:
    """mbedTLS's version when python-mbedtls is installed, else None."""
    try:
        import mbedtls
    except ImportError:
        return None
    return mbedtls.version.version


@dataclass(frozen=True)
class Identity:
    """A certificate chain file (leaf first) and its key, as mbedTLS loads them."""

    chain: Path
    key: Path
    key_type: str  # rsa | ec | ed25519
    password: str | None = None


def open_key(identity: Identity) -> tuple[Any, str | None]:
    """(the mbedTLS key, None), or (None, why mbedTLS cannot open it)."""
    from mbedtls import pk

    if identity.key_type == "ed25519":
        return None, "mbedTLS 2.28 has no Ed25519"
    kind = pk.RSA if identity.key_type == "rsa" else pk.ECC
    password = identity.password.encode("utf-8") if identity.password is not None else None
    try:
        return kind.from_buffer(identity.key.read_bytes(), password=password), None
    except OSError as exc:
        return None, f"cannot read {identity.key.name}: {exc.strerror}"
    except Exception as exc:  # mbedtls.exceptions.TLSError carries mbedTLS's own message
        return None, f"mbedTLS cannot open {identity.key.name}: {_message(exc)}"


def certificates(path: Path) -> list[Any]:
    return _certificates_in(path.read_bytes())


def _certificates_in(data: bytes) -> list[Any]:
    from mbedtls import x509

    return [x509.CRT.from_PEM(block.text.decode("ascii")) for block in pem_blocks(data) if block.label == "CERTIFICATE"]


def handshake(
    server: Identity | None, client: Identity | None, trust: Path, name: str, verify_server: bool, opened: Any = None
) -> str | None:
    """A TLS 1.2 handshake between two mbedTLS ends in memory: None when it completes and a round
    trip works, else the reason. The server requires a client certificate when `client` is given;
    `server` None: a throwaway server certificate, for checking a client alone. `opened`: the key of
    the identity checked, already opened (`open_key`)."""
    from mbedtls import tls

    suites: dict[str, Any] = {}
    if server is None:
        server_chain = probe_server()
        suites = {"ciphers": (PROBE_SUITE,)}  # the probe's own key exchange: what is checked is the client's certificate
    else:
        server_key, problem = (opened, None) if opened is not None and client is None else open_key(server)
        if problem:
            return problem
        server_chain = (certificates(server.chain), server_key)
    client_chain = None
    if client is not None:
        client_key, problem = (opened, None) if opened is not None and server is None else open_key(client)
        if problem:
            return problem
        client_chain = (certificates(client.chain), client_key)
    trusted = trust.read_bytes()
    anchors = _anchors(trusted)
    newest = tls.TLSVersion.TLSv1_2  # NanoMQ's mbedTLS 2.28 speaks TLS 1.2 only
    if server is None:
        server_conf = _probe_configuration(trusted)
    else:
        server_conf = tls.TLSConfiguration(
            certificate_chain=server_chain,
            trust_store=anchors,
            validate_certificates=client is not None,
            highest_supported_version=newest,
            **suites,
        )
    client_conf = tls.TLSConfiguration(
        certificate_chain=client_chain,
        trust_store=anchors,
        validate_certificates=verify_server,
        highest_supported_version=newest,
        **suites,
    )
    client_end = tls.ClientContext(client_conf).wrap_buffers(server_hostname=name)
    server_end = tls.ServerContext(server_conf).wrap_buffers()
    sides = {f"the client ({name})": client_end, "the server": server_end}
    echo = bytearray()
    try:
        _pump(sides, lambda: all(end._handshake_state is tls.HandshakeStep.HANDSHAKE_OVER for end in sides.values()))
        client_end.write(b"ping")
        _pump(sides, lambda: echo.extend(server_end.read(4 - len(echo))) or len(echo) == 4, handshake=False)
    except _Refused as refused:
        return str(refused)
    return None if bytes(echo) == b"ping" else "no round trip after the handshake"


@functools.lru_cache(maxsize=8)
def _anchors(trusted: bytes) -> Any:
    """A trust file's content as mbedTLS's trust store, made once (a fleet's leaves share a root)."""
    from mbedtls import tls

    return tls.TrustStore(_certificates_in(trusted))


@functools.lru_cache(maxsize=8)
def _probe_configuration(trusted: bytes) -> Any:
    """The probe server's configuration for this trust: it requires and verifies a client certificate."""
    from mbedtls import tls

    return tls.TLSConfiguration(
        certificate_chain=probe_server(),
        trust_store=_anchors(trusted),
        validate_certificates=True,
        highest_supported_version=tls.TLSVersion.TLSv1_2,
        ciphers=(PROBE_SUITE,),
    )


@functools.lru_cache(maxsize=1)
def probe_server() -> tuple[list[Any], Any]:
    """A self-signed RSA server certificate made by mbedTLS, valid for a day: the server end when only
    a client certificate is being checked (the server's own certificate is not trusted or checked).
    Made once a run; with an RSA key the probe can use RSA key exchange (PROBE_SUITE): a client's
    check costs ~7 ms of mbedTLS instead of ~19 ms with ECDHE-ECDSA (measured), and mbedTLS still
    verifies the client's chain and its CertificateVerify signature as it does for any suite. The key
    is RSA 1024: it only decrypts the premaster secret of a handshake in memory that nothing else
    sees, and the client does not check the probe's certificate; 2048 bits cost 2.5 ms more a
    handshake (9.8 → 7.2 ms here) and 0.4 s to make."""
    import datetime as dt

    from mbedtls import hashlib, pk, x509

    key = pk.RSA()
    key.generate(1024)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    request = x509.CSR.new(key, "CN=openssl-recipes mbedTLS probe", hashlib.sha256())
    return [x509.CRT.selfsign(request, key, now - dt.timedelta(hours=1), now + dt.timedelta(days=1), 1)], key


PROBE_SUITE = "TLS-RSA-WITH-AES-128-GCM-SHA256"


class _Refused(Exception):
    pass


def _pump(sides: dict[str, Any], done: Callable[[], bool], handshake: bool = True) -> None:
    """Move bytes between two in-memory mbedTLS ends (no sockets, no threads) until `done()`; a side
    that raises, or a round in which nothing moves, ends it with the reason. mbedTLS advances one handshake step a call."""
    from mbedtls import tls

    (first_name, first), (second_name, second) = sides.items()
    for _round in range(500):
        before = [end._handshake_state for end in sides.values()]
        for label, end in sides.items():
            try:
                if handshake and end._handshake_state is not tls.HandshakeStep.HANDSHAKE_OVER:
                    end.do_handshake()
            except (tls.WantReadError, tls.WantWriteError):
                pass
            except Exception as exc:
                raise _Refused(f"{label}: {_message(exc)}") from None
        try:
            if done():
                return
        except (tls.WantReadError, tls.WantWriteError):
            pass
        except Exception as exc:
            raise _Refused(f"the server: {_message(exc)}") from None
        moved = 0
        for source, target in ((first, second), (second, first)):
            data = source.peek_outgoing(1 << 16)
            if data:
                source.consume_outgoing(len(data))
                target.receive_from_network(data)
                moved += len(data)
        if not moved and before == [end._handshake_state for end in sides.values()]:
            raise _Refused(f"the handshake stopped: neither {first_name} nor {second_name} had anything to send")
    raise _Refused("the handshake did not finish")


def _message(exc: Exception) -> str:
    text = getattr(exc, "msg", None) or str(exc) or type(exc).__name__
    return str(text).strip()

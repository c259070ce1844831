"""An output counts only when it reads back. OpenSSL 3.0 exits 0 on a full disk and leaves a 0-byte or
cut-short file; so each step's artifact is read once it exits 0, in-process (no openssl child per
file): a key is a whole PEM private key, a request and a certificate parse, a chain is certificates, a
CRL is a whole X509 CRL, a PKCS#12 file is one whole DER structure. What is written whole by openssl
and then cut short by the disk never passes; openssl's own cryptography is openssl's to do.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from pathlib import Path

from ..core.der import Reader
from ..core.pem import blocks
from ..core.reading import TooLarge, read_bounded
from ..core.x509 import Unreadable, read_certificate, read_request
from ..plan.steps import Step

MAX_OUTPUT_BYTES = 64 * 1024 * 1024  # a bundle of 100 000 certificates is ~150 MB: chains are per leaf


def problem(folder: Path, step: Step) -> str | None:
    """Why what `step` made does not read back, or None: its artifact, and a keycert step's key too."""
    if step.kind in ("revoke", "certs", "tokenkey"):  # openssl ca changes the database in place (and renames it whole);
        return None  # a batch's certificates are each read back as they are written (`batch`); a token's key is read
        # back by the next step, which signs the CA's certificate with it (and `build` reads its public key first)
    if step.kind == "keycert" and (why := _file_problem(folder / step.outputs[1], _key)):
        return f"{step.outputs[1]}: {why}"
    return _file_problem(folder / step.artifact, _CHECKS[step.kind])


def _file_problem(path: Path, check: Callable[[bytes], str | None]) -> str | None:
    try:  # (a read of the file's size: `read(MAX_OUTPUT_BYTES + 1)` made a 64 MiB buffer for each)
        data = read_bounded(path, MAX_OUTPUT_BYTES)
    except FileNotFoundError:
        return "it is not there"
    except TooLarge:
        return f"it is larger than {MAX_OUTPUT_BYTES} bytes"
    except OSError as exc:
        return f"cannot read it: {exc.strerror}"
    if not data:
        return "it is empty"
    try:
        return check(data)
    except (Unreadable, ValueError, IndexError, binascii.Error) as exc:
        return f"it does not parse: {exc}"


def _key(data: bytes) -> str | None:
    found = [block for block in blocks(data) if block.label.endswith("PRIVATE KEY")]
    if not found:
        return "no whole PEM private key in it"
    content = _base64(found[0].body)
    if b"Proc-Type: 4,ENCRYPTED" in found[0].body:  # traditional form: the DER itself is enciphered
        return None if content and len(content) % 8 == 0 else "its enciphered body is cut short"
    _whole_der(content)
    return None


def _base64(body: bytes) -> bytes:
    """The DER of a PEM body; the headers of a traditional encrypted key (Proc-Type, DEK-Info) aside."""
    lines = [line for line in body.split(b"\n") if b":" not in line]
    return base64.b64decode(b"".join(b"".join(lines).split()), validate=True)


def _request(data: bytes) -> str | None:
    read_request(data)
    return None


def _certificate(data: bytes) -> str | None:
    read_certificate(data)
    return None


def _chain(data: bytes) -> str | None:
    """Certificates (a chain, a trust file), or CRLs (crl.pem while two CAs are live), whole."""
    found = blocks(data)
    if found and all(block.label == "X509 CRL" for block in found):
        for block in found:
            _whole_der(_base64(block.body))
        return None
    if not found or any(block.label != "CERTIFICATE" for block in found):
        return "not a whole chain of PEM certificates"
    for block in found:
        read_certificate(block.text)
    return None


def _crl(data: bytes) -> str | None:
    found = [block for block in blocks(data) if block.label == "X509 CRL"]
    if not found:
        return "no whole PEM X509 CRL in it"
    _whole_der(_base64(found[0].body))
    return None


def _pkcs12(data: bytes) -> str | None:
    _whole_der(data)
    return None


def _whole_der(der: bytes) -> None:
    """One DER element that ends where the data ends (a cut-short file does not)."""
    if Reader(der).header(0)[2] != len(der):
        raise ValueError("the DER structure does not end where the data does")


_CHECKS = {
    "key": _key,
    "csr": _request,
    "cert": _certificate,
    "keycert": _certificate,
    "bundle": _chain,
    "crl": _crl,
    "p12": _pkcs12,
}

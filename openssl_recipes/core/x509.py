"""What a certificate, a request and a key say, read from their PEM without running openssl: subject,
issuer, serial, SANs, key, validity, fingerprint; a request's subject and key; an encrypted key's cipher.

The one reader of certificates in the package (`show`, validity, `show --tree`, drift, `sign`), over the
small DER reader (`der`). Anything it cannot read raises `Unreadable`; callers say so in their words
rather than guess. Fuzzed against `cryptography` (tests).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import ipaddress
from dataclasses import dataclass
from typing import Literal

from .der import BIT_STRING, INTEGER, OCTET_STRING, SEQUENCE, Reader
from .keys import CURVES, DEFAULT_CURVE, DEFAULT_KEY_SIZE, DEFAULT_KEY_TYPE, KEY_TYPES, RSA_MIN_BITS
from .pem import first as pem_first

PEM_CERTIFICATE = ("CERTIFICATE",)
PEM_REQUEST = ("CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST")
PEM_ENCRYPTED_KEY = ("ENCRYPTED PRIVATE KEY",)

VERSION, EXTENSIONS = 0xA0, 0xA3  # [0] and [3] EXPLICIT in TBSCertificate
FIELD_NAMES = {  # the names openssl's -subj and its text output use
    "2.5.4.6": "C",
    "2.5.4.8": "ST",
    "2.5.4.7": "L",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.3": "CN",
    "1.2.840.113549.1.9.1": "emailAddress",
}
SUBJECT_ALT_NAME = "2.5.29.17"
RSA, EC_PUBLIC_KEY, ED25519 = "1.2.840.113549.1.1.1", "1.2.840.10045.2.1", "1.3.101.112"
CURVE_OIDS = {"1.2.840.10045.3.1.7": "P-256", "1.3.132.0.34": "P-384", "1.3.132.0.35": "P-521"}  # the names: keys.CURVES
GENERAL_NAMES = {0x81: "email", 0x82: "DNS", 0x86: "URI", 0x87: "IP"}  # [1] [2] [6] [7], implicit
PBES2 = "1.2.840.113549.1.5.13"
CIPHERS = {  # an encrypted PKCS#8 key's cipher, by the names openssl gives them
    "1.2.840.113549.3.7": "des-ede3-cbc",
    "2.16.840.1.101.3.4.1.2": "aes-128-cbc",
    "2.16.840.1.101.3.4.1.22": "aes-192-cbc",
    "2.16.840.1.101.3.4.1.42": "aes-256-cbc",
    "1.2.840.113549.1.12.1.3": "pbeWithSHA1And3-KeyTripleDES-CBC",
}

KeyType = Literal[KEY_TYPES]  # type: ignore[valid-type]  # Literal["rsa", "ec", "ed25519"], from the one policy
Curve = Literal[CURVES]  # type: ignore[valid-type]
Name = tuple[tuple[tuple[str, str], ...], ...]  # relative distinguished names, each of (field, value) pairs


@dataclass(frozen=True)
class KeySpec:
    type: KeyType = DEFAULT_KEY_TYPE
    size: int = DEFAULT_KEY_SIZE  # RSA only
    curve: Curve = DEFAULT_CURVE  # EC only

    def describe(self) -> str:
        return {"rsa": f"RSA {self.size}", "ec": f"EC {self.curve}", "ed25519": "Ed25519"}[self.type]


@dataclass(frozen=True)
class San:
    kind: Literal["DNS", "IP", "email", "URI"]
    value: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class Unreadable(ValueError):
    """Not a certificate (request, key) this reader understands."""


@dataclass(frozen=True)
class CertificateFacts:
    subject_name: Name
    issuer_name: Name
    serial: int
    names: tuple[San, ...]  # the SANs in the certificate's order
    key: KeySpec | None  # None: a key type the tool never makes
    not_before: dt.datetime
    not_after: dt.datetime
    sha256: bytes  # of the certificate's DER: its fingerprint
    public_key_info: bytes = b""  # the DER SubjectPublicKeyInfo (`key_files` gives a private key's)

    @property
    def subject(self) -> tuple[tuple[str, str], ...]:
        """(field, value) in the certificate's order; fields the tool does not name by their OID."""
        return tuple(pair for rdn in self.subject_name for pair in rdn)

    @property
    def sans(self) -> frozenset[San]:
        return frozenset(self.names)

    @property
    def days(self) -> float:
        return (self.not_after - self.not_before).total_seconds() / 86400


@dataclass(frozen=True)
class RequestFacts:
    subject: tuple[tuple[str, str], ...]
    key: KeySpec | None  # None: a key type the tool never makes
    public_key_info: bytes = b""  # the DER SubjectPublicKeyInfo: what its certificate must carry


def read_certificate(pem: bytes) -> CertificateFacts:
    """The first certificate in `pem` (a leaf's own certificate comes first in a chain file)."""
    return _read(pem, PEM_CERTIFICATE, "certificate", _certificate)


def read_request(pem: bytes) -> RequestFacts:
    """A PKCS#10 certificate request's subject and key (its signature is openssl's to check)."""
    return _read(pem, PEM_REQUEST, "certificate request", _request)


def key_spec_of(public_key_info: bytes) -> KeySpec | None:
    """The kind of key a SubjectPublicKeyInfo (DER) holds (a token's public key), or None when unknown."""
    try:
        return _key(Reader(public_key_info), 0)
    except (ValueError, IndexError):
        return None


def key_cipher(pem: bytes) -> str | None:
    """The cipher an encrypted PKCS#8 key (`ENCRYPTED PRIVATE KEY`) is encrypted with, by openssl's name
    (its OID when this reader has no name for it); None for a key in another form."""
    if pem_first(pem, *PEM_ENCRYPTED_KEY) is None:
        return None
    return _read(pem, PEM_ENCRYPTED_KEY, "encrypted key", _cipher)


def _read(pem: bytes, labels: tuple[str, ...], what: str, parse):  # noqa: ANN001, ANN202
    found = pem_first(pem, *labels)
    if not found:
        raise Unreadable(f"no PEM {what}")
    try:
        der = base64.b64decode(b"".join(found.body.split()), validate=True)
    except binascii.Error as exc:
        raise Unreadable("bad base64") from exc
    try:
        return parse(Reader(der), der)
    except (IndexError, ValueError, UnicodeDecodeError) as exc:
        raise Unreadable(str(exc) or type(exc).__name__) from exc


def _certificate(reader: Reader, der: bytes) -> CertificateFacts:
    (tbs_at, *_rest) = reader.children(0, SEQUENCE)
    tbs = reader.children(tbs_at, SEQUENCE)
    if reader.tag(tbs[0]) == VERSION:
        tbs = tbs[1:]
    # serial, signature algorithm, issuer, validity, subject, subject public key info, then [1] [2] [3]
    not_before_at, not_after_at = reader.children(tbs[3], SEQUENCE)[:2]
    names: tuple[San, ...] = ()
    for extra in tbs[6:]:
        if reader.tag(extra) == EXTENSIONS:
            names = _sans(reader, reader.children(extra)[0])
    return CertificateFacts(
        subject_name=_name(reader, tbs[4]),
        issuer_name=_name(reader, tbs[2]),
        serial=int.from_bytes(reader.content(tbs[0], INTEGER), "big", signed=True),
        names=names,
        key=_key(reader, tbs[5]),
        not_before=reader.time(not_before_at),
        not_after=reader.time(not_after_at),
        sha256=hashlib.sha256(reader.element(0)).digest(),
        public_key_info=reader.element(tbs[5]),
    )


def _request(reader: Reader, der: bytes) -> RequestFacts:
    (info_at, *_rest) = reader.children(0, SEQUENCE)
    _version, subject_at, key_at = reader.children(info_at, SEQUENCE)[:3]
    subject = tuple(pair for rdn in _name(reader, subject_at) for pair in rdn)
    return RequestFacts(subject, _key(reader, key_at), reader.element(key_at))


def _cipher(reader: Reader, der: bytes) -> str:
    algorithm = reader.children(reader.children(0, SEQUENCE)[0], SEQUENCE)
    scheme = reader.oid(algorithm[0])
    if scheme == PBES2:  # parameters: (key derivation, encryption scheme)
        scheme = reader.oid(reader.children(reader.children(algorithm[1], SEQUENCE)[1], SEQUENCE)[0])
    return CIPHERS.get(scheme, scheme)


def _name(reader: Reader, at: int) -> Name:
    rdns = []
    for rdn in reader.children(at, SEQUENCE):
        pairs = []
        for attribute in reader.children(rdn):
            oid_at, value_at = reader.children(attribute, SEQUENCE)[:2]
            oid = reader.oid(oid_at)
            pairs.append((FIELD_NAMES.get(oid, oid), reader.text(value_at)))
        rdns.append(tuple(pairs))
    return tuple(rdns)


def _key(reader: Reader, at: int) -> KeySpec | None:
    algorithm_at, bits_at = reader.children(at, SEQUENCE)[:2]
    algorithm = reader.children(algorithm_at, SEQUENCE)
    kind = reader.oid(algorithm[0])
    if kind == ED25519:
        return KeySpec(type="ed25519")
    if kind == EC_PUBLIC_KEY:
        curve = CURVE_OIDS.get(reader.oid(algorithm[1]))
        return KeySpec(type="ec", curve=curve) if curve else None  # type: ignore[arg-type]
    if kind == RSA:
        inner = Reader(reader.content(bits_at, BIT_STRING)[1:])  # RSAPublicKey, after the unused-bits byte
        modulus = inner.content(inner.children(0, SEQUENCE)[0], INTEGER)
        return KeySpec(type="rsa", size=int.from_bytes(modulus, "big").bit_length())
    return None


def _sans(reader: Reader, at: int) -> tuple[San, ...]:
    for extension in reader.children(at, SEQUENCE):
        parts = reader.children(extension, SEQUENCE)
        if reader.oid(parts[0]) == SUBJECT_ALT_NAME:
            names = Reader(reader.content(parts[-1], OCTET_STRING))
            return tuple(_general_name(names, at) for at in names.children(0, SEQUENCE))
    return ()


def _general_name(reader: Reader, at: int) -> San:
    tag = reader.tag(at)
    kind = GENERAL_NAMES.get(tag)
    if kind is None:
        raise ValueError(f"a subject alternative name of a kind the tool never writes ({tag:#x})")
    raw = reader.content(at)
    value = str(ipaddress.ip_address(raw)) if kind == "IP" else raw.decode("ascii")
    return San(kind, value)  # type: ignore[arg-type]


def request_key_problem(key: KeySpec | None) -> str | None:
    """Why a device's request key is refused (weaker than the recipe may make: RSA under 2048 bits,
    another curve, an unknown type), or None."""
    if (
        key is not None
        and not (key.type == "rsa" and key.size < RSA_MIN_BITS)
        and not (key.type == "ec" and key.curve not in CURVES)
    ):
        return None
    what = key.describe() if key else "a key type the recipe does not allow"
    return f"{what} is weaker than the recipe allows (RSA {RSA_MIN_BITS}+, EC P-256/384/521, Ed25519)"


# -- as openssl's text writes them (`show`) --------------------------------------------------------


def name_text(name: Name) -> str:
    """`C=DE, O=Acme, CN=x` (openssl's `-nameopt utf8,sep_comma_plus_space`: values as they are)."""
    return ", ".join(" + ".join(f"{field}={value}" for field, value in rdn) for rdn in name)


def serial_text(serial: int) -> str:
    """The serial in hex, two digits a byte, upper case (as `x509 -serial` and the CA database)."""
    if serial < 0:
        return "-" + serial_text(-serial)
    return serial.to_bytes(max(1, (serial.bit_length() + 7) // 8), "big").hex().upper()


def fingerprint_text(digest: bytes) -> str:
    return ":".join(f"{byte:02X}" for byte in digest)


def san_text(san: San) -> str:
    """`DNS:x`, `IP Address:192.0.2.1`, `IP Address:0:0:0:0:0:0:0:1`, `email:x`, `URI:x`."""
    if san.kind != "IP":
        return str(san)
    address = ipaddress.ip_address(san.value)
    if address.version == 4:
        return f"IP Address:{address}"
    groups = address.packed
    return "IP Address:" + ":".join(f"{int.from_bytes(groups[i : i + 2], 'big'):X}" for i in range(0, 16, 2))

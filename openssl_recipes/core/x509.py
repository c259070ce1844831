"""What a certificate says, read from its PEM without running openssl: subject, SANs, key, validity.

Just enough DER (X.690) for the X.509 v3 certificates the tool writes, used to notice that a
certificate a build keeps no longer matches its recipe entry. Anything it cannot read raises
`Unreadable`; callers then say nothing rather than guess.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import ipaddress
import re
from dataclasses import dataclass
from typing import Literal

from .keys import CURVES, DEFAULT_CURVE, DEFAULT_KEY_SIZE, DEFAULT_KEY_TYPE, KEY_TYPES, RSA_MIN_BITS

PEM_CERTIFICATE = re.compile(rb"-----BEGIN CERTIFICATE-----\r?\n(.+?)\r?\n-----END CERTIFICATE-----", re.S)
PEM_REQUEST = re.compile(
    rb"-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----\r?\n(.+?)\r?\n-----END (?:NEW )?CERTIFICATE REQUEST-----", re.S
)

SEQUENCE, BIT_STRING, OCTET_STRING, OID = 0x30, 0x03, 0x04, 0x06
UTC_TIME, GENERALIZED_TIME = 0x17, 0x18
VERSION, EXTENSIONS = 0xA0, 0xA3  # [0] and [3] EXPLICIT in TBSCertificate
SUBJECT_FIELDS = {
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

KeyType = Literal[KEY_TYPES]  # type: ignore[valid-type]  # Literal["rsa", "ec", "ed25519"], from the one policy
Curve = Literal[CURVES]  # type: ignore[valid-type]


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
    """Not a certificate this reader understands."""


@dataclass(frozen=True)
class CertificateFacts:
    subject: tuple[tuple[str, str], ...]  # (field, value) in the certificate's order; unknown fields by OID
    sans: frozenset[San]
    key: KeySpec | None  # None: a key type the tool never makes
    not_before: dt.datetime
    not_after: dt.datetime

    @property
    def days(self) -> float:
        return (self.not_after - self.not_before).total_seconds() / 86400


@dataclass(frozen=True)
class RequestFacts:
    subject: tuple[tuple[str, str], ...]
    key: KeySpec | None  # None: a key type the tool never makes


def read_certificate(pem: bytes) -> CertificateFacts:
    """The first certificate in `pem` (a leaf's own certificate comes first in a chain file)."""
    return _read(pem, PEM_CERTIFICATE, "certificate", lambda reader: reader.certificate())


def read_request(pem: bytes) -> RequestFacts:
    """A PKCS#10 certificate request's subject and key (its signature is openssl's to check)."""
    return _read(pem, PEM_REQUEST, "certificate request", lambda reader: reader.request())


def _read(pem: bytes, block: re.Pattern[bytes], what: str, parse):  # noqa: ANN001, ANN202
    found = block.search(pem)
    if not found:
        raise Unreadable(f"no PEM {what}")
    try:
        der = base64.b64decode(b"".join(found.group(1).split()), validate=True)
    except binascii.Error as exc:
        raise Unreadable("bad base64") from exc
    try:
        return parse(_Reader(der))
    except (IndexError, ValueError, UnicodeDecodeError) as exc:
        raise Unreadable(str(exc) or type(exc).__name__) from exc


class _Reader:
    """Elements are addressed by the offset where their tag starts."""

    def __init__(self, der: bytes) -> None:
        self.der = der

    def certificate(self) -> CertificateFacts:
        (tbs_at, *_rest) = self.children(0, SEQUENCE)
        tbs = self.children(tbs_at, SEQUENCE)
        if self.der[tbs[0]] == VERSION:
            tbs = tbs[1:]
        # serial, signature algorithm, issuer, validity, subject, subject public key info, then [1] [2] [3]
        not_before_at, not_after_at = self.children(tbs[3], SEQUENCE)[:2]
        sans: frozenset[San] = frozenset()
        for extra in tbs[6:]:
            if self.der[extra] == EXTENSIONS:
                sans = self.sans(self.children(extra)[0])
        return CertificateFacts(self.name(tbs[4]), sans, self.key(tbs[5]), self.time(not_before_at), self.time(not_after_at))

    def request(self) -> RequestFacts:
        (info_at, *_rest) = self.children(0, SEQUENCE)
        _version, subject_at, key_at = self.children(info_at, SEQUENCE)[:3]
        return RequestFacts(self.name(subject_at), self.key(key_at))

    # -- structure --

    def header(self, at: int) -> tuple[int, int, int]:
        """(tag, content start, content end) of the element at `at`."""
        tag, length, start = self.der[at], self.der[at + 1], at + 2
        if length & 0x80:
            count = length & 0x7F
            if not 1 <= count <= 4:
                raise ValueError("unsupported length")
            length, start = int.from_bytes(self.der[start : start + count], "big"), start + count
        if start + length > len(self.der):
            raise ValueError("truncated")
        return tag, start, start + length

    def content(self, at: int, tag: int | None = None) -> bytes:
        found, start, end = self.header(at)
        if tag is not None and found != tag:
            raise ValueError(f"expected tag {tag:#x} at {at}, found {found:#x}")
        return self.der[start:end]

    def children(self, at: int, tag: int | None = None) -> list[int]:
        found, position, end = self.header(at)
        if tag is not None and found != tag:
            raise ValueError(f"expected tag {tag:#x} at {at}, found {found:#x}")
        starts = []
        while position < end:
            starts.append(position)
            position = self.header(position)[2]
        if position != end:
            raise ValueError("an element runs past its parent")
        return starts

    # -- values --

    def oid(self, at: int) -> str:
        data = self.content(at, OID)
        first = data[0]
        numbers, value = [min(first // 40, 2), first - 40 * min(first // 40, 2)], 0
        for byte in data[1:]:
            value = (value << 7) | (byte & 0x7F)
            if not byte & 0x80:
                numbers.append(value)
                value = 0
        return ".".join(map(str, numbers))

    def name(self, at: int) -> tuple[tuple[str, str], ...]:
        fields = []
        for rdn in self.children(at, SEQUENCE):
            for attribute in self.children(rdn):
                oid_at, value_at = self.children(attribute, SEQUENCE)[:2]
                oid = self.oid(oid_at)
                tag = self.der[value_at]
                raw = self.content(value_at)
                text = raw.decode("utf-16-be") if tag == 0x1E else raw.decode("utf-8" if tag == 0x0C else "latin-1")
                fields.append((SUBJECT_FIELDS.get(oid, oid), text))
        return tuple(fields)

    def time(self, at: int) -> dt.datetime:
        tag = self.der[at]
        text = self.content(at).decode("ascii")
        if tag == UTC_TIME:
            year = int(text[:2])
            text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"  # RFC 5280 4.1.2.5.1
        elif tag != GENERALIZED_TIME:
            raise ValueError("not a time")
        return dt.datetime.strptime(text.rstrip("Z")[:14], "%Y%m%d%H%M%S").replace(tzinfo=dt.UTC)

    def key(self, at: int) -> KeySpec | None:
        algorithm_at, bits_at = self.children(at, SEQUENCE)[:2]
        algorithm = self.children(algorithm_at, SEQUENCE)
        kind = self.oid(algorithm[0])
        if kind == ED25519:
            return KeySpec(type="ed25519")
        if kind == EC_PUBLIC_KEY:
            curve = CURVE_OIDS.get(self.oid(algorithm[1]))
            return KeySpec(type="ec", curve=curve) if curve else None  # type: ignore[arg-type]
        if kind == RSA:
            bits = self.content(bits_at, BIT_STRING)[1:]  # RSAPublicKey, after the unused-bits byte
            inner = _Reader(bits)
            modulus = inner.content(inner.children(0, SEQUENCE)[0], 0x02)
            return KeySpec(type="rsa", size=int.from_bytes(modulus, "big").bit_length())
        return None

    def sans(self, at: int) -> frozenset[San]:
        for extension in self.children(at, SEQUENCE):
            parts = self.children(extension, SEQUENCE)
            if self.oid(parts[0]) == SUBJECT_ALT_NAME:
                names = _Reader(self.content(parts[-1], OCTET_STRING))
                return frozenset(names.general_name(at) for at in names.children(0, SEQUENCE))
        return frozenset()

    def general_name(self, at: int) -> San:
        tag = self.der[at]
        kind = GENERAL_NAMES.get(tag)
        if kind is None:
            raise ValueError(f"a subject alternative name of a kind the tool never writes ({tag:#x})")
        raw = self.content(at)
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

"""What an unencrypted private key file says without openssl: its public key, as the DER of the
SubjectPublicKeyInfo a certificate for it carries. A kept build and `verify` compare the two for every
device, where two openssl processes a device (`pkey -pubout`, `x509 -pubkey`) cost ~7 ms.

Read: PKCS#8 (`PRIVATE KEY`) with RSA or EC inside, PKCS#1 (`RSA PRIVATE KEY`) and SEC1 (`EC PRIVATE
KEY`) unencrypted. An EC key's public point is the one openssl writes beside the private value; a key
without it, an Ed25519 key (its public key must be computed), an encrypted key or anything malformed
gives None: openssl is asked then, as before.
"""

from __future__ import annotations

import base64
import binascii

from .der import BIT_STRING, INTEGER, OCTET_STRING, OID, SEQUENCE, Reader
from .pem import blocks

RSA_ALGORITHM = bytes.fromhex("300d06092a864886f70d0101010500")  # rsaEncryption, NULL parameters
EC_PUBLIC_KEY_OID = bytes.fromhex("06072a8648ce3d0201")  # id-ecPublicKey
PUBLIC_KEY_TAG, PARAMETERS_TAG = 0xA1, 0xA0  # ECPrivateKey's [1] publicKey and [0] parameters


def public_key_info(pem: bytes) -> bytes | None:
    """The DER SubjectPublicKeyInfo of the unencrypted private key in `pem`, or None (ask openssl)."""
    found = [block for block in blocks(pem) if block.label in ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY")]
    if len(found) != 1 or b"ENCRYPTED" in found[0].text or b"Proc-Type" in found[0].body:
        return None
    try:
        der = base64.b64decode(b"".join(found[0].body.split()), validate=True)
        reader = Reader(der)
        if reader.header(0)[2] != len(der):
            return None
        if found[0].label == "RSA PRIVATE KEY":
            return _rsa(der)
        if found[0].label == "EC PRIVATE KEY":
            return _ec(der, None)
        return _pkcs8(reader)
    except (binascii.Error, IndexError, ValueError):
        return None


def _pkcs8(reader: Reader) -> bytes | None:
    version_at, algorithm_at, key_at, *_rest = reader.children(0, SEQUENCE)
    reader.content(version_at, INTEGER)
    algorithm = reader.element(algorithm_at)
    inner = reader.content(key_at, OCTET_STRING)
    if algorithm == RSA_ALGORITHM:
        return _rsa(inner)
    parts = reader.children(algorithm_at, SEQUENCE)
    if reader.element(parts[0]) == EC_PUBLIC_KEY_OID and len(parts) == 2 and reader.tag(parts[1]) == OID:
        return _ec(inner, algorithm)
    return None


def _rsa(der: bytes) -> bytes:
    """RSAPrivateKey (version, n, e, …) → SubjectPublicKeyInfo {rsaEncryption, RSAPublicKey {n, e}}."""
    reader = Reader(der)
    _version, modulus, exponent = reader.children(0, SEQUENCE)[:3]
    public = _tlv(SEQUENCE, reader.element(modulus) + reader.element(exponent))
    if reader.tag(modulus) != INTEGER or reader.tag(exponent) != INTEGER:
        raise ValueError("not an RSA private key")
    return _tlv(SEQUENCE, RSA_ALGORITHM + _tlv(BIT_STRING, b"\x00" + public))


def _ec(der: bytes, algorithm: bytes | None) -> bytes | None:
    """ECPrivateKey (version, private value, [0] curve, [1] public point) → SubjectPublicKeyInfo; the
    curve from PKCS#8's algorithm, or from [0] (SEC1)."""
    reader = Reader(der)
    fields = reader.children(0, SEQUENCE)
    tagged = {reader.tag(at): at for at in fields[2:]}
    if PUBLIC_KEY_TAG not in tagged:
        return None  # (openssl always writes it; without it the point must be computed)
    point = Reader(reader.content(tagged[PUBLIC_KEY_TAG]))
    if point.tag(0) != BIT_STRING:
        return None
    if algorithm is None:
        if PARAMETERS_TAG not in tagged:
            return None
        curve = Reader(reader.content(tagged[PARAMETERS_TAG]))
        if curve.tag(0) != OID:
            return None
        algorithm = _tlv(SEQUENCE, EC_PUBLIC_KEY_OID + curve.element(0))
    return _tlv(SEQUENCE, algorithm + point.element(0))


def _tlv(tag: int, content: bytes) -> bytes:
    """One DER element: tag, definite length, content."""
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content

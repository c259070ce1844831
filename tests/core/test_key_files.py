"""core.key_files: an unencrypted private key's public key read without openssl is exactly what
`openssl pkey -pubout -outform DER` says; anything else is None (then openssl is asked), never an error."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openssl_recipes.core.key_files import public_key_info

from ..helpers import require

FORMS = {
    "rsa-pkcs8": ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    "rsa-pkcs1": ["genrsa", "-traditional", "2048"],
    "ec-p256-pkcs8": ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    "ec-p384-sec1": ["ecparam", "-name", "secp384r1", "-genkey", "-noout"],
    "ec-p521-pkcs8": ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"],
}


def openssl(*args: str, data: bytes | None = None) -> bytes:
    return subprocess.run([require("openssl"), *args], input=data, capture_output=True, check=True).stdout


@pytest.fixture(scope="module")
def keys() -> dict[str, bytes]:
    return {form: openssl(*argv) for form, argv in FORMS.items()}


@pytest.mark.parametrize("form", list(FORMS))
def test_the_public_key_is_what_openssl_says(keys, form):
    assert public_key_info(keys[form]) == openssl("pkey", "-pubout", "-outform", "DER", data=keys[form])


def test_what_needs_openssl_is_left_to_it(keys):
    encrypted = openssl("pkey", "-aes256", "-passout", "pass:secret", data=keys["ec-p256-pkcs8"])
    traditional = openssl("rsa", "-traditional", "-aes256", "-passout", "pass:secret", data=keys["rsa-pkcs1"])
    ed25519 = openssl("genpkey", "-algorithm", "ed25519")
    for pem in (encrypted, traditional, ed25519, b"", b"-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n"):
        assert public_key_info(pem) is None
    assert public_key_info(keys["rsa-pkcs8"] + keys["ec-p256-pkcs8"]) is None  # two keys: not one key's file


@settings(max_examples=300)
@given(cut=st.integers(min_value=0, max_value=2000), flip=st.integers(min_value=0, max_value=2000), byte=st.integers(0, 255))
def test_a_damaged_key_is_none_or_a_public_key_never_an_error(cut, flip, byte):
    pem = FIXED_KEY
    body = bytearray(pem)
    if flip < len(body):
        body[flip] = byte
    result = public_key_info(bytes(body[: max(cut, 40)]))
    assert result is None or isinstance(result, bytes)


FIXED_KEY = b"""-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIH3KnCwFfKv6e7bXUw3PByc5HtGQ2iuOcJ1cYDVn1Yr3oAoGCCqGSM49
AwEHoUQDQgAEqlmCTwR1Hqr8JHVhvBfYhzmhi1tS2ryQKBDCIy1IJlF8dEZ2m8to
Zr0qFh3ofEVb0aqcQVDsjGoB1kvB5BV0Gg==
-----END EC PRIVATE KEY-----
"""

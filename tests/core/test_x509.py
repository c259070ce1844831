"""The tool's small DER reader (`der`) against certificates made independently by `cryptography`."""

from __future__ import annotations

import datetime as dt
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from openssl_recipes.core.x509 import KeySpec, San, Unreadable, read_certificate

from ..helpers import examples

FIELDS = [
    ("C", NameOID.COUNTRY_NAME),
    ("ST", NameOID.STATE_OR_PROVINCE_NAME),
    ("O", NameOID.ORGANIZATION_NAME),
    ("CN", NameOID.COMMON_NAME),
]
KEYS = {
    "rsa-1024": lambda: rsa.generate_private_key(65537, 1024),
    "ec-P-384": lambda: ec.generate_private_key(ec.SECP384R1()),
    "ec-P-521": lambda: ec.generate_private_key(ec.SECP521R1()),
    "ed25519": ed25519.Ed25519PrivateKey.generate,
}
EXPECTED_KEYS = {
    "rsa-1024": KeySpec("rsa", 1024),
    "ec-P-384": KeySpec("ec", curve="P-384"),
    "ec-P-521": KeySpec("ec", curve="P-521"),
    "ed25519": KeySpec("ed25519"),
}
SHARED_KEY = ec.generate_private_key(ec.SECP256R1())


def certificate(key, subject: list[tuple[str, str]], sans: list[x509.GeneralName], start: dt.datetime, days: int) -> bytes:
    oids = dict(FIELDS)
    name = x509.Name([x509.NameAttribute(oids[field], value) for field, value in subject])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    digest = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(key, digest).public_bytes(serialization.Encoding.PEM)


@pytest.mark.parametrize("kind", KEYS)
def test_key_types_and_sizes(kind):
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    facts = read_certificate(certificate(KEYS[kind](), [("CN", "x")], [], start, 30))
    assert facts.key == EXPECTED_KEYS[kind]
    assert facts.days == 30 and facts.not_before == start


def test_every_san_kind_and_both_time_forms():
    start = dt.datetime(2049, 12, 1, tzinfo=dt.UTC)  # notBefore in UTCTime, notAfter (2050+) in GeneralizedTime
    sans = [
        x509.DNSName("broker.example.com"),
        x509.IPAddress(ipaddress.ip_address("10.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("2001:db8::1")),
        x509.RFC822Name("ops@example.com"),
        x509.UniformResourceIdentifier("spiffe://example/edge"),
    ]
    facts = read_certificate(certificate(SHARED_KEY, [("C", "DE"), ("CN", "edge")], sans, start, 400))
    assert facts.sans == {
        San("DNS", "broker.example.com"),
        San("IP", "10.0.0.1"),
        San("IP", "2001:db8::1"),
        San("email", "ops@example.com"),
        San("URI", "spiffe://example/edge"),
    }
    assert facts.not_after == dt.datetime(2051, 1, 5, tzinfo=dt.UTC) and facts.subject == (("C", "DE"), ("CN", "edge"))


text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=40).filter(
    lambda value: len(value.encode("utf-8")) <= 64  # cryptography bounds a CN by its UTF-8 bytes
)


@settings(max_examples=examples(60))
@given(
    subject=st.lists(st.tuples(st.sampled_from(["ST", "O", "CN"]), text), min_size=1, max_size=5),
    dns=st.lists(st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?(\.[a-z]{2,6}){0,2}", fullmatch=True), max_size=4),
    days=st.integers(1, 40000),
)
def test_subjects_sans_and_days_read_as_cryptography_wrote_them(subject, dns, days):
    start = dt.datetime(2026, 11, 29, 8, 30, tzinfo=dt.UTC)
    pem = certificate(SHARED_KEY, subject, [x509.DNSName(name) for name in dns], start, days)
    facts = read_certificate(pem)
    assert facts.subject == tuple(subject)
    assert facts.sans == {San("DNS", name) for name in dns}
    assert facts.days == days and facts.key == KeySpec("ec", curve="P-256")


@pytest.mark.parametrize(
    "pem",
    [
        b"",
        b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
        b"-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n",  # SEQUENCE { INTEGER 1 }
        b"-----BEGIN CERTIFICATE-----\nMIIBAAA=\n-----END CERTIFICATE-----\n",  # a length past the end
    ],
)
def test_what_is_not_a_certificate_is_unreadable_never_a_crash(pem):
    with pytest.raises(Unreadable):
        read_certificate(pem)


@settings(max_examples=examples(200))
@given(st.binary(max_size=300))
def test_any_bytes_are_read_or_refused_as_unreadable(data):
    import base64

    pem = b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(data) + b"-----END CERTIFICATE-----\n"
    try:
        read_certificate(pem)
    except Unreadable:
        pass


REAL = certificate(SHARED_KEY, [("CN", "edge")], [x509.DNSName("a.example")], dt.datetime(2026, 1, 1, tzinfo=dt.UTC), 30)


@settings(max_examples=examples(300))
@given(position=st.integers(0, 10_000), value=st.integers(0, 255), cut=st.booleans())
def test_a_damaged_certificate_is_read_or_refused_as_unreadable(position, value, cut):
    import base64

    der = bytearray(base64.b64decode(b"".join(REAL.splitlines()[1:-1])))
    position %= len(der)
    if cut:
        der = der[:position]
    else:
        der[position] = value
    pem = b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(bytes(der)) + b"-----END CERTIFICATE-----\n"
    try:
        read_certificate(pem)
    except Unreadable:
        pass


def test_issuer_serial_fingerprint_and_san_order_read_as_cryptography_wrote_them(tmp_path):
    """Read as cryptography wrote them, and spelled as openssl's text spells them (what `show` printed
    when it ran openssl)."""
    import subprocess

    from cryptography.hazmat.primitives import hashes as h

    from openssl_recipes.core.x509 import fingerprint_text, name_text, san_text, serial_text

    sans = [
        x509.DNSName("b.example"),
        x509.IPAddress(ipaddress.ip_address("2001:db8::1")),
        x509.DNSName("a.example"),
        x509.IPAddress(ipaddress.ip_address("192.0.2.7")),
    ]
    subject = [("C", "DE"), ("O", "Acme, Inc"), ("CN", "édge")]
    pem = certificate(SHARED_KEY, subject, sans, dt.datetime(2026, 1, 1, tzinfo=dt.UTC), 9)
    written = x509.load_pem_x509_certificate(pem)
    facts = read_certificate(pem)
    assert facts.serial == written.serial_number and facts.sha256 == written.fingerprint(h.SHA256())
    assert facts.issuer_name == facts.subject_name == tuple((pair,) for pair in subject)
    (tmp_path / "c.pem").write_bytes(pem)
    text = subprocess.run(
        ["openssl", "x509", "-in", str(tmp_path / "c.pem"), "-noout", "-nameopt", "utf8,sep_comma_plus_space"]
        + ["-subject", "-issuer", "-serial", "-fingerprint", "-sha256", "-ext", "subjectAltName"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert text[:4] == [
        f"subject={name_text(facts.subject_name)}",
        f"issuer={name_text(facts.issuer_name)}",
        f"serial={serial_text(facts.serial)}",
        f"sha256 Fingerprint={fingerprint_text(facts.sha256)}",
    ]
    assert text[5].strip() == ", ".join(san_text(s) for s in facts.names)


@pytest.mark.parametrize(
    ("cipher", "expected"), [("-des3", "des-ede3-cbc"), ("-aes256", "aes-256-cbc"), ("-aes128", "aes-128-cbc")]
)
def test_an_encrypted_keys_cipher_is_read_from_its_der(tmp_path, cipher, expected):
    import os
    import subprocess

    from openssl_recipes.core.x509 import key_cipher

    key = tmp_path / "key.pem"
    env = {**os.environ, "PW": "secret"}
    subprocess.run(
        [
            "openssl",
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            cipher,
            "-pass",
            "env:PW",
            "-out",
            str(key),
        ],
        check=True,
        env=env,
    )
    assert key_cipher(key.read_bytes()) == expected
    plain = tmp_path / "plain.pem"
    subprocess.run(["openssl", "pkey", "-in", str(key), "-passin", "env:PW", "-out", str(plain)], check=True, env=env)
    assert key_cipher(plain.read_bytes()) is None  # not an encrypted PKCS#8 key

"""`show --tree`: the PKI as a tree, with what verifies and what does not (real openssl)."""

from __future__ import annotations

import shutil

from ..helpers import cli, foreign_pki, write_recipe

FLEET = """\
output: certs
defaults: {key_type: ec, subject: {O: Tree}}
ca: {subject: {CN: Tree CA}}
intermediate: {subject: {CN: Tree Issuing}}
servers:
  - {name: server, subject: {CN: localhost}, san: [localhost]}
clients:
  - {name: 'device-{n:03d}', count: 5, subject: {CN: 'device-{n:03d}'}}
  - {name: ops, subject: {CN: ops}, days: 10}
"""


def test_the_tree_shows_the_chain_a_fleet_as_one_node_and_what_is_wrong(tmp_path):
    recipe = write_recipe(tmp_path, FLEET)
    assert cli("build", "--recipe", str(recipe)).code == 0
    shown = cli("show", "--tree", "--recipe", str(recipe))
    assert shown.code == 0, shown
    lines = shown.stdout.splitlines()
    assert lines[0] == "✔ ca.pem (root CA ca, EC P-256, 3649 days left)"
    assert lines[1].endswith("✔ intermediate.pem (intermediate CA intermediate, EC P-256, 3649 days left)")
    assert any(
        line.endswith("✔ device-001 … device-005 (5 certificates, EC P-256, expiries " + line.split("expiries ")[-1])
        for line in lines
    )
    assert any(line.endswith("✔ ops.pem (ops, EC P-256, 9 days left)") for line in lines)
    assert "\x1b[" not in shown.stdout  # no colour off a terminal

    certs = tmp_path / "certs"
    (certs / "device-002.pem").unlink()
    shutil.copy(foreign_pki(tmp_path) / "client.pem", certs / "device-004.pem")  # signed by another CA
    every = cli("show", "--tree", "--all", "--recipe", str(recipe)).stdout
    assert "✘ device-002.pem (device-002): missing — run `openssl-recipes build`" in every
    assert "✘ not signed by its CA device-004.pem" in every
    assert "✔ device-003.pem (device-003, EC P-256, 3649 days left)" in every
    collapsed = cli("show", "--tree", "--recipe", str(recipe)).stdout
    assert "✘ 1 missing (device-002); 1 not signed by its CA (device-004) device-001 … device-005" in collapsed
    for n in range(1, 6):
        (certs / f"device-{n:03d}.pem").unlink(missing_ok=True)
    gone = cli("show", "--tree", "--recipe", str(recipe)).stdout
    assert "✘ device-001 … device-005 (5 certificates): missing — run `openssl-recipes build`" in gone, gone


def test_a_certificate_the_reader_cannot_read_is_unreadable_never_missing(small_pki):
    """A valid certificate with a SAN of a kind the tool never writes (an otherName, made by cryptography)."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID, ObjectIdentifier

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "client")])
    now = dt.datetime.now(dt.UTC)
    other = x509.OtherName(ObjectIdentifier("1.3.6.1.4.1.311.20.2.3"), b"\x0c\x03a@b")
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([other]), critical=False)
        .sign(key, hashes.SHA256())
    )
    (small_pki / "client.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    shown = cli("show", "--tree", "--recipe", str(small_pki.recipe))
    assert shown.code == 0 and "✘ client.pem (client): unreadable — a subject alternative name of a kind" in shown.stdout, shown
    assert "client.pem (client): missing" not in shown.stdout

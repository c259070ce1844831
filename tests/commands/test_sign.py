"""`sign`: requests made on devices (real openssl), signed with the strict extensions of their role."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cryptography import x509

from ..helpers import SMALL_RECIPE, cli, foreign_pki, load_cert, logging_openssl, read_calls, require, write_recipe


def device_request(folder: Path, name: str, key: list[str], extra: list[str] = ()) -> Path:
    """A key and a request made the way a device makes them: the key stays in `folder`."""
    folder.mkdir(exist_ok=True)
    subprocess.run(
        [require("openssl"), "req", "-new", "-newkey", *key, "-nodes", "-keyout", str(folder / f"{name}.key")]
        + ["-out", str(folder / f"{name}.csr"), "-subj", f"/CN={name}", *extra],
        check=True,
        capture_output=True,
    )
    return folder / f"{name}.csr"


EC = ["ec", "-pkeyopt", "ec_paramgen_curve:P-256"]


@pytest.fixture
def pki(copy_pki):
    return copy_pki(SMALL_RECIPE.replace("subject: {C: DE, O: Test}", "subject: {C: DE, O: Test}\n  key_type: ec")).recipe


def verify(folder: Path, cert: str, purpose: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["openssl", "verify", "-x509_strict", "-purpose", purpose, "-CAfile", "ca.pem", cert],
        cwd=folder,
        capture_output=True,
        text=True,
    )


def test_a_request_asking_for_ca_true_still_gets_a_strict_client_certificate_and_the_key_stays_on_the_device(pki, tmp_path):
    csr = device_request(tmp_path / "device", "sensor-7", EC, ["-addext", "basicConstraints=critical,CA:TRUE"])
    signed = cli("sign", "--csr", str(csr), "--as", "client", "--recipe", str(pki))
    assert signed.code == 0 and "signed sensor-7.pem (client, 825 days)" in signed.stdout, signed
    certs = tmp_path / "certs"
    cert = load_cert(certs / "sensor-7.pem")
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value == x509.ExtendedKeyUsage([x509.OID_CLIENT_AUTH])
    assert verify(certs, "sensor-7.pem", "sslclient").returncode == 0
    assert not (certs / "sensor-7.key").exists()  # the key never left the device
    request = x509.load_pem_x509_csr(csr.read_bytes())
    assert cert.public_key().public_numbers() == request.public_key().public_numbers()


def test_a_server_request_gets_its_sans_and_passes_strict_verification(pki, tmp_path):
    csr = device_request(tmp_path / "device", "edge-broker", ["rsa:2048"])
    signed = cli("sign", "--csr", str(csr), "--as", "server", "--san", "edge.local", "--san", "10.1.2.3", "--recipe", str(pki))
    assert signed.code == 0, signed
    cert = load_cert(tmp_path / "certs" / "edge-broker.pem")
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["edge.local"]
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["10.1.2.3"]
    assert verify(tmp_path / "certs", "edge-broker.pem", "sslserver").returncode == 0


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda d: device_request(d, "weak", ["rsa:1024"]), "RSA 1024 is weaker than the recipe allows"),
        (
            lambda d: device_request(d, "curve", ["ec", "-pkeyopt", "ec_paramgen_curve:secp256k1"]),
            "weaker than the recipe allows",
        ),
        (lambda d: tamper(device_request(d, "tampered", EC)), "signature does not verify"),
        (lambda d: device_request(d, "client", EC), "'client' is an entry of the recipe"),
    ],
    ids=["rsa-1024", "secp256k1", "tampered", "recipe-name"],
)
def test_a_request_the_recipe_does_not_allow_is_refused_with_the_reason_and_nothing_is_written(pki, tmp_path, make, reason):
    csr = make(tmp_path / "device")
    before = sorted(p.name for p in (tmp_path / "certs").iterdir())
    refused = cli("sign", "--csr", str(csr), "--as", "client", "--recipe", str(pki))
    assert refused.code == 2 and reason in refused.stderr, refused
    assert sorted(p.name for p in (tmp_path / "certs").iterdir()) == before


def tamper(csr: Path) -> Path:
    """The same request with its subject changed after signing: the signature no longer verifies."""
    request = x509.load_pem_x509_csr(csr.read_bytes())
    der = bytearray(
        request.public_bytes(__import__("cryptography.hazmat.primitives.serialization", fromlist=["Encoding"]).Encoding.DER)
    )
    index = der.index(b"tampered")
    der[index : index + 8] = b"TAMPERED"
    import base64

    csr.write_bytes(
        b"-----BEGIN CERTIFICATE REQUEST-----\n" + base64.encodebytes(bytes(der)) + b"-----END CERTIFICATE REQUEST-----\n"
    )
    return csr


def test_a_folder_of_requests_is_signed_once_and_the_dry_run_prints_what_runs(pki, tmp_path):
    devices = tmp_path / "device"
    for n in range(1, 4):
        device_request(devices, f"dev-{n}", EC)
    env, log = logging_openssl(tmp_path)
    printed = cli("sign", "--csr-dir", str(devices), "--as", "client", "--dry-run", "--recipe", str(pki), env=env)
    assert printed.code == 0, printed
    commands = [line for line in printed.stdout.splitlines() if line.startswith("openssl ca -batch")]
    assert len(commands) == 1 and commands[0].endswith(" > .openssl-recipes.batch/1.pem")  # one openssl for the three
    log.unlink(missing_ok=True)
    signed = cli("sign", "--csr-dir", str(devices), "--as", "client", "--recipe", str(pki), env=env)
    assert signed.code == 0 and signed.stdout.count("signed dev-") == 3, signed
    ran = [call["argv"] for call in read_calls(log) if call["argv"].startswith("openssl ca")]
    assert [f"{argv} > .openssl-recipes.batch/1.pem" for argv in ran] == commands
    assert not [call for call in read_calls(log) if call["argv"].startswith(("openssl x509 -req", "openssl req"))]
    assert not (tmp_path / "certs" / ".openssl-recipes.batch").exists()  # the batch's database: for one run
    again = cli("sign", "--csr-dir", str(devices), "--as", "client", "--recipe", str(pki))
    assert again.code == 0 and "kept 3 already signed and valid" in again.stdout and "signed dev-" not in again.stdout, again
    for n in range(1, 4):
        assert verify(tmp_path / "certs", f"dev-{n}.pem", "sslclient").returncode == 0
    assert cli("verify", "--recipe", str(pki)).code == 0  # the recipe's own PKI is untouched


def test_a_batch_names_each_certificate_by_its_requests_key_and_skips_a_tampered_one(pki, tmp_path):
    """`openssl ca` skips a request whose signature does not verify and signs the rest: the certificates
    after it must not shift onto the wrong names, and the printed script names nothing in that case."""
    devices = tmp_path / "device"
    device_request(devices, "a-asks-ca", EC, ["-addext", "basicConstraints=critical,CA:TRUE", "-subj", "/O=Dev/CN=a-asks-ca"])
    tamper(device_request(devices, "b-tampered", EC))
    for name in ("c-one", "d-two"):
        device_request(devices, name, ["rsa:2048"] if name == "d-two" else EC)
    script = cli("sign", "--csr-dir", str(devices), "--as", "client", "--dry-run", "--recipe", str(pki))
    assert script.code == 0 and script.stdout.count("openssl ca -batch") == 1, script
    assert "openssl x509 -req -in " in script.stdout  # the RSA key: its own section, a batch of one
    result = cli("sign", "--csr-dir", str(devices), "--as", "client", "--recipe", str(pki))
    assert result.code == 1 and "1 of the requests in" in result.stderr, result
    assert "b-tampered.csr: the request's signature does not verify" in result.stderr, result
    certs = tmp_path / "certs"
    assert not (certs / "b-tampered.pem").exists()
    for name in ("a-asks-ca", "c-one", "d-two"):
        cert = load_cert(certs / f"{name}.pem")
        request = x509.load_pem_x509_csr((devices / f"{name}.csr").read_bytes())
        assert cert.public_key().public_numbers() == request.public_key().public_numbers(), name
        assert cert.subject == request.subject, name  # as the device wrote it (-preserveDN)
        assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
        assert verify(certs, f"{name}.pem", "sslclient").returncode == 0
    for name in ("a-asks-ca", "c-one", "d-two"):
        (certs / f"{name}.pem").unlink()
    (certs / ".openssl-recipes.signed").unlink()
    ran = subprocess.run(["bash", "-e"], input=script.stdout, cwd=certs, capture_output=True, text=True)
    assert ran.returncode == 1 and "openssl ca signed 2 of 3 requests: nothing named" in ran.stderr, ran.stderr
    assert not (certs / "a-asks-ca.pem").exists() and not (certs / "b-tampered.pem").exists()


DEVICES = """\
output: certs
defaults: {key_type: ec, subject: {O: Dev}}
ca: {subject: {CN: Dev CA}}
servers:
  - {name: server, subject: {CN: localhost}, san: [localhost]}
clients:
  - {name: client, subject: {CN: client}}
  - {name: sensor, csr: device/sensor.csr}
  - {name: 'fleet-{n}', count: 2, csr: 'device/fleet-{n}.csr'}
"""


def test_a_recipe_that_lists_devices_with_their_own_requests_plans_builds_and_verifies(tmp_path):
    device_request(tmp_path / "device", "sensor", ["rsa:2048"])
    for n in (1, 2):
        device_request(tmp_path / "device", f"fleet-{n}", EC)
    recipe = write_recipe(tmp_path, DEVICES)
    planned = cli("plan", "--recipe", str(recipe))
    assert planned.code == 0, planned
    device_lines = [line for line in planned.stdout.splitlines() if "sensor" in line or "fleet-" in line]
    commands = [line for line in device_lines if line.startswith("openssl ")]
    # no keys, no requests: the lone device's request signed by x509 -req, the fleet's by one openssl ca
    assert [line.split()[1] for line in commands] == ["x509", "ca"], commands
    device = tmp_path / "device"
    assert commands[1].endswith(f"-infiles {device}/fleet-1.csr {device}/fleet-2.csr > .openssl-recipes.batch/1.pem")
    built = cli("build", "--recipe", str(recipe))
    assert built.code == 0 and "made sensor.pem" in built.stdout and "warning" not in built.stderr, built
    certs = tmp_path / "certs"
    assert not any(name.startswith(("sensor.key", "fleet-1.key")) for name in (p.name for p in certs.iterdir()))
    for name in ("sensor", "fleet-1", "fleet-2"):
        cert = load_cert(certs / f"{name}.pem")
        request = x509.load_pem_x509_csr((tmp_path / "device" / f"{name}.csr").read_bytes())
        assert cert.public_key().public_numbers() == request.public_key().public_numbers()
        assert verify(certs, f"{name}.pem", "sslclient").returncode == 0
    again = cli("build", "--recipe", str(recipe))
    assert again.code == 0 and "made 0" in again.stdout and "warning" not in again.stderr, again
    checked = cli("verify", "--recipe", str(recipe))
    assert checked.code == 0, checked
    assert cli("handshake", "--recipe", str(recipe)).code == 0  # the devices' keys are not here: not tried
    # a request replaced on the device (a new key): the kept certificate no longer carries it, so build re-signs
    device_request(tmp_path / "device", "sensor", EC)
    resigned = cli("build", "--recipe", str(recipe))
    assert resigned.code == 0 and "made sensor.pem" in resigned.stdout, resigned
    refused = cli("renew", "sensor", "--rekey", "--recipe", str(recipe))
    assert refused.code == 2 and "the key is on the device" in refused.stderr, refused


@pytest.mark.parametrize(
    "entry, reason",
    [
        ("{name: sensor, csr: device/missing.csr}", "cannot read the device's request"),
        ("{name: sensor, csr: device/weak.csr}", "RSA 1024 is weaker than the recipe allows"),
        ("{name: sensor, csr: device/sensor.csr, password: {env: X}}", "the key stays on the device"),
    ],
    ids=["missing", "weak", "password"],
)
def test_a_device_entry_the_recipe_cannot_use_is_refused_at_load(tmp_path, entry, reason):
    device_request(tmp_path / "device", "sensor", EC)
    device_request(tmp_path / "device", "weak", ["rsa:1024"])
    recipe = write_recipe(tmp_path, f"ca: {{subject: {{CN: R}}}}\nclients:\n  - {entry}\n")
    result = cli("plan", "--recipe", str(recipe))
    assert result.code == 2 and "clients[0]" in result.stderr and reason in result.stderr, result


def test_a_bad_request_in_a_folder_is_reported_and_the_rest_are_signed(pki, tmp_path):
    requests = tmp_path / "batch"
    device_request(requests, "good-1", EC)
    device_request(requests, "good-2", EC)
    (requests / "broken.csr").write_text("-----BEGIN CERTIFICATE REQUEST-----\nnot base64!\n-----END CERTIFICATE REQUEST-----\n")
    result = cli("sign", "--csr-dir", str(requests), "--as", "client", "--recipe", str(pki))
    assert result.code == 1 and "1 of the requests in" in result.stderr and "broken.csr" in result.stderr, result
    assert "signed good-1.pem" in result.stdout and "signed good-2.pem" in result.stdout, result


@pytest.mark.parametrize(
    ("change", "cn", "file"),
    [
        (
            ("    subject: {CN: client}\n", "    subject: {CN: client}\n    key_file: client-key.pem\n"),
            "client-key",
            "client-key.pem",
        ),
        (("  subject: {CN: Test CA}\n", "  subject: {CN: Test CA}\n  name: root\n  cert_file: ca.pem\n"), "ca", "ca.pem"),
        (("", ""), "crl", "crl.pem"),
        (("", ""), "client-fullchain", "client-fullchain.pem"),
    ],
)
def test_a_request_named_like_a_file_the_recipe_writes_is_refused_and_that_file_stays(copy_pki, tmp_path, change, cn, file):
    """CN `client-key` overwrote the client's private key with a certificate; CN `ca` the CA certificate."""
    pki = copy_pki(SMALL_RECIPE.replace(*change)).recipe
    certs = pki.parent / "certs"
    if file == "crl.pem":
        assert cli("crl", "--recipe", str(pki)).code == 0
    target = certs / file
    before = target.read_bytes() if target.exists() else None
    csr = device_request(tmp_path / "device", cn, EC)
    refused = cli("sign", "--csr", str(csr), "--as", "client", "--recipe", str(pki))
    assert refused.code == 2 and f"its certificate would be {file}, a file the recipe's" in refused.stderr, refused
    assert (target.read_bytes() if target.exists() else None) == before
    named = cli("sign", "--csr", str(csr), "--as", "client", "--name", f"{cn}-device", "--recipe", str(pki))
    assert named.code == 0 and f"signed {cn}-device.pem" in named.stdout, named


def test_a_second_request_under_a_signed_name_keeps_the_first_certificate(pki, tmp_path):
    first = device_request(tmp_path / "one", "sensor-9", EC)
    second = device_request(tmp_path / "two", "sensor-9", EC)  # another device, another key, the same CN
    assert cli("sign", "--csr", str(first), "--as", "client", "--recipe", str(pki)).code == 0
    certs = tmp_path / "certs"
    earlier = (certs / "sensor-9.pem").read_bytes()
    again = cli("sign", "--csr", str(second), "--as", "client", "--recipe", str(pki))
    assert again.code == 0 and "the certificate it replaces is kept as sensor-9.pem." in again.stdout, again
    assert [b.read_bytes() for b in certs.glob("sensor-9.pem.*.bak")] == [earlier]
    request = x509.load_pem_x509_csr(second.read_bytes())
    assert load_cert(certs / "sensor-9.pem").public_key().public_numbers() == request.public_key().public_numbers()


def test_a_file_sign_did_not_write_is_never_replaced_and_clean_removes_what_it_did(pki, tmp_path):
    """The ownership registry has sign's part (its list): a PEM of the user's where a certificate would go
    is refused (exit 2, unchanged); what sign wrote, clean removes; the user's file stays."""
    certs = tmp_path / "certs"
    theirs = foreign_pki(tmp_path) / "client.pem"  # a certificate of another CA, put there by the user
    (certs / "partner.pem").write_bytes(theirs.read_bytes())
    before = (certs / "partner.pem").read_bytes()
    refused = cli("sign", "--csr", str(device_request(tmp_path / "d", "partner", EC)), "--as", "client", "--recipe", str(pki))
    assert refused.code == 2 and "partner.pem exists and was not signed by this tool" in refused.stderr, refused
    assert (certs / "partner.pem").read_bytes() == before and not list(certs.glob("partner.pem.*.bak"))
    assert (
        cli("sign", "--csr", str(device_request(tmp_path / "d", "sensor-3", EC)), "--as", "client", "--recipe", str(pki)).code
        == 0
    )
    again = cli("sign", "--csr", str(device_request(tmp_path / "e", "sensor-3", EC)), "--as", "client", "--recipe", str(pki))
    assert again.code == 0, again  # its own, listed: replaced with a backup
    cleaned = cli("clean", "--recipe", str(pki))
    assert cleaned.code == 0 and "sensor-3.pem" in cleaned.stdout, cleaned
    assert not (certs / "sensor-3.pem").exists() and (certs / "partner.pem").read_bytes() == before

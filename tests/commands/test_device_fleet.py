"""A recipe's fleet of devices that made their own requests (`csr:`): signed by `openssl ca` in batches
(real openssl), what `plan` prints run as printed, each certificate named by its request's key."""

from __future__ import annotations

import subprocess

from cryptography import x509

from ..helpers import cli, load_cert, logging_openssl, read_calls, write_recipe
from .test_sign import EC, device_request, tamper

FLEET = """\
output: certs
defaults: {key_type: ec, subject: {O: Dev}}
ca: {subject: {CN: Dev CA}}
intermediate: {subject: {CN: Dev Issuing CA}}
clients:
  - {name: 'dev-{n}', count: 5, csr: 'device/dev-{n}.csr'}
"""


def test_a_fleet_of_requests_is_signed_in_one_openssl_and_only_what_is_missing_is_signed_again(tmp_path):
    device = tmp_path / "device"
    for n in range(1, 6):
        device_request(device, f"dev-{n}", EC)
    recipe = write_recipe(tmp_path, FLEET)
    env, log = logging_openssl(tmp_path)
    planned = cli("plan", "--recipe", str(recipe))
    assert planned.code == 0, planned
    batch = [line for line in planned.stdout.splitlines() if line.startswith("openssl ca -batch")]
    assert len(batch) == 1 and "openssl x509 -req -in " + str(device) not in planned.stdout, planned.stdout
    built = cli("build", "--recipe", str(recipe), env=env)
    assert built.code == 0 and built.stdout.count("made dev-") == 10, built  # five certificates, five chains
    ran = [call["argv"] for call in read_calls(log) if call["argv"].startswith("openssl ca")]
    assert [f"{argv} > .openssl-recipes.batch/1.pem" for argv in ran] == batch  # run exactly as printed
    certs = tmp_path / "certs"
    assert not (certs / ".openssl-recipes.batch").exists()  # the batch's database: for one run
    for n in range(1, 6):
        cert = load_cert(certs / f"dev-{n}.pem")
        request = x509.load_pem_x509_csr((device / f"dev-{n}.csr").read_bytes())
        assert cert.public_key().public_numbers() == request.public_key().public_numbers(), n
        assert cert.subject == request.subject  # as the device wrote it
        chain = (certs / f"dev-{n}-chain.pem").read_text()
        assert chain == (certs / f"dev-{n}.pem").read_text() + (certs / "intermediate.pem").read_text()
    assert cli("verify", "--recipe", str(recipe)).code == 0
    # one certificate gone: the batch is narrowed to its request, and its chain remade
    (certs / "dev-4.pem").unlink()
    log.unlink()
    again = cli("build", "--recipe", str(recipe), env=env)
    assert again.code == 0 and "made 2," in again.stdout and "made dev-4.pem" in again.stdout, again
    ran = [call["argv"] for call in read_calls(log) if call["argv"].startswith("openssl ca")]
    assert len(ran) == 1 and ran[0].endswith(f"-infiles {device}/dev-4.csr"), ran
    renewing = cli("renew", "dev-2", "--dry-run", "--recipe", str(recipe))
    assert renewing.code == 0 and f"-infiles {device}/dev-2.csr > " in renewing.stdout, renewing
    renewed = cli("renew", "dev-2", "--recipe", str(recipe))
    assert renewed.code == 0 and "renewed dev-2.pem" in renewed.stdout, renewed
    # the script `plan --script` prints builds the same PKI without the tool
    script = cli("plan", "--script", "--recipe", str(recipe))
    certs.rename(tmp_path / "built")
    ran_script = subprocess.run(["bash"], input=script.stdout, cwd=tmp_path, capture_output=True, text=True)
    assert ran_script.returncode == 0, ran_script.stderr
    strict = ["openssl", "verify", "-x509_strict", "-purpose", "sslclient", "-CAfile", "ca.pem", "-untrusted", "intermediate.pem"]
    checked = subprocess.run([*strict, *(f"dev-{n}.pem" for n in range(1, 6))], cwd=certs, capture_output=True, text=True)
    assert checked.returncode == 0 and checked.stdout.count(": OK") == 5, checked
    assert not (certs / ".openssl-recipes.batch").exists()


def test_a_device_request_whose_signature_fails_stops_the_build_naming_it(tmp_path):
    device = tmp_path / "device"
    for n in range(1, 4):
        device_request(device, f"dev-{n}", EC, ["-subj", f"/O=tampered/CN=dev-{n}"] if n == 2 else [])
    tamper(device / "dev-2.csr")
    recipe = write_recipe(tmp_path, FLEET.replace("count: 5", "count: 3"))
    built = cli("build", "--recipe", str(recipe))
    assert built.code == 1, built
    assert f"openssl ca signed no certificate for {device}/dev-2.csr" in built.stderr, built.stderr
    assert "Traceback" not in built.stderr
    certs = tmp_path / "certs"
    assert not (certs / "dev-2.pem").exists() and not (certs / ".openssl-recipes.batch").exists()

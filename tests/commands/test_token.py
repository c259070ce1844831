"""A CA key in a PKCS#11 token (a real SoftHSM2 token per test, OpenSSL 3.0's pkcs11 engine): the same
openssl commands, printed or run; the certificates checked with `cryptography` against the public key
pkcs11-tool reads from the token; the PIN on no argv and in no child that does not read it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ..helpers import load_cert, logging_openssl, make_device_requests, read_calls, require, run, tree, write_recipe
from ..token_helpers import PIN, new_token, token_recipe

PKCS11_TOOL_WRAPPER = """#!{python}
import json, os, shlex, sys
with open({log!r}, "a") as log:
    log.write(json.dumps({{"argv": shlex.join(["pkcs11-tool", *sys.argv[1:]]), "env": sorted(os.environ), "cwd": os.getcwd()}}) + "\\n")
os.execv({real!r}, [{real!r}, *sys.argv[1:]])
"""

FLEETS = """\
output: certs
defaults: {key_type: ec, subject: {O: Token}}
ca: {subject: {CN: Token Root}, key: {pkcs11: 'pkcs11:token=ca;object=root'}, password: {env: CA_PIN}}
intermediate: {subject: {CN: Token Issuing}, key: {pkcs11: 'pkcs11:token=ca;object=issuing'}, password: {env: CA_PIN}}
servers:
  - {name: server, subject: {CN: localhost}, san: [localhost, 127.0.0.1]}
clients:
  - {name: 'dev-{n:03d}', count: 70}
  - {name: 'own-{n:03d}', count: 70, csr: 'device/own-{n:03d}.csr'}
"""


def logging_tools(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """openssl and pkcs11-tool first on PATH, each logging its argv and its environment's names."""
    env, log = logging_openssl(tmp_path)
    wrapper = tmp_path / "wrapper-bin" / "pkcs11-tool"
    wrapper.write_text(PKCS11_TOOL_WRAPPER.format(python=sys.executable, log=str(log), real=require("pkcs11-tool")))
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return env, log


def strict_verify(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", "verify", "-x509_strict", *args], cwd=folder, capture_output=True, text=True)


def spki(cert: x509.Certificate) -> bytes:
    return cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def test_the_default_scenario_signs_with_the_token_exactly_as_planned_and_the_pin_stays_with_its_children(tmp_path):
    token = new_token(tmp_path / "hsm")
    recipe = write_recipe(tmp_path, token_recipe())
    env, log = logging_tools(tmp_path)
    env |= token.env
    planned = run("plan", "--recipe", str(recipe), env=env)
    assert planned.code == 0, planned
    commands = [line for line in planned.stdout.splitlines() if line.startswith(("openssl ", "pkcs11-tool "))]
    assert commands[0].startswith(f"pkcs11-tool --module {token.module()} --token-label ca --login --pin env:CA_PIN --keypairgen")
    assert f"export PKCS11_MODULE_PATH={token.module()}\n" in planned.stdout
    assert "x509 -req -in server.csr -CA ca.pem -engine pkcs11 -CAkeyform engine -CAkey " in planned.stdout
    assert "# needs CA_PIN set to the token's PIN" in planned.stdout and "req -x509 -CA" in planned.stdout  # said once
    log.unlink()
    built = run("build", "--recipe", str(recipe), "--jobs", "1", env=env)
    assert built.code == 0, built
    calls = read_calls(log)
    probes = [c for c in calls if c["argv"].startswith("openssl pkey -engine pkcs11 -pubin")]  # the token's public key, no PIN
    ran = [c["argv"] for c in calls if c not in probes and c["argv"] != "openssl version"]
    assert ran == commands  # run exactly as printed, in order
    for call in calls:
        assert PIN not in call["argv"], call
        reads_pin = "env:CA_PIN" in call["argv"]
        assert ("CA_PIN" in call["env"]) == reads_pin, call  # only the children that read it
        assert reads_pin == ("-engine pkcs11" in call["argv"] and call not in probes or "--pin" in call["argv"]), call
    assert PIN not in built.output and PIN not in planned.output
    assert token.labels() == ["root"]
    certs = tmp_path / "certs"
    ca = load_cert(certs / "ca.pem")
    assert spki(ca) == token.public_key("root")  # the certificate carries the token's key, read by pkcs11-tool
    assert not (certs / "ca.key").exists()
    ca.verify_directly_issued_by(ca)
    for name in ("server.pem", "client.pem"):
        load_cert(certs / name).verify_directly_issued_by(ca)
    checked = strict_verify(certs, "-CAfile", "ca.pem", "server.pem", "client.pem")
    assert checked.returncode == 0 and checked.stdout.count(": OK") == 2, checked
    verified = run("verify", "--recipe", str(recipe), env=token.env)
    assert verified.code == 0, verified
    shook = run("handshake", "--recipe", str(recipe), env=token.env)  # a real mutual-TLS handshake on 127.0.0.1
    assert shook.code == 0 and "as expected" in shook.stdout, shook
    # built again: the token's key is kept (never a second key under its label), nothing is made
    again = run("build", "--recipe", str(recipe), env=token.env)
    assert again.code == 0 and "made 0," in again.stdout, again
    assert token.labels() == ["root"]


def test_an_intermediate_fleets_batches_revocation_and_renewal_sign_in_the_token(tmp_path):
    token = new_token(tmp_path / "hsm")
    make_device_requests(yaml.safe_load(FLEETS), tmp_path)
    recipe = write_recipe(tmp_path, FLEETS)
    planned = run("plan", "--recipe", str(recipe), env=token.env)
    assert planned.code == 0, planned
    assert (
        "openssl ca -batch " in planned.stdout
        and " -engine pkcs11 -keyform engine -passin env:CA_PIN -infiles " in planned.stdout
    )
    assert (
        "req -new -engine pkcs11 -keyform engine -key 'pkcs11:token=ca;object=issuing;type=private' -out intermediate.csr"
        in planned.stdout
    )
    built = run("build", "--recipe", str(recipe), env=token.env)
    assert built.code == 0, built
    assert sorted(token.labels()) == ["issuing", "root"]
    certs = tmp_path / "certs"
    root, issuing = load_cert(certs / "ca.pem"), load_cert(certs / "intermediate.pem")
    assert spki(root) == token.public_key("root") and spki(issuing) == token.public_key("issuing")
    issuing.verify_directly_issued_by(root)
    names = [f"dev-{n:03d}.pem" for n in range(1, 71)] + [f"own-{n:03d}.pem" for n in range(1, 71)]
    for name in names:
        load_cert(certs / name).verify_directly_issued_by(issuing)
    checked = strict_verify(certs, "-purpose", "sslclient", "-CAfile", "ca.pem", "-untrusted", "intermediate.pem", *names)
    assert checked.returncode == 0 and checked.stdout.count(": OK") == 140, checked.stdout[-500:] + checked.stderr
    assert run("verify", "--recipe", str(recipe), env=token.env).code == 0
    # revocation and the CRL, signed by the intermediate's key in the token
    revoked = run("revoke", "dev-007", "--recipe", str(recipe), env=token.env)
    assert revoked.code == 0, revoked
    crl = x509.load_pem_x509_crl((certs / "crl.pem").read_bytes())
    assert crl.is_signature_valid(issuing.public_key())
    assert crl.get_revoked_certificate_by_serial_number(load_cert(certs / "dev-007.pem").serial_number) is not None
    failing = run("verify", "--crl", "--recipe", str(recipe), env=token.env)
    assert failing.code == 1 and "dev-007.pem" in failing.output and "revoked" in failing.output, failing
    before = load_cert(certs / "dev-008.pem")
    renewed = run("renew", "dev-008", "--recipe", str(recipe), env=token.env)
    assert renewed.code == 0, renewed
    after = load_cert(certs / "dev-008.pem")
    assert after.serial_number != before.serial_number and spki(after) == spki(before)
    after.verify_directly_issued_by(issuing)
    # sign --csr: a request made on a device, signed by the token's key
    (tmp_path / "more").mkdir()
    make_device_requests({"clients": [{"name": "x", "csr": "more/late.csr"}]}, tmp_path)
    late = str(tmp_path / "more" / "late.csr")
    signed = run("sign", "--as", "client", "--csr", late, "--name", "late", "--recipe", str(recipe), env=token.env)
    assert signed.code == 0, signed
    load_cert(certs / "late.pem").verify_directly_issued_by(issuing)


def test_the_script_builds_the_same_pki_in_a_new_token_without_the_tool(tmp_path):
    token = new_token(tmp_path / "hsm")
    recipe = write_recipe(tmp_path, token_recipe())
    script = run("plan", "--script", "--recipe", str(recipe), env=token.env)
    assert script.code == 0 and PIN not in script.stdout, script
    ran = subprocess.run(
        ["bash"], input=script.stdout, cwd=tmp_path, capture_output=True, text=True, env={**os.environ, **token.env}
    )
    assert ran.returncode == 0, ran.stderr
    certs = tmp_path / "certs"
    assert spki(load_cert(certs / "ca.pem")) == token.public_key("root")
    checked = strict_verify(certs, "-CAfile", "ca.pem", "server.pem", "client.pem")
    assert checked.returncode == 0, checked
    assert run("verify", "--recipe", str(recipe), env=token.env).code == 0  # the tool agrees with what bash made


def test_a_wrong_pin_a_missing_token_or_another_key_fails_in_one_line_and_loses_nothing(tmp_path):
    token = new_token(tmp_path / "hsm")
    recipe = write_recipe(tmp_path, token_recipe())
    assert run("build", "--recipe", str(recipe), env=token.env).code == 0
    certs = tmp_path / "certs"
    before = tree(certs)
    wrong = run("renew", "server", "--recipe", str(recipe), env={**token.env, "CA_PIN": "not-the-pin"})
    assert wrong.code == 1, wrong
    said = "error: the token 'ca' refused the PIN from environment variable CA_PIN: server.pem not made\n"
    assert said in wrong.stderr and "server.pem put back as before" in wrong.stderr, wrong
    assert "not-the-pin" not in wrong.output and "Traceback" not in wrong.stderr
    assert tree(certs) == before  # renew puts the live files back
    gone = write_recipe(tmp_path, token_recipe(token="elsewhere"), "gone.yaml")
    missing = run("build", "--recipe", str(gone), env=token.env)
    assert missing.code == 1, missing
    assert missing.stderr.splitlines()[0] == (
        f"error: ca's key: no token labelled 'elsewhere' is reachable through {token.module()}; nothing was changed"
    )
    assert tree(certs) == before
    # a certificate that is not the token key's: refused by build, failed by verify
    other = write_recipe(tmp_path, token_recipe(root="other"), "other.yaml")
    made_other = run("build", "--recipe", str(other), "--out", str(tmp_path / "other-certs"), env=token.env)
    assert made_other.code == 0, made_other
    (certs / "ca.pem").write_bytes((tmp_path / "other-certs" / "ca.pem").read_bytes())
    refused = run("build", "--recipe", str(recipe), env=token.env)
    assert refused.code == 1 and "ca.pem does not match the token's key pkcs11:token=ca;object=root" in refused.stderr, refused
    checked = run("verify", "--recipe", str(recipe), env=token.env)
    assert checked.code == 1 and "does not carry the token's key pkcs11:token=ca;object=root" in checked.stdout, checked
    # --new-ca would sign a new certificate of the same key and name: what the old one signed would still chain
    before = tree(certs)
    renewed_ca = run("build", "--new-ca", "--recipe", str(recipe), env=token.env)
    assert renewed_ca.code == 2 and "--new-ca: ca's key is in a token and stays there" in renewed_ca.stderr, renewed_ca
    assert tree(certs) == before and sorted(token.labels()) == ["other", "root"]


def test_a_recipe_whose_key_type_is_not_the_tokens_is_refused_naming_both(tmp_path):
    token = new_token(tmp_path / "hsm")
    ec = write_recipe(tmp_path, token_recipe().replace("ca:\n", "ca:\n  key_type: ec\n"), "ec.yaml")
    assert run("build", "--recipe", str(ec), env=token.env).code == 0  # an EC P-256 key made in the token
    rsa = write_recipe(tmp_path, token_recipe(), "rsa.yaml")  # the same object, the recipe says RSA 2048
    refused = run("build", "--recipe", str(rsa), "--out", str(tmp_path / "rsa-certs"), env=token.env)
    assert refused.code == 1, refused
    assert "the token's key pkcs11:token=ca;object=root is EC P-256, the recipe's ca says RSA 2048" in refused.stderr
    assert not (tmp_path / "rsa-certs" / "ca.pem").exists()


def test_a_root_rotation_makes_the_new_root_key_a_new_object_in_the_token_and_never_reuses_one(tmp_path):
    token = new_token(tmp_path / "hsm")
    recipe = write_recipe(tmp_path, token_recipe())
    assert run("build", "--recipe", str(recipe), env=token.env).code == 0
    certs = tmp_path / "certs"
    old_root = load_cert(certs / "ca.pem")
    dry = run("rotate", "start", "--dry-run", "--recipe", str(recipe), env=token.env)
    assert dry.code == 0 and "--keypairgen --key-type rsa:2048 --label root-G2 " in dry.stdout, dry
    started = run("rotate", "start", "--recipe", str(recipe), env=token.env)
    assert started.code == 0, started
    new_root = load_cert(certs / "rotation" / "ca.pem")
    assert spki(new_root) == token.public_key("root-G2") and spki(old_root) == token.public_key("root")
    assert run("renew", "--recipe", str(recipe), env=token.env).code == 0  # what the old root signed
    finished = run("rotate", "finish", "--recipe", str(recipe), env=token.env)
    assert finished.code == 0, finished
    assert load_cert(certs / "ca.pem") == new_root
    for name in ("server.pem", "client.pem"):
        load_cert(certs / name).verify_directly_issued_by(new_root)
    (archive,) = (certs / "ca-archive").iterdir()
    assert sorted(path.name for path in archive.iterdir()) == ["ca.pem", "retired.json"]  # no key: it stays in the token
    assert run("verify", "--recipe", str(recipe), env=token.env).code == 0
    kept = run("build", "--recipe", str(recipe), env=token.env)
    assert kept.code == 0 and "made 0," in kept.stdout, kept
    assert sorted(token.labels()) == ["root", "root-G2"]
    # an aborted rotation's key stays in the token; the next start refuses to make a CA of it again
    assert run("rotate", "start", "--recipe", str(recipe), env=token.env).code == 0
    aborted = run("rotate", "abort", "--recipe", str(recipe), env=token.env)
    assert aborted.code == 0 and "its key stays in the token as pkcs11:token=ca;object=root-G3" in aborted.stdout, aborted
    before = tree(certs)
    again = run("rotate", "start", "--recipe", str(recipe), env=token.env)
    assert again.code == 1 and "the token 'ca' already holds a key labelled 'root-G3'" in again.stderr, again
    assert tree(certs) == before and sorted(token.labels()) == ["root", "root-G2", "root-G3"]

"""build: real openssl, the certificates checked independently with `cryptography`."""

from __future__ import annotations

import datetime as dt
import ipaddress
import stat
import subprocess
import sys

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..helpers import (
    DEFAULT_RECIPE,
    SMALL_RECIPE,
    cert_public_bytes,
    cli,
    fake_openssl,
    load_cert,
    load_key,
    logging_openssl,
    public_bytes,
    read_calls,
    require,
    run,
    tree,
    write_recipe,
)


def openssl_verify(folder, *args):
    return subprocess.run(["openssl", "verify", *args], cwd=folder, capture_output=True, text=True)


def test_default_recipe_builds_a_pki_that_strict_openssl_accepts(default_pki):
    for purpose, cert in (("sslserver", "server.pem"), ("sslclient", "client.pem")):
        proc = openssl_verify(default_pki.folder, "-x509_strict", "-purpose", purpose, "-CAfile", "ca.pem", cert)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = openssl_verify(
        default_pki.folder,
        "-x509_strict",
        "-verify_hostname",
        "localhost",
        "-verify_ip",
        "127.0.0.1",
        "-CAfile",
        "ca.pem",
        "server.pem",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_certificates_carry_what_the_recipe_asked(default_pki):
    ca = load_cert(default_pki / "ca.pem")
    server = load_cert(default_pki / "server.pem")
    client = load_cert(default_pki / "client.pem")
    assert ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "NanoMQ Demo CA"
    assert server.subject.rfc4514_string() == "CN=localhost,OU=NanoMQ,O=EMQ,L=Hangzhou,ST=Zhejiang,C=CN"
    assert server.issuer == ca.subject == client.issuer
    for cert in (ca, server, client):
        assert cert.version == x509.Version.v3
        days = (cert.not_valid_after_utc - cert.not_valid_before_utc).days
        assert days == 3650
        assert abs(cert.not_valid_before_utc - dt.datetime.now(dt.UTC)) < dt.timedelta(days=1)
    # CA: critical CA:TRUE, keyCertSign
    bc = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca
    ku = ca.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.key_cert_sign and ku.value.crl_sign
    # leaves: CA:FALSE, EKU, SAN, key identifiers
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost", "127.0.0.1"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    for cert, eku in ((server, ExtendedKeyUsageOID.SERVER_AUTH), (client, ExtendedKeyUsageOID.CLIENT_AUTH)):
        assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        assert list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [eku]
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
        assert ku.critical and ku.value.digital_signature and ku.value.key_encipherment and not ku.value.key_cert_sign
        aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
        assert aki.key_identifier == ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
        cert.verify_directly_issued_by(ca)
    assert server.serial_number != client.serial_number


def test_keys_are_private_and_match_their_certificates(default_pki):
    assert stat.S_IMODE(default_pki.folder.stat().st_mode) == 0o700
    for key, cert in (("ca.key", "ca.pem"), ("server.key", "server.pem"), ("client-key.pem", "client.pem")):
        assert stat.S_IMODE((default_pki / key).stat().st_mode) == 0o600, key
        assert stat.S_IMODE((default_pki / cert).stat().st_mode) == 0o644, cert
        assert public_bytes(load_key(default_pki / key)) == cert_public_bytes(load_cert(default_pki / cert))


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_build_runs_exactly_the_commands_plan_prints(tmp_path, jobs):
    recipe = write_recipe(tmp_path, DEFAULT_RECIPE.read_text())
    env, log = logging_openssl(tmp_path)
    planned = run("plan", "--recipe", str(recipe), env=env)
    assert planned.code == 0, planned
    commands = [line for line in planned.stdout.splitlines() if line.startswith("openssl ")]
    assert len(commands) == 8
    log.unlink()
    built = run("build", "--recipe", str(recipe), "--jobs", jobs, env=env)
    assert built.code == 0, built
    ran = [call["argv"] for call in read_calls(log) if call["argv"] != "openssl version"]
    if jobs == "1":
        assert ran == commands
    else:
        assert sorted(ran) == sorted(commands)


def test_rerun_keeps_force_reissues_leaves_and_the_ca_stays(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE)
    assert (first := cli("build", "--recipe", str(recipe))).code == 0, first
    folder = tmp_path / "certs"
    before = tree(folder)
    again = cli("build", "--recipe", str(recipe))
    assert again.code == 0 and "kept ca.key" in again.stdout and "made" not in again.stdout.replace("made 0", ""), again
    assert tree(folder) == before
    forced = cli("build", "--recipe", str(recipe), "--force")
    assert forced.code == 0, forced
    after = tree(folder)
    assert after["ca.key"] == before["ca.key"] and after["ca.pem"] == before["ca.pem"]
    assert after["client.pem"] != before["client.pem"] and after["server.key"] != before["server.key"]


def test_the_ca_is_never_replaced_by_accident(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE)
    assert cli("build", "--recipe", str(recipe)).code == 0
    folder = tmp_path / "certs"
    (folder / "ca.key").unlink()
    before = tree(folder)
    result = cli("build", "--recipe", str(recipe))
    assert result.code == 1 and "refusing to replace the CA" in result.stderr and "--new-ca" in result.stderr, result
    assert tree(folder) == before
    result = cli("build", "--recipe", str(recipe), "--new-ca")
    assert result.code == 0 and "old CA saved as ca.pem." in result.stdout, result
    assert load_cert(folder / "ca.pem").public_key() != load_cert(next(folder.glob("ca.pem.*.bak"))).public_key()
    assert openssl_verify(folder, "-x509_strict", "-CAfile", "ca.pem", "server.pem", "client.pem").returncode == 0


def test_a_damaged_leaf_is_made_again(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE)
    assert cli("build", "--recipe", str(recipe)).code == 0
    folder = tmp_path / "certs"
    (folder / "client.pem").write_text("-----BEGIN CERTIFICATE-----\nMIIB")  # truncated
    (folder / "server.key").write_bytes(b"")
    result = cli("build", "--recipe", str(recipe))
    assert result.code == 0, result
    assert "made client.pem" in result.stdout and "made server.key" in result.stdout and "made server.pem" in result.stdout
    assert "kept client.key" in result.stdout
    assert openssl_verify(folder, "-x509_strict", "-CAfile", "ca.pem", "server.pem", "client.pem").returncode == 0


SUBJECTS = [
    "a/b+c=d, \"quoted\" 'single'",
    "Zürich",
    "東京 ",
    " back\\slash ",
    "semi;colon<angle>#x",
]


@pytest.mark.parametrize("style", ["strict", "document"])
def test_subjects_arrive_exactly_as_written(tmp_path, style):
    import json

    clients = "\n".join(
        f"  - {{name: c{i}, subject: {{CN: {json.dumps(value)}, O: {json.dumps(value)}, L: 'Zürich', ST: '東京都'}}}}"
        for i, value in enumerate(SUBJECTS)
    )
    recipe = write_recipe(tmp_path, f"style: {style}\nca: {{subject: {{CN: 'Root ĈÅ'}}}}\nclients:\n{clients}\n")
    result = cli("build", "--recipe", str(recipe))
    assert result.code == 0, result
    for i, value in enumerate(SUBJECTS):
        cert = load_cert(tmp_path / "certs" / f"c{i}.pem")
        assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == value
        assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == value
        assert cert.subject.get_attributes_for_oid(NameOID.LOCALITY_NAME)[0].value == "Zürich"
        assert cert.subject.get_attributes_for_oid(NameOID.STATE_OR_PROVINCE_NAME)[0].value == "東京都"
        assert len(cert.subject.rdns) == 4  # no multi-valued RDN from a '+'
    assert load_cert(tmp_path / "certs" / "ca.pem").subject.rfc4514_string() == "CN=Root ĈÅ"


def test_document_style_builds_what_the_document_builds(tmp_path):
    recipe = write_recipe(tmp_path, DEFAULT_RECIPE.read_text().replace("style: strict", "style: document"))
    result = cli("build", "--recipe", str(recipe), "--jobs", "2")
    assert result.code == 0, result
    folder = tmp_path / "certs"
    assert (folder / "ca.srl").exists()
    assert openssl_verify(folder, "-CAfile", "ca.pem", "server.pem", "client.pem").returncode == 0
    assert load_cert(folder / "server.pem").serial_number != load_cert(folder / "client.pem").serial_number


def test_encrypted_key_for_nanomq_is_pkcs1_with_dek_info_and_the_password_stays_secret(tmp_path):
    secret = 'pa$$ "word" #1'
    text = SMALL_RECIPE + "    password: {env: CLIENT_KEY_PASS}\n"
    recipe = write_recipe(tmp_path, text)
    env, log = logging_openssl(tmp_path)
    env["CLIENT_KEY_PASS"] = secret
    result = run("build", "--recipe", str(recipe), env=env)
    assert result.code == 0, result
    pem = (tmp_path / "certs" / "client.key").read_text()
    assert pem.startswith("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,")
    key = load_key(tmp_path / "certs" / "client.key", secret.encode())
    assert public_bytes(key) == cert_public_bytes(load_cert(tmp_path / "certs" / "client.pem"))
    calls = read_calls(log)
    assert calls and all(secret not in call["argv"] and "pass:" not in call["argv"] for call in calls)
    assert secret not in result.output


def test_missing_password_variable_is_bad_input(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE + "    password: {env: NOT_SET_ANYWHERE}\n")
    result = cli("build", "--recipe", str(recipe), env={"NOT_SET_ANYWHERE": None})
    assert result.code == 2 and "NOT_SET_ANYWHERE is not set" in result.stderr, result
    assert not (tmp_path / "certs").exists()


def test_a_failing_command_is_reported_with_its_stderr(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE)
    real = require("openssl")
    env = fake_openssl(
        tmp_path, f'#!/bin/sh\nif [ "$1" = x509 ]; then echo "simulated failure" >&2; exit 3; fi\nexec {real} "$@"\n'
    )
    result = run("build", "--recipe", str(recipe), "--jobs", "1", env=env)
    assert result.code == 1, result
    assert "openssl failed making server.pem (exit code 3)" in result.stderr
    assert "command: openssl x509 -req -in server.csr" in result.stderr and "stderr: simulated failure" in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "certs" / "server.pem").exists()


def test_missing_openssl_is_one_clear_line(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE)
    result = cli("build", "--recipe", str(recipe), "--openssl", str(tmp_path / "no-such-openssl"))
    assert result.code == 1 and result.stderr.count("\n") == 1 and "openssl not found" in result.stderr, result


def test_clean_removes_only_the_recipes_files(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE)
    assert cli("build", "--recipe", str(recipe)).code == 0
    (tmp_path / "certs" / "mine.txt").write_text("keep me")
    result = cli("clean", "--recipe", str(recipe))
    assert result.code == 0, result
    assert sorted(p.name for p in (tmp_path / "certs").iterdir()) == ["mine.txt"]


def test_one_step_fleet_builds_strict_certificates(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE.replace("defaults:", "defaults:\n  one_step: true"))
    result = cli("build", "--recipe", str(recipe))
    assert result.code == 0, result
    folder = tmp_path / "certs"
    assert not (folder / "client.csr").exists()
    assert openssl_verify(folder, "-x509_strict", "-purpose", "sslserver", "-CAfile", "ca.pem", "server.pem").returncode == 0
    client = load_cert(folder / "client.pem")
    assert not client.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    client.verify_directly_issued_by(load_cert(folder / "ca.pem"))
    again = cli("build", "--recipe", str(recipe))
    assert again.code == 0 and "made" not in again.stdout.replace("made 0", ""), again
    assert cli("verify", "--recipe", str(recipe)).code == 0


def test_document_style_without_a_subject_lets_openssl_prompt_on_a_terminal(tmp_path):
    """As the document describes: openssl asks for the CA's subject; the answers end up in ca.pem."""
    import os
    import pty
    import sys
    import time

    recipe = write_recipe(tmp_path, "style: document\nclients:\n  - {name: client, subject: {CN: client}}\n")
    answers = {
        b"Country Name": b"DE",
        b"State or Province": b".",
        b"Locality": b".",
        b"Organization Name": b"Prompted Org",
        b"Organizational Unit": b".",
        b"Common Name": b"Prompted CA",
        b"Email Address": b".",
    }
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(sys.executable, [sys.executable, "-m", "openssl_recipes", "build", "--recipe", str(recipe)])
    seen, answered = b"", set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
        for label, answer in answers.items():
            if label not in answered and label in seen and seen.rstrip().endswith(b":"):
                os.write(fd, answer + b"\n")
                answered.add(label)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, seen.decode(errors="replace")
    assert answered == set(answers), seen.decode(errors="replace")
    assert load_cert(tmp_path / "certs" / "ca.pem").subject.rfc4514_string() == "CN=Prompted CA,O=Prompted Org,C=DE"


@pytest.mark.parametrize("command", [["build"], ["renew", "client", "--dry-run"], ["verify"], ["show"]])
def test_a_reader_that_leaves_early_stops_no_work_and_is_no_error(tmp_path, command):
    """`build | head -1`: the build finishes every file and exits 0 (it stopped after the CA, exit 3)."""
    recipe = write_recipe(tmp_path, SMALL_RECIPE)
    if command[0] != "build":
        assert cli("build", "--recipe", str(recipe)).code == 0
    child = subprocess.Popen(
        [sys.executable, "-m", "openssl_recipes", *command, "--recipe", str(recipe)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    assert child.stdout is not None and child.stdout.readline()  # the first line, then the reader goes
    child.stdout.close()
    _, stderr = child.communicate(timeout=120)
    assert child.returncode == 0 and b"internal error" not in stderr, stderr
    made = {p.name for p in (tmp_path / "certs").iterdir()}
    assert {"ca.pem", "server.pem", "client.pem", "client.key"} <= made, made


@pytest.mark.parametrize(
    "command", [["build"], ["plan"], ["show"], ["show", "--tree"], ["verify"], ["build", "--help"], ["--version"], ["--help"]]
)
def test_a_full_disk_on_standard_output_stops_no_work_and_is_said_once(tmp_path, command):
    """`build > /dev/full` (OpenSSL's own children aside): the work finishes, one line on stderr says
    what was lost, exit 1 — never an internal error or a traceback."""
    recipe = write_recipe(tmp_path, SMALL_RECIPE)
    if command[0] != "build":
        assert cli("build", "--recipe", str(recipe)).code == 0
    args = command if command[0].startswith("--") or "--help" in command else [*command, "--recipe", str(recipe)]
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "openssl_recipes", *args],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
    assert done.returncode == 1, done.stderr
    assert done.stderr.count("cannot write to standard output: No space left on device") == 1, done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    if command == ["build"]:
        assert {"ca.pem", "server.pem", "client.pem", "client.key"} <= {p.name for p in (tmp_path / "certs").iterdir()}


def test_a_closed_standard_output_takes_no_files_number(tmp_path):
    """`build >&-`: fd 1 is free, and the first file opened would get its number (a key, the lock) and
    receive every printed line; it is given /dev/null first. Output the user closed is no error."""
    recipe = write_recipe(tmp_path, SMALL_RECIPE)
    done = subprocess.run(
        [sys.executable, "-c", "import os, sys; os.close(1); from openssl_recipes.entry import main; sys.exit(main())", "build"],
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    for path in (tmp_path / "certs").iterdir():
        assert b"made " not in path.read_bytes(), path  # the summary went nowhere, not into a file
    assert cli("verify", "--recipe", str(recipe)).code == 0


def test_peers_trust_a_file_apart_from_the_ca_and_a_folder_of_before_is_told_once(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE)
    assert (first := cli("build", "--recipe", str(recipe))).code == 0, first
    folder = tmp_path / "certs"
    assert (folder / "ca-trust.pem").read_bytes() == (folder / "ca.pem").read_bytes()
    assert "note:" not in first.stderr, first  # a new folder: nothing to tell
    (folder / "ca-trust.pem").unlink()  # a folder an earlier version made
    told = cli("build", "--recipe", str(recipe))
    assert told.code == 0 and "note: peers now trust ca-trust.pem" in told.stderr and "`conf`" in told.stderr, told
    again = cli("build", "--recipe", str(recipe))
    assert again.code == 0 and "note:" not in again.stderr, again
    conf = cli("conf", "nanomq", "--recipe", str(recipe))
    assert conf.code == 0 and f'cacertfile = "{folder}/ca-trust.pem"' in conf.stdout, conf


def test_bundle_file_is_read_as_the_trust_files_earlier_name(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE + "bundle_file: ca-bundle.pem\n")
    built = cli("build", "--recipe", str(recipe))
    assert built.code == 0 and "bundle_file: now called trust_file" in built.stderr, built
    assert (tmp_path / "certs" / "ca-bundle.pem").read_bytes() == (tmp_path / "certs" / "ca.pem").read_bytes()
    both = write_recipe(tmp_path, SMALL_RECIPE + "bundle_file: a.pem\ntrust_file: b.pem\n")
    refused = cli("plan", "--recipe", str(both))
    assert refused.code == 2 and "bundle_file: give trust_file only" in refused.stderr, refused
    document = write_recipe(tmp_path, SMALL_RECIPE + "style: document\ntrust_file: t.pem\n")
    refused = cli("plan", "--recipe", str(document))
    assert refused.code == 2 and "trust the CA's certificate itself" in refused.stderr, refused

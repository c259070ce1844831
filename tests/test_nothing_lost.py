"""Nothing lost: a build removes only the files it made, backups never overwrite one another, a renew
that fails leaves the live certificate where it was."""

from __future__ import annotations

import stat
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .helpers import SMALL_RECIPE, cli, load_cert, load_key, tree, write_recipe


def test_build_removes_no_srl_file_it_did_not_make(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE.replace("ca:\n", "ca:\n  key_file: root-key.srl\n") + "    key_file: dev.srl\n")
    assert (built := cli("build", "--recipe", str(recipe))).code == 0, built
    certs = tmp_path / "certs"
    (certs / "notes.srl").write_text("my notes, not hex\n")
    keys = {name: (certs / name).read_bytes() for name in ("root-key.srl", "dev.srl")}
    for _ in range(2):
        again = cli("build", "--recipe", str(recipe))
        assert again.code == 0 and "made 0" in again.stdout, again
    assert (certs / "notes.srl").read_text() == "my notes, not hex\n"
    assert {name: (certs / name).read_bytes() for name in keys} == keys  # neither key was re-made


def test_the_document_styles_broken_serial_file_is_still_replaced(tmp_path):
    recipe = write_recipe(tmp_path, "style: document\n" + SMALL_RECIPE)
    assert (built := cli("build", "--recipe", str(recipe))).code == 0, built
    serial = tmp_path / "certs" / "ca.srl"
    assert serial.exists()
    serial.write_text("garbage\n")
    (tmp_path / "certs" / "client.pem").unlink()
    assert (rebuilt := cli("build", "--recipe", str(recipe))).code == 0, rebuilt


def test_two_new_cas_in_one_second_keep_both_old_ca_keys(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE)
    assert cli("build", "--recipe", str(recipe)).code == 0
    certs = tmp_path / "certs"
    originals = [(certs / "ca.key").read_bytes()]
    for _ in range(2):
        result = cli("build", "--recipe", str(recipe), "--new-ca")
        assert result.code == 0, result
        originals.append((certs / "ca.key").read_bytes())
    backups = sorted(certs.glob("ca.key.*.bak"))
    assert len(backups) == 2, backups
    assert {b.read_bytes() for b in backups} == set(originals[:2])  # both earlier CA keys, distinct, and they open
    for backup in backups:
        load_key(backup)


def test_a_renew_that_cannot_sign_leaves_the_live_certificate_in_place(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE.replace("ca:\n", "ca:\n  password: {env: CA_PASS}\n"))
    assert cli("build", "--recipe", str(recipe), env={"CA_PASS": "right-ca-password"}).code == 0
    live = tmp_path / "certs" / "client.pem"
    before = live.read_bytes()
    result = cli("renew", "client", "--within", "100000", "--recipe", str(recipe), env={"CA_PASS": "wrong-ca-password"})
    assert result.code == 1, result
    assert "renew failed: client.pem put back as before, unchanged" in result.stderr
    assert live.read_bytes() == before and load_cert(live)
    assert not list(live.parent.glob("client.pem.*.bak"))


@pytest.mark.parametrize(
    "extra, owner",
    [
        ("    cert_file: crl.pem\n", "the revocation commands"),
        ("    key_file: index.txt\n", "the revocation commands"),
        ("    csr_file: crlnumber.old\n", "the revocation commands"),
        ("    cert_file: server.p12\n", "`export server`"),
        ("    cert_file: server-fullchain.pem\n", "`export server`"),
    ],
)
def test_names_the_lifecycle_commands_write_are_reserved(tmp_path, extra, owner):
    recipe = write_recipe(tmp_path, SMALL_RECIPE + extra)
    result = cli("plan", "--recipe", str(recipe))
    assert result.code == 2 and owner in result.stderr and "clients[0]" in result.stderr, result


def test_build_refuses_to_overwrite_a_file_it_did_not_make(tmp_path):
    text = SMALL_RECIPE.replace("output: certs", "output: .") + "    cert_file: recipes.yaml\n"
    recipe = write_recipe(tmp_path, text)
    before = tree(tmp_path)
    result = cli("build", "--recipe", str(recipe))
    assert result.code == 2 and "recipes.yaml exists and is not a PEM file, so this tool did not make it" in result.stderr, result
    assert tree(tmp_path) == before


def test_crl_and_export_refuse_symlinks_and_leave_public_and_secret_modes_right(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE + "    password: {env: CLIENT_PASS}\n")
    env = {"CLIENT_PASS": "client-password"}
    assert cli("build", "--recipe", str(recipe), env=env).code == 0
    certs = tmp_path / "certs"
    outside = tmp_path / "outside.pem"
    outside.write_text("not yours\n")
    (certs / "crl.pem").symlink_to(outside)
    refused = cli("crl", "--recipe", str(recipe), env=env)
    assert refused.code == 2 and "crl.pem is a symbolic link" in refused.stderr, refused
    assert outside.read_text() == "not yours\n"
    (certs / "crl.pem").unlink()
    assert (made := cli("crl", "--recipe", str(recipe), env=env)).code == 0, made
    assert stat.S_IMODE((certs / "crl.pem").stat().st_mode) == 0o644  # a broker that drops privileges reads it
    (certs / "client.p12").write_bytes(b"old")
    (certs / "client.p12").chmod(0o644)
    assert (exported := cli("export", "client", "--recipe", str(recipe), env=env)).code == 0, exported
    assert stat.S_IMODE((certs / "client.p12").stat().st_mode) == 0o600  # it holds the private key


def test_conf_out_makes_an_identical_file_that_holds_a_password_0600(tmp_path):
    recipe = write_recipe(
        tmp_path, SMALL_RECIPE + "    password: {env: CLIENT_PASS}\nnanomq: {bridge: {host: broker.example.com}}\n"
    )
    env = {"CLIENT_PASS": "client-password"}
    target = tmp_path / "bridge.conf"
    assert cli("conf", "nanomq", "--recipe", str(recipe), "--out", str(target), env=env).code == 0
    target.chmod(0o644)
    again = cli("conf", "nanomq", "--recipe", str(recipe), "--out", str(target), env=env)
    assert again.code == 0 and "mode 0600" in again.stdout, again
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_the_script_leaves_the_same_modes_as_build(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE)
    script = cli("plan", "--script", "--recipe", str(recipe))
    assert script.code == 0, script
    (tmp_path / "build.sh").write_text(script.stdout)
    ran = subprocess.run(["bash", str(tmp_path / "build.sh")], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    by_script = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "certs").iterdir()}
    other = tmp_path / "by-build"
    other.mkdir()
    built_recipe = write_recipe(other, SMALL_RECIPE)
    assert cli("build", "--recipe", str(built_recipe)).code == 0
    by_build = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (other / "certs").iterdir() if p.name != ".openssl-recipes.lock"}
    assert by_script == by_build and by_build["client.key"] == 0o600 and by_build["client.pem"] == 0o644


@pytest.mark.parametrize(
    "extra, path, reason",
    [
        ("    san: ['fe80::1%eth0']\n", "clients[0].san[0]", "scoped IPv6 address"),
        ("    days: true\n", "clients[0].days", "true is not a number"),
    ],
)
def test_values_openssl_would_misread_are_refused_before_anything_is_written(tmp_path, extra, path, reason):
    recipe = write_recipe(tmp_path, SMALL_RECIPE + extra)
    before = tree(tmp_path)
    result = cli("build", "--recipe", str(recipe))
    assert result.code == 2 and path in result.stderr and reason in result.stderr, result
    assert tree(tmp_path) == before


def test_the_document_style_says_at_plan_time_that_it_drops_the_sans(tmp_path):
    recipe = write_recipe(tmp_path, "style: document\n" + SMALL_RECIPE)
    result = cli("plan", "--recipe", str(recipe))
    assert result.code == 0 and "servers[0].san: the document style's commands carry no extensions" in result.stderr, result


def test_a_key_the_recipe_now_encrypts_is_reported_by_build_and_failed_by_verify(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE)
    assert cli("build", "--recipe", str(recipe)).code == 0
    recipe.write_text(recipe.read_text() + "    password: {env: CLIENT_PASS}\n")  # the operator edits the recipe
    env = {"CLIENT_PASS": "now-encrypted"}
    again = cli("build", "--recipe", str(recipe), env=env)
    assert again.code == 0 and "made 0" in again.stdout, again
    assert "client.pem no longer matches the recipe's client: client.key is not encrypted" in again.stderr, again
    assert "run `openssl-recipes renew client --rekey`" in again.stderr
    checked = cli("verify", "--recipe", str(recipe), env=env)
    assert checked.code == 1 and "client.key is not encrypted, but the recipe gives it a password" in checked.stdout, checked
    fixed = cli("renew", "client", "--rekey", "--recipe", str(recipe), env=env)  # the advice works as given
    assert fixed.code == 0 and "with a new key" in fixed.stdout, fixed
    assert load_key(tmp_path / "certs" / "client.key", b"now-encrypted")
    assert cli("verify", "--recipe", str(recipe), env=env).code == 0


def test_a_san_added_to_the_recipe_gets_the_narrowest_advice_and_it_works(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE)
    assert cli("build", "--recipe", str(recipe)).code == 0
    client_before = (tmp_path / "certs" / "client.pem").read_bytes()
    recipe.write_text(
        recipe.read_text().replace("san: [localhost, 127.0.0.1]", "san: [localhost, 127.0.0.1, broker.example.com]")
    )
    checked = cli("verify", "--recipe", str(recipe))
    assert checked.code == 1 and "not valid for broker.example.com" in checked.stdout, checked
    assert "`openssl-recipes renew server` re-issues it, same key" in checked.stdout and "--force" not in checked.stdout
    key_before = (tmp_path / "certs" / "server.key").read_bytes()
    assert (renewed := cli("renew", "server", "--recipe", str(recipe))).code == 0, renewed
    assert cli("verify", "--recipe", str(recipe)).code == 0
    assert (tmp_path / "certs" / "server.key").read_bytes() == key_before  # same key
    assert (tmp_path / "certs" / "client.pem").read_bytes() == client_before  # nothing wider than asked


def test_a_changed_recipe_is_reported_entry_by_entry_with_the_narrowest_command_and_the_commands_work(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE)
    assert cli("build", "--recipe", str(recipe)).code == 0
    certs = tmp_path / "certs"
    edited = (
        SMALL_RECIPE.replace("{CN: Test CA}", "{CN: Test CA 2}")
        .replace("san: [localhost, 127.0.0.1]", "san: [localhost, broker.example.com]")
        .replace("subject: {CN: client}", "subject: {CN: client-2}\n    key_type: ec\n    days: 90")
    )
    recipe.write_text(edited)
    pki = lambda: {name: data for name, data in tree(certs).items() if name.endswith((".key", ".pem"))}  # noqa: E731
    before = pki()
    again = cli("build", "--recipe", str(recipe))
    assert again.code == 0 and "made 0" in again.stdout, again
    assert pki() == before  # reported; no key or certificate changed behind the user's back
    lines = {line.split(" no longer matches", 1)[0]: line for line in again.stderr.splitlines() if "no longer matches" in line}
    assert set(lines) == {"warning: ca.pem", "warning: server.pem", "warning: client.pem"}, again.stderr
    assert "subject C=DE, O=Test, CN=Test CA (recipe: C=DE, O=Test, CN=Test CA 2)" in lines["warning: ca.pem"]
    assert "only with `openssl-recipes build --new-ca`" in lines["warning: ca.pem"]
    server = lines["warning: server.pem"]
    assert "SANs: lacks DNS:broker.example.com and has DNS:127.0.0.1, IP:127.0.0.1 no longer listed" in server
    assert server.endswith("run `openssl-recipes renew server`"), server  # same key: the narrowest command
    client = lines["warning: client.pem"]
    assert "subject C=DE, O=Test, CN=client (recipe: C=DE, O=Test, CN=client-2)" in client
    assert "valid for 3650 days (recipe: 90)" in client and "key RSA 2048 (recipe: EC P-256)" in client
    assert client.endswith("run `openssl-recipes renew client --rekey`"), client

    # the advice, as given, brings the leaves in line (checked independently)
    assert (done := cli("renew", "server", "--recipe", str(recipe))).code == 0, done
    assert (done := cli("renew", "client", "--rekey", "--recipe", str(recipe))).code == 0, done
    server_cert, client_cert = load_cert(certs / "server.pem"), load_cert(certs / "client.pem")
    names = server_cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost", "broker.example.com"]
    assert client_cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "client-2"
    assert isinstance(client_cert.public_key(), ec.EllipticCurvePublicKey)
    assert (client_cert.not_valid_after_utc - client_cert.not_valid_before_utc).days == 90
    final = cli("build", "--recipe", str(recipe))
    assert final.code == 0 and final.stderr.count("no longer matches") == 1 and "ca.pem" in final.stderr, final

"""One way to run openssl, for every command: what `--dry-run` prints is what runs (a logging openssl
records every call), and each child sees only the password its own command reads. Plus what the
revocation commands keep: the CA database in its own folder, `--crl-days` every time, `clean`'s list.
"""

from __future__ import annotations

import datetime as dt
import shlex

import pytest
from cryptography import x509

from ..helpers import cli, logging_openssl, read_calls, tree, write_recipe

RECIPE = """\
output: certs
defaults: {key_type: ec, subject: {O: Path}}
ca: {subject: {CN: Path CA}, password: {env: CA_PASS}}
servers:
  - {name: server, subject: {CN: localhost}, san: [localhost]}
clients:
  - {name: client, subject: {CN: client}, password: {env: CLIENT_PASS}}
  - {name: other, subject: {CN: other}, password: {file: other.pass}}
"""
ENV = {"CA_PASS": "ca-secret-1", "CLIENT_PASS": "client-secret-2", "P12_PASS": "p12-secret-3"}
READ_ONLY = ("-noout", "-pubout", " verify ", "openssl version")  # the checks a command makes besides its own steps


@pytest.fixture
def pki(tmp_path):
    recipe = write_recipe(tmp_path, RECIPE)
    (tmp_path / "other.pass").write_text("other-secret-4\n")
    env, log = logging_openssl(tmp_path)
    env = {**env, **ENV}
    assert (built := cli("build", "--recipe", str(recipe), env=env)).code == 0, built
    return recipe, env, log


def recipe_variables(log_calls: list[dict]) -> set[str]:
    """The recipe's password variables (P12_PASS is one only for the export that names it)."""
    return {"CA_PASS", "CLIENT_PASS"} | {
        name for call in log_calls for name in call["env"] if name.startswith("OPENSSL_RECIPES_PASSWORD_")
    }


def assert_each_child_sees_only_its_own_password(calls: list[dict], extra: set[str] = frozenset()) -> None:
    variables = recipe_variables(calls) | extra
    for call in calls:
        argv = shlex.split(call["argv"])
        named = {arg.removeprefix("env:") for arg in argv if arg.startswith("env:")}
        seen = set(call["env"]) & variables
        assert seen <= named, f"{call['argv']} saw {sorted(seen - named)}"


COMMANDS = [
    ("issue", ["issue", "client", "client", "--dry-run"]),  # already issued: the dry run still prints its steps
    ("renew", ["renew", "client", "--dry-run"]),
    ("renew --rekey", ["renew", "server", "--rekey", "--dry-run"]),
    ("export", ["export", "client", "--fullchain", "--dry-run"]),
    ("export --password-env", ["export", "server", "--password-env", "P12_PASS", "--dry-run"]),
    ("revoke", ["revoke", "other", "--dry-run"]),
    ("crl", ["crl", "--crl-days", "7", "--dry-run"]),
]


@pytest.mark.parametrize("label, dry", COMMANDS, ids=[label for label, _ in COMMANDS])
def test_each_command_runs_exactly_what_its_dry_run_prints(pki, label, dry):
    recipe, env, log = pki
    if label == "issue":  # a new device, so issue has something to do
        recipe.write_text(recipe.read_text() + "  - {name: device, subject: {CN: device}}\n")
        dry = ["issue", "client", "device", "--dry-run"]
    before = tree(recipe.parent / "certs")
    log.unlink()
    printed = cli(*dry, "--recipe", str(recipe), env=env)
    assert printed.code == 0, printed
    assert tree(recipe.parent / "certs") == before, "a dry run changed the folder"
    assert all(not any(mark in c["argv"] for mark in (" -out ", " -revoke ")) for c in read_calls(log)), "a dry run ran a step"
    commands = [line for line in printed.stdout.splitlines() if line.startswith("openssl ")]
    assert commands, printed
    log.unlink(missing_ok=True)
    ran = cli(*[arg for arg in dry if arg != "--dry-run"], "--recipe", str(recipe), env=env)
    assert ran.code == 0, ran
    calls = read_calls(log)
    steps = [c["argv"] for c in calls if not any(mark in f" {c['argv']} " for mark in READ_ONLY)]
    assert steps == commands
    assert_each_child_sees_only_its_own_password(calls, {"P12_PASS"} if "P12_PASS" in dry else set())
    for secret in ENV.values():
        assert secret not in ran.output and secret not in printed.output


def test_show_reads_the_certificates_itself_and_starts_no_openssl(pki):
    recipe, env, log = pki
    log.unlink()
    result = cli("show", "--recipe", str(recipe), env=env)
    assert result.code == 0 and "client.pem (client client)" in result.stdout, result
    assert read_calls(log) == []


@pytest.mark.parametrize("command", [["verify"], ["build"], ["crl"], ["plan"]])
def test_read_only_and_other_commands_keep_passwords_from_children_too(pki, command):
    recipe, env, log = pki
    log.unlink()
    result = cli(*command, "--recipe", str(recipe), env=env)
    assert result.code == 0, result
    calls = read_calls(log)
    assert calls, "no openssl ran"
    assert_each_child_sees_only_its_own_password(calls)


def test_a_failing_step_is_reported_with_its_secrets_masked(pki):
    recipe, env, _log = pki
    failed = cli("crl", "--recipe", str(recipe), env={**env, "CA_PASS": "wrong-secret-5"})
    assert failed.code == 1 and "openssl failed making crl.pem" in failed.stderr, failed
    assert "wrong-secret-5" not in failed.output


def test_the_ca_database_lives_in_its_own_folder_and_crl_days_take_effect_every_time(pki):
    recipe, env, _log = pki
    certs = recipe.parent / "certs"
    for days in (2, 9):
        assert (done := cli("crl", "--crl-days", str(days), "--recipe", str(recipe), env=env)).code == 0, done
        crl = x509.load_pem_x509_crl((certs / "crl.pem").read_bytes())
        assert crl.next_update_utc - crl.last_update_utc == dt.timedelta(days=days)
    assert (done := cli("revoke", "other", "--recipe", str(recipe), env=env)).code == 0, done
    top = {path.name for path in certs.iterdir()}
    assert not top & {"index.txt", "index.txt.attr", "index.txt.old", "crlnumber", "crlnumber.old", "openssl-recipes-ca.cnf"}
    assert {"index.txt", "crlnumber", "openssl-recipes-ca.cnf"} <= {p.name for p in (certs / "ca-database").iterdir()}
    serial = x509.load_pem_x509_certificate((certs / "other.pem").read_bytes()).serial_number
    crl = x509.load_pem_x509_crl((certs / "crl.pem").read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(serial) is not None


def test_a_database_kept_beside_the_certificates_by_an_earlier_version_is_moved_and_kept(pki):
    recipe, env, _log = pki
    certs = recipe.parent / "certs"
    assert cli("revoke", "other", "--recipe", str(recipe), env=env).code == 0
    for path in (certs / "ca-database").iterdir():  # the earlier layout
        path.rename(certs / path.name)
    (certs / "ca-database").rmdir()
    assert (again := cli("crl", "--recipe", str(recipe), env=env)).code == 0, again
    assert (certs / "ca-database" / "index.txt").is_file() and not (certs / "index.txt").exists()
    serial = x509.load_pem_x509_certificate((certs / "other.pem").read_bytes()).serial_number
    crl = x509.load_pem_x509_crl((certs / "crl.pem").read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(serial) is not None  # the revocation survived the move
    shown = cli("show", "other", "--recipe", str(recipe), env=env)
    assert "REVOKED" in shown.stdout, shown


def test_clean_lists_what_it_removed_and_keeps_the_revocation_database_unless_all(pki):
    recipe, env, _log = pki
    certs = recipe.parent / "certs"
    assert cli("revoke", "other", "--recipe", str(recipe), env=env).code == 0
    assert cli("export", "client", "--fullchain", "--recipe", str(recipe), env=env).code == 0
    (certs / "notes.txt").write_text("mine\n")
    database = tree(certs / "ca-database")
    cleaned = cli("clean", "--recipe", str(recipe))
    assert cleaned.code == 0, cleaned
    for name in ("ca.key", "client.pem", "client.p12", "client-fullchain.pem", "crl.pem", "openssl-recipes.cnf"):
        assert name in cleaned.stdout and not (certs / name).exists(), name
    assert "kept the revocation database (ca-database/): clean --all removes it too" in cleaned.stdout
    assert tree(certs / "ca-database") == database and (certs / "notes.txt").read_text() == "mine\n"
    everything = cli("clean", "--all", "--recipe", str(recipe))
    assert everything.code == 0 and "ca-database/index.txt" in everything.stdout, everything
    assert not (certs / "ca-database").exists() and (certs / "notes.txt").exists()


def test_handshakes_foreign_ca_is_built_by_children_that_see_no_recipe_password(pki):
    """handshake makes a CA of its own to be refused with: none of its openssl children reads a password
    of the recipe, so none of them gets one (six of them saw every one)."""
    recipe, env, log = pki
    log.unlink()
    result = cli("handshake", "--recipe", str(recipe), env=env)
    assert result.code == 0, result
    calls = read_calls(log)
    foreign = [call for call in calls if "openssl-recipes-foreign-" in call["cwd"]]
    assert foreign, calls
    leaked = {name for call in foreign for name in call["env"]} & recipe_variables(calls)
    assert not leaked, leaked

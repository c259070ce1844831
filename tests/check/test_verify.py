"""verify: passes on a fresh build, and fails with the right reason for each way a PKI goes wrong."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from ..helpers import SMALL_RECIPE, cli, foreign_pki, load_cert, load_key, write_recipe


@pytest.fixture
def pki(small_pki):
    return small_pki.recipe, small_pki.folder


def verify_json(recipe) -> tuple[int, dict]:
    result = cli("verify", "--recipe", str(recipe), "--json")
    return result.code, json.loads(result.stdout)


def check(report: dict, cert: str, column: str) -> dict:
    (row,) = [r for r in report["certificates"] if r["file"] == cert]
    return row["checks"][column]


def test_a_fresh_build_passes(default_pki):
    result = cli("verify", "--recipe", str(default_pki.recipe))
    assert result.code == 0, result
    assert "all checks passed" in result.stdout
    assert "Apple platforms refuse server certificates valid for more than 825" in result.stdout  # 3650 days: a warning
    for name in ("ca.pem", "server.pem", "client.pem"):
        assert name in result.stdout


def test_json_shape(pki):
    recipe, _ = pki
    code, report = verify_json(recipe)
    assert code == 0 and report["ok"] is True
    assert [r["file"] for r in report["certificates"]] == ["ca.pem", "server.pem", "client.pem"]
    assert set(report["certificates"][1]["checks"]) == {"key", "chain", "names", "validity", "key mode", "nanomq"}
    assert check(report, "server.pem", "names")["status"] == "pass"


def test_a_swapped_key_fails(pki):
    recipe, folder = pki
    shutil.copy(folder / "server.key", folder / "client.key")
    code, report = verify_json(recipe)
    assert code == 1 and not report["ok"]
    assert check(report, "client.pem", "key") == {
        "status": "fail",
        "reason": "client.key does not belong to this certificate (public keys differ)",
    }
    assert check(report, "server.pem", "key")["status"] == "pass"


def test_a_client_from_a_foreign_ca_fails(pki, tmp_path):
    recipe, folder = pki
    foreign = foreign_pki(tmp_path)
    for name in ("client.pem", "client.key"):
        shutil.copy(foreign / name, folder / name)
    code, report = verify_json(recipe)
    assert code == 1
    assert check(report, "client.pem", "chain")["status"] == "fail"
    assert "unable to get local issuer certificate" in check(report, "client.pem", "chain")["reason"]


def test_an_expired_certificate_fails_and_one_expiring_soon_warns(pki):
    recipe, folder = pki
    ca_key, ca_cert, client = load_key(folder / "ca.key"), load_cert(folder / "ca.pem"), load_cert(folder / "client.pem")
    now = dt.datetime.now(dt.UTC)

    def resign(not_before, not_after):
        builder = x509.CertificateBuilder(
            issuer_name=ca_cert.subject,
            subject_name=client.subject,
            public_key=client.public_key(),
            serial_number=x509.random_serial_number(),
            not_valid_before=not_before,
            not_valid_after=not_after,
            extensions=list(client.extensions),
        )
        cert = builder.sign(ca_key, hashes.SHA256())
        (folder / "client.pem").write_bytes(cert.public_bytes(serialization_pem()))

    resign(now - dt.timedelta(days=400), now - dt.timedelta(days=2))
    code, report = verify_json(recipe)
    assert code == 1
    validity = check(report, "client.pem", "validity")
    assert validity["status"] == "fail" and validity["reason"].startswith("expired on")
    resign(now - dt.timedelta(days=1), now + dt.timedelta(days=10))
    code, report = verify_json(recipe)
    assert code == 0
    validity = check(report, "client.pem", "validity")
    assert validity["status"] == "warn" and "expires in 9 days" in validity["reason"]


def serialization_pem():
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.PEM


def test_a_key_readable_by_others_fails(pki):
    recipe, folder = pki
    (folder / "server.key").chmod(0o644)
    code, report = verify_json(recipe)
    assert code == 1
    assert check(report, "server.pem", "key mode") == {
        "status": "fail",
        "reason": "server.key is mode 0644, readable by group or others: chmod 600 server.key",
    }


def test_a_server_name_it_does_not_carry_fails(pki):
    recipe, folder = pki
    recipe.write_text(
        recipe.read_text().replace("san: [localhost, 127.0.0.1]", "san: [localhost, 127.0.0.1, broker.example.com, 10.1.2.3]")
    )
    result = cli("verify", "--recipe", str(recipe))
    assert result.code == 1, result
    assert "✘ server.pem names: not valid for broker.example.com, 10.1.2.3" in result.stdout


def test_missing_files_say_run_build(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE)
    result = cli("verify", "--recipe", str(recipe))
    assert result.code == 1 and "ca.pem is missing: run `openssl-recipes build`" in result.stdout, result


def test_nanomq_warns_about_a_key_form_mbedtls_cannot_read(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE + "    password: {env: CLIENT_PASS}\n    nanomq: false\n")
    env = {"CLIENT_PASS": "correct horse"}
    assert cli("build", "--recipe", str(recipe), env=env).code == 0
    assert (tmp_path / "certs" / "client.key").read_text().startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    recipe.write_text(recipe.read_text().replace("    nanomq: false\n", ""))  # now NanoMQ will use it
    result = cli("verify", "--recipe", str(recipe), env=env)
    assert result.code == 0, result
    assert "! client.pem nanomq: client.key is PKCS#8 encrypted with AES, which mbedTLS 2.28 cannot read" in result.stdout
    assert "correct horse" not in result.output


def test_within_fails_for_what_expires_soon_names_it_and_json_carries_the_dates(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE + "    days: 10\n")  # the client expires in 10 days
    assert cli("build", "--recipe", str(recipe)).code == 0
    soon = cli("verify", "--within", "30", "--recipe", str(recipe))
    assert soon.code == 1, soon
    failing = [line for line in soon.stdout.splitlines() if line.startswith("✘")]
    assert len(failing) == 1 and failing[0].startswith("✘ client.pem validity: expires in 9 days"), soon.stdout
    assert "(--within 30): `openssl-recipes renew client` re-issues it" in failing[0]
    report = json.loads(cli("verify", "--within", "30", "--json", "--recipe", str(recipe)).stdout)
    rows = {row["file"]: row for row in report["certificates"]}
    assert report["ok"] is False and rows["client.pem"]["ok"] is False and rows["server.pem"]["ok"] is True
    cert = load_cert(tmp_path / "certs" / "client.pem")
    assert dt.datetime.fromisoformat(rows["client.pem"]["not_after"]) == cert.not_valid_after_utc
    assert cli("verify", "--within", "5", "--recipe", str(recipe)).code == 0  # 10 days left: not within 5


def test_a_document_style_server_without_its_names_is_told_the_style_is_why(copy_pki):
    """renew makes the same commands again: the advice is the strict style, not renew alone."""
    pki = copy_pki(SMALL_RECIPE.replace("output: certs\n", "output: certs\nstyle: document\n"))
    result = cli("verify", "--recipe", str(pki.recipe), "--json")
    names = next(c for c in json.loads(result.stdout)["certificates"] if c["name"] == "server")["checks"]["names"]
    assert names["status"] == "fail" and "the document style writes no SANs; use style: strict" in names["reason"], names
    assert "renew server` re-issues it" not in names["reason"]


def test_a_fleets_chains_checked_together_give_each_member_its_own_verdict(tmp_path):
    """One `openssl verify` for many members: a member signed elsewhere, and one of the wrong purpose,
    fail with their own reasons; the rest pass."""
    import json as _json

    from ..helpers import cli as run_cli
    from ..helpers import foreign_pki, write_recipe

    text = SMALL_RECIPE_FOR_FLEET
    recipe = write_recipe(tmp_path, text)
    assert run_cli("build", "--recipe", str(recipe)).code == 0
    certs = tmp_path / "certs"
    foreign = foreign_pki(tmp_path)
    (certs / "dev-3.pem").write_bytes((foreign / "client.pem").read_bytes())
    (certs / "dev-3.key").write_bytes((foreign / "client.key").read_bytes())
    (certs / "dev-4.pem").write_bytes((certs / "server.pem").read_bytes())  # a server's: not for a client
    (certs / "dev-4.key").write_bytes((certs / "server.key").read_bytes())
    said = run_cli("verify", "--json", "--recipe", str(recipe))
    rows = {row["name"]: row["checks"]["chain"] for row in _json.loads(said.stdout)["certificates"]}
    assert said.code == 1 and rows["dev-3"]["status"] == "fail" and "unable to get local issuer" in rows["dev-3"]["reason"], rows
    assert rows["dev-4"]["status"] == "fail" and "unsuitable certificate purpose" in rows["dev-4"]["reason"], rows
    assert all(rows[f"dev-{n}"]["status"] == "pass" for n in (1, 2, 5)), rows


SMALL_RECIPE_FOR_FLEET = """\
defaults: {key_type: ec}
ca: {subject: {CN: Fleet CA}}
servers: [{name: server, san: [localhost]}]
clients: [{name: 'dev-{n}', count: 5}]
"""


def test_a_large_fleets_nanomq_column_is_asked_of_mbedtls_in_workers_member_by_member(tmp_path):
    """From PARALLEL_FROM leaves on, the mbedTLS handshakes run in forked workers: each member still
    gets its own verdict, in its own row."""
    import json as _json

    from openssl_recipes.check import mbedtls
    from openssl_recipes.check.nanomq_use import PARALLEL_FROM

    from ..helpers import cli as run_cli
    from ..helpers import foreign_pki, write_recipe

    if not mbedtls.available():
        pytest.skip("python-mbedtls is not installed (the nanomq extra)")
    recipe = write_recipe(tmp_path, SMALL_RECIPE_FOR_FLEET.replace("count: 5", f"count: {PARALLEL_FROM + 6}"))
    assert run_cli("build", "--recipe", str(recipe)).code == 0
    certs, foreign = tmp_path / "certs", foreign_pki(tmp_path)
    for name in ("pem", "key"):
        (certs / f"dev-7.{name}").write_bytes((foreign / f"client.{name}").read_bytes())
    said = run_cli("verify", "--json", "--recipe", str(recipe))
    rows = {row["name"]: row["checks"]["nanomq"] for row in _json.loads(said.stdout)["certificates"]}
    assert "mbedTLS refuses it as a client certificate" in rows["dev-7"]["reason"], rows["dev-7"]
    others = [rows[f"dev-{n}"] for n in range(1, PARALLEL_FROM + 7) if n != 7]
    assert all(row["status"] == "pass" and "asked of mbedTLS" in row["reason"] for row in others), others

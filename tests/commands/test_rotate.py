"""rotate start|finish|abort with real openssl; every certificate checked with `cryptography`: which
key signed it, what the trust file holds, what the archive keeps."""

from __future__ import annotations

import json
import stat

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from ..helpers import SMALL_RECIPE, cli, fake_openssl, load_cert, logging_openssl, read_calls, require, tree, write_recipe

INTERMEDIATE = SMALL_RECIPE.replace(
    "ca:\n  subject: {CN: Test CA}\n", "ca:\n  subject: {CN: Test CA}\nintermediate:\n  subject: {CN: Test Issuing}\n"
)


def cn(cert: x509.Certificate) -> str:
    return cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


def signed_by(leaf: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        leaf.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, Exception):  # noqa: BLE001 - InvalidSignature and friends: not its issuer
        return False
    return True


def trusted(folder) -> list[str]:
    return [cn(cert) for cert in x509.load_pem_x509_certificates((folder / "ca-trust.pem").read_bytes())]


def rotate(recipe, *args: str, env: dict[str, str] | None = None):
    return cli("rotate", *args, "--recipe", str(recipe), env=env)


@pytest.fixture
def built(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE)
    assert (made := cli("build", "--recipe", str(recipe))).code == 0, made
    return recipe, tmp_path / "certs"


def test_a_root_rotation_in_phases_keeps_every_leaf_valid_until_it_is_renewed(built):
    recipe, folder = built
    old_root = load_cert(folder / "ca.pem")
    started = rotate(recipe, "start")
    assert started.code == 0 and "Test CA G2" in started.stdout and "next:" in started.stdout, started
    new_root = load_cert(folder / "rotation" / "ca.pem")
    assert cn(new_root) == "Test CA G2" and new_root.public_key() != old_root.public_key()
    assert trusted(folder) == ["Test CA G2", "Test CA"]
    assert (kept := cli("build", "--recipe", str(recipe))).code == 0 and "made 0" in kept.stdout, kept  # nothing re-signed
    assert signed_by(load_cert(folder / "client.pem"), old_root) and signed_by(load_cert(folder / "server.pem"), old_root)
    assert (renewed := cli("renew", "server", "--recipe", str(recipe))).code == 0, renewed
    assert signed_by(load_cert(folder / "server.pem"), new_root) and signed_by(load_cert(folder / "client.pem"), old_root)

    refused = rotate(recipe, "finish")
    assert refused.code == 1 and "still signed by the old CA (Test CA)" in refused.stderr and "client.pem" in refused.stderr, (
        refused
    )
    assert "server.pem" not in refused.stderr and trusted(folder) == ["Test CA G2", "Test CA"], refused
    assert cli("renew", "client", "--recipe", str(recipe)).code == 0
    finished = rotate(recipe, "finish")
    assert finished.code == 0 and "ca.pem is Test CA G2" in finished.stdout, finished
    assert load_cert(folder / "ca.pem") == new_root and trusted(folder) == ["Test CA G2"]
    assert not (folder / "rotation").exists()
    (archive,) = (folder / "ca-archive").iterdir()
    assert load_cert(archive / "ca.pem") == old_root and stat.S_IMODE((archive / "ca.key").stat().st_mode) == 0o600
    assert json.loads((archive / "retired.json").read_text())["subject"]["ca"]["CN"] == "Test CA"
    assert (checked := cli("verify", "--recipe", str(recipe))).code == 0, checked
    again = rotate(recipe, "start")  # the next generation
    assert again.code == 0 and cn(load_cert(folder / "rotation" / "ca.pem")) == "Test CA G3", again


def test_an_intermediate_rotates_under_the_same_root_and_each_chain_holds_its_own_issuer(tmp_path):
    recipe = write_recipe(tmp_path, INTERMEDIATE)
    assert cli("build", "--recipe", str(recipe)).code == 0
    folder = tmp_path / "certs"
    root, old = load_cert(folder / "ca.pem"), load_cert(folder / "intermediate.pem")
    assert (started := rotate(recipe, "start", "--intermediate")).code == 0, started
    new = load_cert(folder / "rotation" / "intermediate.pem")
    assert cn(new) == "Test Issuing G2" and signed_by(new, root) and new.public_key() != old.public_key()
    assert load_cert(folder / "ca.pem") == root and trusted(folder) == ["Test Issuing G2", "Test CA", "Test Issuing"]
    assert cli("renew", "server", "--recipe", str(recipe)).code == 0
    server_chain = x509.load_pem_x509_certificates((folder / "server-chain.pem").read_bytes())
    client_chain = x509.load_pem_x509_certificates((folder / "client-chain.pem").read_bytes())
    assert server_chain[1] == new and signed_by(server_chain[0], new)
    assert client_chain[1] == old and signed_by(client_chain[0], old)  # not renewed: its chain holds the old one
    checked = cli("verify", "--recipe", str(recipe))
    assert checked.code == 0 and "1 certificate(s) under the new CA, 1 under the old" in checked.stdout, checked
    assert (
        finished := rotate(recipe, "finish", "--force")
    ).code == 0 and "intermediate.pem is Test Issuing G2" in finished.stdout
    assert load_cert(folder / "intermediate.pem") == new and load_cert(folder / "ca.pem") == root
    assert trusted(folder) == ["Test Issuing G2", "Test CA"]
    (archive,) = (folder / "ca-archive").iterdir()
    assert load_cert(archive / "intermediate.pem") == old and not (archive / "ca.pem").exists()


def test_abort_refuses_to_strand_what_the_new_ca_signed_and_keeps_the_new_ca(built):
    recipe, folder = built
    before = tree(folder)
    assert rotate(recipe, "start").code == 0
    new_key = (folder / "rotation" / "ca.key").read_bytes()
    assert (untouched := rotate(recipe, "abort")).code == 0, untouched  # nothing signed yet
    assert trusted(folder) == ["Test CA"] and {k: v for k, v in tree(folder).items() if "/" not in k} == before
    (aborted,) = (folder / "ca-archive").iterdir()
    assert (aborted / "ca.key").read_bytes() == new_key
    assert rotate(recipe, "start").code == 0 and cli("renew", "client", "--recipe", str(recipe)).code == 0
    refused = rotate(recipe, "abort")
    assert refused.code == 1 and "signed by the new CA (Test CA G2)" in refused.stderr and "client.pem" in refused.stderr, refused
    forced = rotate(recipe, "abort", "--force")
    assert forced.code == 0 and "renew client.pem" in forced.stdout, forced
    assert cli("renew", "client", "--recipe", str(recipe)).code == 0
    assert signed_by(load_cert(folder / "client.pem"), load_cert(folder / "ca.pem"))


def test_each_dry_run_prints_exactly_the_commands_it_runs_and_changes_nothing(built, tmp_path):
    recipe, folder = built
    env, log = logging_openssl(tmp_path)
    for step, args in (("start", ()), ("finish", ("--force",))):
        before = tree(folder)
        shown = rotate(recipe, step, *args, "--dry-run", env=env)
        assert shown.code == 0 and tree(folder) == before, shown
        printed = [line for line in shown.stdout.splitlines() if line.startswith("openssl ")]
        log.unlink(missing_ok=True)
        assert rotate(recipe, step, *args, env=env).code == 0
        ran = [call["argv"] for call in read_calls(log)]
        assert [c for c in ran if c in printed] == printed and all(p in ran for p in printed), (printed, ran)
        assert printed or step == "finish"


def test_revoke_while_rotating_lists_the_leaf_in_its_own_cas_crl(built):
    recipe, folder = built
    assert rotate(recipe, "start").code == 0 and cli("renew", "server", "--recipe", str(recipe)).code == 0
    for name in ("client", "server"):  # under the old CA, under the new one
        assert (revoked := cli("revoke", name, "--recipe", str(recipe))).code == 0, revoked
    text = (folder / "crl.pem").read_text()
    crls = [
        x509.load_pem_x509_crl(f"-----BEGIN X509 CRL-----{part}".encode()) for part in text.split("-----BEGIN X509 CRL-----")[1:]
    ]
    serials = {cn_of: {r.serial_number for r in crl} for crl in crls for cn_of in [crl.issuer.rfc4514_string()]}
    assert serials == {
        "CN=Test CA G2,O=Test,C=DE": {load_cert(folder / "server.pem").serial_number},
        "CN=Test CA,O=Test,C=DE": {load_cert(folder / "client.pem").serial_number},
    }
    checked = cli("verify", "--crl", "--recipe", str(recipe))
    assert checked.code == 1 and checked.stdout.count("certificate revoked") == 2, checked


def test_verify_within_fails_a_leaf_whose_old_ca_ends_first(tmp_path):
    text = INTERMEDIATE.replace("subject: {CN: Test Issuing}", "subject: {CN: Test Issuing}\n  days: 20")
    recipe = write_recipe(tmp_path, text.replace("    subject: {CN: client}", "    subject: {CN: client}\n    days: 365"))
    assert cli("build", "--recipe", str(recipe)).code == 0 and rotate(recipe, "start", "--intermediate").code == 0
    checked = cli("verify", "--within", "30", "--recipe", str(recipe))
    assert checked.code == 1 and "client.pem validity: signed by the old CA, whose intermediate.pem expires" in checked.stdout, (
        checked
    )


@pytest.mark.parametrize(
    ("text", "args", "reason"),
    [
        (SMALL_RECIPE, ("finish",), "no CA rotation is under way"),
        (SMALL_RECIPE, ("abort",), "no CA rotation to abort"),
        (SMALL_RECIPE, ("start", "--intermediate"), "--intermediate: the recipe has no intermediate CA"),
        (SMALL_RECIPE, ("start", "--force"), "--force is for `rotate finish` and `rotate abort`"),
        (SMALL_RECIPE, ("finish", "--intermediate"), "--intermediate is for `rotate start`"),
        (SMALL_RECIPE + "style: document\n", ("start",), "needs a trust file apart from the CA's certificate"),
    ],
)
def test_a_rotate_that_cannot_be_is_refused_and_changes_nothing(tmp_path, text, args, reason):
    recipe = write_recipe(tmp_path, text)
    assert cli("build", "--recipe", str(recipe)).code == 0
    before = tree(tmp_path / "certs")
    refused = rotate(recipe, *args)
    assert refused.code == 2 and reason in refused.stderr, refused
    assert tree(tmp_path / "certs") == before


def test_a_second_start_is_refused_and_a_start_before_build_says_what_to_do(built, tmp_path):
    recipe, folder = built
    assert rotate(recipe, "start").code == 0
    before = tree(folder)
    twice = rotate(recipe, "start")
    assert twice.code == 2 and "a CA rotation is under way" in twice.stderr and tree(folder) == before, twice
    fresh = write_recipe(tmp_path / "certs", SMALL_RECIPE, "other.yaml")
    early = rotate(fresh, "start")
    assert early.code == 2 and "`openssl-recipes build` makes the CA" in early.stderr, early


def test_a_start_that_fails_before_its_commit_leaves_the_phase_and_the_trust_as_they_were(built, tmp_path):
    recipe, folder = built
    before = tree(folder)
    failing = (
        "#!/bin/sh\ncase \"$*\" in *rotation/ca.pem*) echo 'no entropy' >&2; exit 1;; esac\nexec "
        + require("openssl")
        + ' "$@"\n'
    )
    broken = rotate(recipe, "start", env=fake_openssl(tmp_path, failing))
    assert broken.code == 1 and "no entropy" in broken.stderr, broken
    assert {k: v for k, v in tree(folder).items() if not k.startswith("rotation/")} == before  # steady, trusting the old root
    assert (started := rotate(recipe, "start")).code == 0, started  # what the failed one left is archived, not reused
    assert trusted(folder) == ["Test CA G2", "Test CA"] and any((folder / "ca-archive").glob("*-unused/ca.key"))


def test_renew_without_names_renews_what_the_old_ca_signed_while_rotating(built):
    recipe, folder = built
    assert (nothing := cli("renew", "--recipe", str(recipe))).code == 0 and "nothing to renew" in nothing.stdout, nothing
    assert rotate(recipe, "start").code == 0 and cli("renew", "server", "--recipe", str(recipe)).code == 0
    rest = cli("renew", "--recipe", str(recipe))
    assert rest.code == 0 and "renewed client.pem" in rest.stdout and "server.pem" not in rest.stdout, rest
    new_root = load_cert(folder / "rotation" / "ca.pem")
    assert all(signed_by(load_cert(folder / f"{name}.pem"), new_root) for name in ("server", "client"))
    assert (done := cli("renew", "--recipe", str(recipe))).code == 0 and "nor is signed by the old CA" in done.stdout, done
    assert rotate(recipe, "finish").code == 0

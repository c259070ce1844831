"""Nothing lost: a build removes only the files it made, backups never overwrite one another, a renew
that fails leaves the live certificate where it was."""

from __future__ import annotations

from .helpers import SMALL_RECIPE, cli, load_cert, load_key, write_recipe


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

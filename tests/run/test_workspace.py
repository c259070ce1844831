"""The output folder: atomic writes, backups that never overwrite each other, refusals of symbolic
links and of files the tool did not make, read-only and full disks."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from openssl_recipes.run.backups import restore, set_aside
from openssl_recipes.run.workspace import write_atomically

from ..helpers import (
    IN_CI,
    SMALL_RECIPE,
    cli,
    load_key,
    tree,
    write_recipe,
)


def test_write_atomically_never_leaves_a_wider_mode_and_skips_identical_content(tmp_path):
    target = tmp_path / "nanomq.conf"
    target.write_text("key_password = x\n")
    os.chmod(target, 0o644)
    assert write_atomically(target, "key_password = x\n", 0o600) is False  # identical: not rewritten…
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # …but made private all the same
    assert write_atomically(target, "other\n", 0o600) is True and target.read_text() == "other\n"
    assert [p.name for p in tmp_path.iterdir()] == ["nanomq.conf"]  # no temporary file left


def test_set_aside_and_restore_never_lose_an_earlier_backup(tmp_path):
    (tmp_path / "ca.key").write_text("first")
    first = set_aside(tmp_path, ["ca.key", "missing.pem"])
    (tmp_path / "ca.key").write_text("second")
    second = set_aside(tmp_path, ["ca.key"])
    assert first.keys() == {"ca.key"} and first["ca.key"] != second["ca.key"]  # same second, distinct names
    assert (tmp_path / first["ca.key"]).read_text() == "first" and (tmp_path / second["ca.key"]).read_text() == "second"
    assert restore(tmp_path, second) == ["ca.key"] and (tmp_path / "ca.key").read_text() == "second"


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


@pytest.fixture
def small_disk(tmp_path):
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount_point)], capture_output=True, text=True)
    if proc.returncode != 0:
        if IN_CI:  # CI runs as root on a machine that can: a missing check is a failure there, not a skip
            pytest.fail(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


def test_a_read_only_disk_gets_a_clear_error_and_keeps_its_files(small_disk):
    recipe = write_recipe(small_disk, SMALL_RECIPE)
    assert cli("build", "--recipe", str(recipe)).code == 0
    before = tree(small_disk / "certs")
    assert subprocess.run(["mount", "-o", "remount,ro", str(small_disk)]).returncode == 0
    result = cli("build", "--recipe", str(recipe), "--force")
    assert result.code == 2 and "is not writable" in result.stderr and "Traceback" not in result.output, result
    assert tree(small_disk / "certs") == before


def test_a_full_disk_gets_a_clear_error_and_keeps_its_files(small_disk):
    recipe = write_recipe(small_disk, SMALL_RECIPE)
    assert cli("build", "--recipe", str(recipe)).code == 0
    (small_disk / "filler").write_bytes(b"\0" * 450_000)
    before = tree(small_disk / "certs")
    result = cli("build", "--recipe", str(recipe), "--force")
    assert result.code == 2 and "KiB free" in result.stderr, result
    assert tree(small_disk / "certs") == before


def test_a_symlink_in_the_output_folder_is_refused(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE)
    folder = tmp_path / "certs"
    folder.mkdir()
    elsewhere = tmp_path / "elsewhere.key"
    (folder / "client.key").symlink_to(elsewhere)
    result = cli("build", "--recipe", str(recipe))
    assert result.code == 2 and "is a symbolic link" in result.stderr, result
    assert not elsewhere.exists()
    assert [p.name for p in folder.iterdir()] == ["client.key"]


def test_revoke_writes_no_database_through_a_linked_folder(tmp_path):
    """`ca-database` a link to another folder: revoke wrote index.txt there."""
    recipe = write_recipe(tmp_path, SMALL_RECIPE)
    assert cli("build", "--recipe", str(recipe)).code == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "certs" / "ca-database").symlink_to(elsewhere)
    refused = cli("revoke", "client", "--recipe", str(recipe))
    assert refused.code == 2 and "ca-database is a symbolic link" in refused.stderr, refused
    assert list(elsewhere.iterdir()) == []
    assert not (tmp_path / "certs" / "crl.pem").exists()


def test_clean_follows_no_link_and_removes_no_link(tmp_path):
    """A link at an owned name, or an owned folder that is a link, is the user's: clean keeps it and
    everything it points to, says so, and removes the rest."""
    recipe = write_recipe(tmp_path, SMALL_RECIPE)
    assert cli("build", "--recipe", str(recipe)).code == 0
    assert cli("crl", "--recipe", str(recipe)).code == 0
    certs = tmp_path / "certs"
    outside = tmp_path / "outside"
    (certs / "ca-database").rename(outside)
    (certs / "ca-database").symlink_to(outside)
    mine = tmp_path / "mine.pem"
    mine.write_text("-----BEGIN CERTIFICATE-----\n")
    (certs / "client.pem").unlink()
    (certs / "client.pem").symlink_to(mine)
    before = sorted(p.name for p in outside.iterdir())
    done = cli("clean", "--all", "--recipe", str(recipe))
    assert done.code == 0 and "kept ca-database, client.pem: symbolic links" in done.stdout, done
    assert sorted(p.name for p in outside.iterdir()) == before and mine.exists()
    assert sorted(p.name for p in certs.iterdir()) == ["ca-database", "client.pem"]


def test_clean_waits_for_a_build_holding_the_folder(tmp_path):
    """clean took no lock: run during a build it deleted files, once the folder itself."""
    import fcntl

    from openssl_recipes.run.workspace import LOCK_NAME

    recipe = write_recipe(tmp_path, SMALL_RECIPE)
    assert cli("build", "--recipe", str(recipe)).code == 0
    held = os.open(tmp_path / "certs" / LOCK_NAME, os.O_RDWR)
    fcntl.flock(held, fcntl.LOCK_EX)  # a build holds the folder
    cleaning = subprocess.Popen(
        [sys.executable, "-m", "openssl_recipes", "clean", "--recipe", str(recipe)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert cleaning.stderr is not None and "waiting for it to finish" in cleaning.stderr.readline()
        assert (tmp_path / "certs" / "ca.key").exists()  # nothing removed while the build holds it
    finally:
        os.close(held)
    out, _ = cleaning.communicate(timeout=60)
    assert cleaning.returncode == 0 and "removed the empty folder" in out, out
    assert not (tmp_path / "certs").exists()


def test_renew_replaces_no_link(tmp_path):
    """`renew client` with client.pem a link: its backup moved the link away and a file took its place."""
    recipe = write_recipe(tmp_path, SMALL_RECIPE)
    assert cli("build", "--recipe", str(recipe)).code == 0
    certs = tmp_path / "certs"
    elsewhere = tmp_path / "elsewhere.pem"
    elsewhere.write_bytes((certs / "client.pem").read_bytes())
    (certs / "client.pem").unlink()
    (certs / "client.pem").symlink_to(elsewhere)
    refused = cli("renew", "client", "--recipe", str(recipe))
    assert refused.code == 2 and "client.pem is a symbolic link" in refused.stderr, refused
    assert (certs / "client.pem").is_symlink() and not list(certs.glob("client.pem.*.bak"))

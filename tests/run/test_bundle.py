"""`bundle`: one tree (or archive) per site, unchanged sites left alone, changed ones rewritten whole with
a backup, only names it wrote replaced, no link followed, the same bytes for the same inputs."""

from __future__ import annotations

import io
import os
import tarfile

import pytest

from ..helpers import cli, tree, write_recipe

SITES = """\
output: certs
ca: {subject: {CN: Edge CA}}
servers:
  - {name: cloud, san: [localhost]}
clients:
  - {name: 'site-{n:02d}', count: 12}
nanomq:
  cert_dir: /etc/nanomq/certs
  bridge:
    client: 'site-{n:02d}'
    host: cloud.example.com
    forwards: [{remote_topic: 'sites/{name}/up', local_topic: up}]
"""


@pytest.fixture
def built(tmp_path):
    recipe = write_recipe(tmp_path, SITES)
    assert cli("build", "--recipe", str(recipe)).code == 0
    return recipe


def bundle(recipe, *args):
    return cli("bundle", "--recipe", str(recipe), *args)


def test_a_second_run_rewrites_nothing_and_a_changed_site_is_rewritten_whole_with_a_backup(built):
    folder = built.parent / "bundles"
    first = bundle(built)
    assert first.code == 0 and first.stdout.count("wrote ") == 12, first
    assert "does not check the cloud's certificate" in first.stderr
    before = tree(folder)
    again = bundle(built)
    assert again.code == 0 and "12 site(s) already up to date" in again.stdout and tree(folder) == before
    (folder / "site-03" / "etc" / "nanomq.conf").write_text("edited by hand\n")
    third = bundle(built)
    assert third.code == 0 and "wrote " in third.stdout and "11 other site(s) unchanged" in third.stdout, third
    assert tree(folder / "site-03") == {k.removeprefix("site-03/"): v for k, v in before.items() if k.startswith("site-03/")}
    (backup,) = [p for p in folder.iterdir() if p.name.startswith("site-03.") and p.name.endswith(".bak")]
    assert (backup / "etc" / "nanomq.conf").read_text() == "edited by hand\n"  # nothing lost


def test_only_takes_names_and_patterns_and_dry_run_writes_nothing(built):
    folder = built.parent / "bundles"
    listed = bundle(built, "--only", "site-0[1-3]", "--only", "site-12", "--dry-run")
    assert listed.code == 0 and not folder.exists()
    assert [line.split("/")[-1] for line in listed.stdout.splitlines()] == ["site-01", "site-02", "site-03", "site-12"]
    missing = bundle(built, "--only", "site-9*")
    assert missing.code == 2 and "no site matches 'site-9*'" in missing.stderr


def test_archives_are_the_same_bytes_each_time_and_unpack_at_the_sites_root(built, tmp_path):
    folder = built.parent / "bundles"
    assert bundle(built, "--archive", "--only", "site-01").code == 0
    first = (folder / "site-01.tar.gz").read_bytes()
    (folder / "site-01.tar.gz").unlink()
    (built.parent / "bundles" / ".openssl-recipes.bundles").write_text("site-01.tar.gz\n")
    assert bundle(built, "--archive", "--only", "site-01").code == 0
    assert (folder / "site-01.tar.gz").read_bytes() == first
    with tarfile.open(fileobj=io.BytesIO(first)) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert members["etc/nanomq/certs/site-01.key"].mode == 0o600 and members["etc/nanomq.conf"].mode == 0o644
    assert set(members) >= {"etc/nanomq/certs/ca-trust.pem", "etc/nanomq/certs/site-01.pem", "etc"}
    assert all(m.mtime == 0 and m.uid == 0 for m in members.values())


def test_a_name_it_did_not_write_and_a_link_are_refused_and_left_as_they_are(built, tmp_path):
    folder = built.parent / "bundles"
    folder.mkdir()
    (folder / "site-02").mkdir()
    (folder / "site-02" / "mine").write_text("the user's")
    refused = bundle(built)
    assert refused.code == 2 and "site-02 exists and was not written by this command" in refused.stderr, refused
    assert (folder / "site-02" / "mine").read_text() == "the user's" and not (folder / "site-01").exists()
    (folder / "site-02" / "mine").unlink()
    (folder / "site-02").rmdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, folder / "site-02")
    linked = bundle(built)
    assert linked.code == 2 and "symbolic link" in linked.stderr and list(outside.iterdir()) == []


def test_a_base_configuration_keeps_every_line_of_the_users_and_a_bad_marker_is_refused(built, tmp_path):
    base = tmp_path / "base.conf"
    base.write_text('mqtt { max_packet_size = 1MB }\nlisteners.tcp { bind = "0.0.0.0:1883" }\n')
    assert bundle(built, "--base", str(base), "--only", "site-01", "--conf-path", "/opt/nanomq/etc/nanomq.conf").code == 0
    conf = (built.parent / "bundles" / "site-01" / "opt/nanomq/etc/nanomq.conf").read_text()
    assert conf.startswith(base.read_text()) and "# BEGIN openssl-recipes bridge" in conf and 'clientid = "site-01"' in conf
    base.write_text("# BEGIN openssl-recipes bridge\n")
    bad = bundle(built, "--base", str(base))
    assert bad.code == 2 and "--base" in bad.stderr and "has no '# END openssl-recipes bridge'" in bad.stderr


def test_a_recipe_without_sites_or_without_cert_dir_is_told_what_to_set(tmp_path):
    recipe = write_recipe(tmp_path, SITES.replace("  cert_dir: /etc/nanomq/certs\n", ""))
    said = bundle(recipe)
    assert said.code == 2 and "nanomq.cert_dir" in said.stderr
    plain = write_recipe(tmp_path, "output: certs\nca: {subject: {CN: CA}}\nclients: [{name: c}]\n", "plain.yaml")
    said = bundle(plain)
    assert said.code == 2 and "the recipe has no sites" in said.stderr and "init sites" in said.stderr

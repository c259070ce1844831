"""Nothing crossed: every key opens with its own entry's password, whatever the entry names; passwords
openssl cannot take are refused before anything is written; a password file reads the same in `build`
and in `plan --script`; fleets with passwords work and a recipe's size is bounded."""

from __future__ import annotations

import subprocess
import time

import pytest

from ..helpers import cli, load_key, require, tree, write_recipe

BASE = """\
output: certs
defaults: {key_type: ec, subject: {O: Test}}
ca: {subject: {CN: Test CA}}
"""


def opens_with(path, password: str) -> bool:
    try:
        load_key(path, password.encode())
    except (ValueError, TypeError):
        return False
    return True


@pytest.mark.parametrize("first, second", [("a-1", "a_1"), ("CA", "ca"), ("x.y", "x_y")])
def test_entries_whose_names_differ_only_in_punctuation_or_case_keep_their_own_passwords(tmp_path, first, second):
    (tmp_path / "one.pass").write_text("first-password\n")
    (tmp_path / "two.pass").write_text("second-password\n")
    recipe = write_recipe(
        tmp_path,
        BASE.replace("ca: {subject: {CN: Test CA}}", "ca: {name: root, subject: {CN: Test CA}}")
        + f"clients:\n  - {{name: '{first}', subject: {{CN: one}}, password: {{file: one.pass}}}}\n"
        f"  - {{name: '{second}', subject: {{CN: two}}, password: {{file: two.pass}}}}\n",
    )
    plan = cli("plan", "--recipe", str(recipe))
    assert plan.code == 0, plan
    assert (built := cli("build", "--recipe", str(recipe))).code == 0, built
    certs = tmp_path / "certs"
    assert opens_with(certs / f"{first}.key", "first-password") and not opens_with(certs / f"{first}.key", "second-password")
    assert opens_with(certs / f"{second}.key", "second-password") and not opens_with(certs / f"{second}.key", "first-password")


def test_a_fleet_with_a_password_builds_and_every_member_opens_with_it(tmp_path):
    recipe = write_recipe(
        tmp_path, BASE + "clients:\n  - {name: 'd{n}', count: 3, subject: {CN: 'd{n}'}, password: {env: FLEET_PASS}}\n"
    )
    env = {"FLEET_PASS": "fleet-password"}
    for command in ("plan", "build", "verify"):
        result = cli(command, "--recipe", str(recipe), env=env)
        assert result.code == 0, (command, result)
    for n in (1, 2, 3):
        assert opens_with(tmp_path / "certs" / f"d{n}.key", "fleet-password")


def test_a_password_openssl_would_cut_is_refused_before_anything_is_written(tmp_path):
    recipe = write_recipe(tmp_path, BASE + "clients:\n  - {name: c, subject: {CN: c}, password: {env: LONG_PASS}}\n")
    before = tree(tmp_path)
    result = cli("build", "--recipe", str(recipe), env={"LONG_PASS": "x" * 1025})
    assert result.code == 2 and "is 1025 bytes; openssl reads at most 1024" in result.stderr, result
    assert tree(tmp_path) == before and "x" * 100 not in result.output
    assert cli("build", "--recipe", str(recipe), env={"LONG_PASS": "x" * 1024}).code == 0
    assert opens_with(tmp_path / "certs" / "c.key", "x" * 1024)


def test_a_crlf_password_file_gives_the_same_password_to_build_and_to_the_script(tmp_path):
    require("bash")
    (tmp_path / "c.pass").write_bytes(b"windows-password\r\nsecond line\r\n")
    recipe = write_recipe(tmp_path, BASE + "clients:\n  - {name: c, subject: {CN: c}, password: {file: c.pass}}\n")
    assert (built := cli("build", "--recipe", str(recipe))).code == 0, built
    built_key = (tmp_path / "certs" / "c.key").read_bytes()
    assert opens_with(tmp_path / "certs" / "c.key", "windows-password")
    script = cli("plan", "--script", "--recipe", str(recipe))
    assert script.code == 0, script
    other = tmp_path / "by-script"
    other.mkdir()
    (other / "build.sh").write_text(script.stdout.replace(str(tmp_path / "certs"), str(other / "certs")))
    assert str(other / "certs") in (other / "build.sh").read_text()
    ran = subprocess.run(["bash", str(other / "build.sh")], cwd=other, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    key = other / "certs" / "c.key"
    assert key.read_bytes() != built_key
    assert opens_with(key, "windows-password") and not opens_with(key, "windows-password\r")


def test_a_recipe_declaring_too_many_certificates_is_refused_quickly(tmp_path):
    fleets = "".join(f"  - {{name: 'f{i}-{{n}}', count: 100000, subject: {{CN: 'f{i}-{{n}}'}}}}\n" for i in range(20))
    recipe = write_recipe(tmp_path, BASE + "clients:\n" + fleets)
    started = time.monotonic()
    result = cli("plan", "--recipe", str(recipe))
    assert (
        result.code == 2 and "the recipe declares 2000000 certificates" in result.stderr and "at most 101000" in result.stderr
    ), result
    assert time.monotonic() - started < 5

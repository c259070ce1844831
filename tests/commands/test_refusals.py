"""Options a user can get wrong are refused with exit 2 naming the option, before anything is written;
none is an internal error."""

from __future__ import annotations

import os
import shutil

import pytest

from ..helpers import cli, run, tree


def test_an_empty_out_is_refused_not_taken_for_the_current_folder(small_pki):
    before = tree(small_pki.recipe.parent)
    for command in (["build"], ["clean"], ["plan"]):
        result = run(*command, "--recipe", str(small_pki.recipe), "--out", "", cwd=small_pki.recipe.parent)
        assert result.code == 2 and "--out: give a folder" in result.stderr, (command, result)
    assert tree(small_pki.recipe.parent) == before


def test_show_tree_takes_no_names(small_pki):
    result = cli("show", "--tree", "nosuch", "--recipe", str(small_pki.recipe))
    assert result.code == 2 and "show --tree draws the whole PKI" in result.stderr, result


def test_an_export_password_variable_must_be_a_variable_name(small_pki):
    result = cli("export", "client", "--password-env", "A B", "--recipe", str(small_pki.recipe))
    assert result.code == 2 and "--password-env 'A B': not an environment variable name" in result.stderr, result
    nothing = cli("export", "client", "--no-p12", "--recipe", str(small_pki.recipe))
    assert nothing.code == 2 and "nothing to export" in nothing.stderr, nothing


def test_a_nanomq_given_is_used_or_refused_never_another(small_pki, tmp_path):
    result = cli(
        "handshake",
        "--nanomq",
        str(tmp_path / "no-nanomq"),
        "--recipe",
        str(small_pki.recipe),
        env={"NANOMQ": shutil.which("openssl")},
    )
    assert result.code == 2 and f"no NanoMQ found at '{tmp_path / 'no-nanomq'}'" in result.stderr, result


def test_a_relative_openssl_is_found_from_the_current_folder(small_pki, tmp_path):
    (tmp_path / "bin").mkdir(exist_ok=True)
    os.symlink(shutil.which("openssl"), tmp_path / "bin" / "openssl")
    result = run("verify", "--recipe", str(small_pki.recipe), "--openssl", "./bin/openssl", cwd=tmp_path)
    assert result.code == 0, result  # (the steps run in the output folder, the probe here: one path for both)
    planned = run("plan", "--recipe", str(small_pki.recipe), "--openssl", "./bin/openssl", cwd=tmp_path)
    assert f"{tmp_path}/bin/openssl genrsa" in planned.stdout, planned


def test_conf_out_must_be_a_file_in_a_folder_that_exists(small_pki, tmp_path):
    folder = cli("conf", "nanomq", "--recipe", str(small_pki.recipe), "--out", str(tmp_path))
    assert folder.code == 2 and "--out" in folder.stderr and "is a folder" in folder.stderr, folder
    missing = cli("conf", "nanomq", "--recipe", str(small_pki.recipe), "--out", str(tmp_path / "no" / "x.conf"))
    assert missing.code == 2 and "no folder" in missing.stderr, missing


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["renew", "--within", "99999999999999999999"], "--within"),
        (["renew", "--within", "1000000000"], "--within"),
        (["verify", "--within", "99999999999999999999"], "--within"),
        (["verify", "--warn-days", "99999999999999999999"], "--warn-days"),
        (["handshake", "--timeout", "1e300"], "--timeout"),
        (["handshake", "--timeout", "nan"], "--timeout"),
        (["build", "--jobs", "99999999999"], "--jobs"),
        (["crl", "--crl-days", "99999999999999"], "--crl-days"),
    ],
)
def test_an_out_of_range_option_is_bad_input_naming_it(small_pki, args, option):
    """They were internal errors (timedelta and socket overflows): exit 2, the option named."""
    result = cli(*args, "--recipe", str(small_pki.recipe))
    assert result.code == 2 and f"Invalid value for '{option}'" in result.output, result

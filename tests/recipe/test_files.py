"""The files, names and values a recipe may use: nothing that leaves the output folder, nothing the
lifecycle commands write, nothing openssl would misread."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..helpers import SMALL_RECIPE, cli, tree, write_recipe


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


@pytest.mark.parametrize(
    "field, value, reason",
    [
        ("key_file", "../client.key", "must be a plain file name"),
        ("cert_file", "/tmp/openssl-recipes-outside.pem", "must be a plain file name"),
        ("csr_file", "sub/client.csr", "must be a plain file name"),
        ("key_file", "-passout", "no leading '-'"),  # openssl (and the printed shell script) would read an option
        ("cert_file", "x" * 300 + ".pem", "characters long"),  # the file system's limit: a clean error, not a crash
        ("key_file", ".openssl-recipes.lock", "must be a plain file name"),  # the lock; hidden names are refused
    ],
)
def test_file_names_that_leave_the_output_folder_are_refused(tmp_path, field, value, reason):
    recipe = write_recipe(tmp_path, SMALL_RECIPE + f"    {field}: '{value}'\n")
    before = tree(tmp_path)
    result = cli("build", "--recipe", str(recipe))
    assert result.code == 2 and f"clients[0].{field}" in result.stderr and reason in result.stderr, result
    assert tree(tmp_path) == before and not (tmp_path / "certs").exists()
    assert not Path("/tmp/openssl-recipes-outside.pem").exists()

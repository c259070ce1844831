"""The openssl found: an unusable or non-executable one is one clear line."""

from __future__ import annotations

import pytest

from ..helpers import (
    SMALL_RECIPE,
    cli,
    write_recipe,
)


@pytest.mark.parametrize("banner", ["OpenSSL 1.0.2k-fips  26 Jan 2017", "LibreSSL 2.8.3", "Garbage 1.0"])
def test_an_unusable_openssl_is_one_clear_line(tmp_path, banner):
    fake = tmp_path / "openssl"
    fake.write_text(f"#!/bin/sh\necho '{banner}'\n")
    fake.chmod(0o755)
    recipe = write_recipe(tmp_path, SMALL_RECIPE)
    result = cli("build", "--recipe", str(recipe), "--openssl", str(fake))
    assert result.code == 1 and result.stderr.count("\n") == 1, result
    assert banner.split()[0] in result.stderr


def test_a_non_executable_openssl_is_one_clear_line(tmp_path):
    fake = tmp_path / "openssl"
    fake.write_text("not a program")
    recipe = write_recipe(tmp_path, SMALL_RECIPE)
    result = cli("build", "--recipe", str(recipe), "--openssl", str(fake))
    assert result.code == 1 and result.stderr.count("\n") == 1 and "not found" in result.stderr, result

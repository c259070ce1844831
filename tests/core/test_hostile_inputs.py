"""A corpus of hostile inputs for every reader of what a user hands the tool — recipes, requests,
certificates: each is refused with exit 2 naming the file (a recipe: the place), quickly (the readers
are linear: each input below is parsed in-process within a second), and the process never dies of a
signal or ends in an internal error."""

from __future__ import annotations

import base64
import subprocess
import sys
import time
from pathlib import Path

import pytest

from openssl_recipes.core.errors import RecipeError
from openssl_recipes.core.pem import blocks
from openssl_recipes.core.x509 import Unreadable, read_certificate, read_request
from openssl_recipes.recipe.load import load_recipe

from ..helpers import SMALL_RECIPE, cli, write_recipe

MB = 1024 * 1024


def _pem(label: str, der: bytes) -> bytes:
    return b"-----BEGIN " + label.encode() + b"-----\n" + base64.encodebytes(der) + b"-----END " + label.encode() + b"-----\n"


def _der(tag: int, content: bytes) -> bytes:
    length = len(content)
    head = bytes([length]) if length < 0x80 else bytes([0x84]) + length.to_bytes(4, "big")
    return bytes([tag]) + head + content


RECIPES = {
    "deep flow nesting": "[" * 20000,
    "deep block nesting": "- " * 20000,
    "deep mappings": "{a: " * 20000,
    "an alias bomb": "a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: [*c, *c]\n",
    "a 5000-digit number": "ca: {days: " + "9" * 5000 + "}\n",
    "NUL bytes": "ca:\x00 {}\n" + "\x00" * 1000,
    "1 MB of one character": "a" * MB,
    "1 MB of one key": "x" * MB + ": 1\n",
    "a 1 MB entry name": "clients:\n  - {name: " + "n" * MB + "}\n",
    "a tab-indented document": "ca:\n\tsubject: {CN: x}\n",
}

HUGE_OID = _der(0x30, _der(0x30, _der(0x06, b"\x2a" + b"\x81" * 200_000 + b"\x01")))
REQUESTS_AND_CERTIFICATES = {
    "many BEGIN lines, no END": b"-----BEGIN CERTIFICATE REQUEST-----\n" * 40000,
    "BEGIN and END of other labels": b"-----BEGIN A-----\n-----END B-----\n" * 30000,
    "a huge OID": _pem("CERTIFICATE REQUEST", HUGE_OID),
    "a length of 4 GiB": _pem("CERTIFICATE REQUEST", b"\x30\x84\xff\xff\xff\xff" + b"\x00" * 64),
    "a 5000-digit serial": _pem("CERTIFICATE REQUEST", _der(0x30, _der(0x30, _der(0x02, b"\x7f" * 2100)))),
    "NUL bytes": b"\x00" * MB,
    "1 MB of one character": b"-----BEGIN CERTIFICATE REQUEST-----\n" + b"A" * MB + b"\n-----END CERTIFICATE REQUEST-----\n",
    "nested to the bottom": _pem("CERTIFICATE REQUEST", b"\x30\x80" * 100_000),
}


def _quickly(read, *args) -> BaseException:  # noqa: ANN001
    started = time.perf_counter()
    with pytest.raises((RecipeError, Unreadable)) as refused:
        read(*args)
    assert time.perf_counter() - started < 1.0, f"took {time.perf_counter() - started:.2f} s"
    return refused.value


@pytest.mark.parametrize("name", RECIPES)
def test_a_hostile_recipe_is_refused_quickly_with_exit_2(tmp_path, name):
    recipe = tmp_path / "recipes.yaml"
    recipe.write_text(RECIPES[name], encoding="utf-8")
    refusal = _quickly(load_recipe, recipe)
    assert str(recipe) in "\n".join(refusal.lines()), refusal.lines()
    done = subprocess.run(
        [sys.executable, "-m", "openssl_recipes", "plan", "--recipe", str(recipe)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "internal error" not in done.stderr and "Traceback" not in done.stderr, done.stderr


@pytest.mark.parametrize("name", REQUESTS_AND_CERTIFICATES)
def test_a_hostile_request_or_certificate_is_refused_quickly(tmp_path, name):
    data = REQUESTS_AND_CERTIFICATES[name].replace(b"CERTIFICATE REQUEST", b"CERTIFICATE")
    _quickly(read_request, REQUESTS_AND_CERTIFICATES[name])
    _quickly(read_certificate, data)
    started = time.perf_counter()
    blocks(REQUESTS_AND_CERTIFICATES[name])
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize("name", REQUESTS_AND_CERTIFICATES)
def test_sign_refuses_a_hostile_request_naming_it(tmp_path, name):
    recipe = write_recipe(tmp_path, SMALL_RECIPE)
    assert cli("build", "--recipe", str(recipe)).code == 0
    csr = tmp_path / "hostile.csr"
    csr.write_bytes(REQUESTS_AND_CERTIFICATES[name])
    done = subprocess.run(
        [sys.executable, "-m", "openssl_recipes", "sign", "--csr", str(csr), "--as", "client", "--recipe", str(recipe)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and str(csr) in done.stderr and "internal error" not in done.stderr, done.stderr


def test_show_says_a_hostile_certificate_is_unreadable(tmp_path):
    """`show` describes what is there (verify is the check that fails): "unreadable — why", exit 0."""
    recipe = write_recipe(tmp_path, SMALL_RECIPE)
    assert cli("build", "--recipe", str(recipe)).code == 0
    for data in REQUESTS_AND_CERTIFICATES.values():
        (tmp_path / "certs" / "client.pem").write_bytes(data.replace(b"CERTIFICATE REQUEST", b"CERTIFICATE"))
        done = subprocess.run(
            [sys.executable, "-m", "openssl_recipes", "show", "client", "--recipe", str(recipe)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0 and "internal error" not in done.stderr, (done.stdout, done.stderr)  # show describes
        assert "client.pem (client client): unreadable — " in done.stdout, done.stdout


def test_a_recipe_that_is_a_device_is_read_to_its_bound_only(tmp_path):
    """`plan -r /dev/zero` grew to 24 GB: the read stops at 8 MiB + 1 byte."""
    refusal = _quickly(load_recipe, Path("/dev/zero"))
    assert "too large for a recipe" in str(refusal), refusal

"""Every option of every command, fed arbitrary values (typer's own types included: numbers out of
range, 1e300, text where a number goes, paths that are folders, devices or missing), each run in a
throw-away folder holding a built PKI and a recipe of its own: the exit code is 0, 1 or 2 — never 3 —
and nothing prints a traceback. Paths stay inside the throw-away folder (or name a device or nothing):
an arbitrary `--out /` would let `clean` loose on the machine, an arbitrary `--openssl` run anything."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st

from openssl_recipes.cli import app

from ..helpers import SMALL_RECIPE, cli, examples, write_recipe

EC_RECIPE = SMALL_RECIPE.replace("defaults:\n", "defaults:\n  key_type: ec\n")
COMMANDS = typer.main.get_command(app).commands  # type: ignore[attr-defined]

PATHS = ["", " ", ".", "..", "x", "a/b/c", "certs", "certs/ca.key", "recipes.yaml", "/dev/null", "/dev/zero", "/nonexistent/x"]
PATHS += ["-", "-r", "--help", "é" * 40, "x" * 300, "link", "certs/link"]
EXECUTABLES = ["openssl", "nonexistent-openssl", "/dev/null", "./x", "certs", "false", ""]
PATH_OPTIONS = {"recipe_file", "out", "templates", "certs", "into", "csr", "csr_dir"}
EXECUTABLE_OPTIONS = {"openssl", "binary_path"}
NUMBERS = ["0", "-1", "1", "30", "36500", "36501", "99999999999999999999", "1e300", "nan", "inf", "-0", "0x10", "1_000", " 7"]

argv_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
NAMES = [
    "server",
    "client",
    "ca",
    "nobody",
    "two-way",
    "one-way",
    "fleet",
    "bridge",
    "nanomq",
    "mosquitto",
    "emqx",
    "keyCompromise",
]
value = st.one_of(st.sampled_from(NUMBERS), st.sampled_from(PATHS), st.sampled_from(NAMES), argv_text)


def _argument(param) -> st.SearchStrategy[list[str]]:  # noqa: ANN001
    if param.name in EXECUTABLE_OPTIONS:
        choices = st.sampled_from(EXECUTABLES)
    elif param.name in PATH_OPTIONS:
        choices = st.sampled_from(PATHS)
    else:
        choices = value
    if param.param_type_name == "argument":
        return st.lists(st.one_of(st.sampled_from(NAMES), choices), min_size=0, max_size=3 if param.nargs == -1 else 1)
    option = param.opts[0]
    if getattr(param, "is_flag", False):
        return st.sampled_from([[], [option]])
    count = 3 if param.multiple else 1
    return st.lists(choices.map(lambda text: [option, text]), max_size=count).map(lambda pairs: [w for p in pairs for w in p])


@st.composite
def invocations(draw) -> list[str]:  # noqa: ANN001
    name = draw(st.sampled_from(sorted(COMMANDS)))
    words = [name]
    for param in draw(st.permutations(COMMANDS[name].params)):
        if param.param_type_name == "argument" or draw(st.booleans()):
            words += draw(_argument(param))
    return words


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("option-pki")
    assert cli("build", "--recipe", str(write_recipe(work, EC_RECIPE))).code == 0
    return work


@settings(max_examples=examples(300))
@given(invocations())
def test_no_option_value_is_an_internal_error(built, words):
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        shutil.copytree(built, folder, symlinks=True, dirs_exist_ok=True)
        (folder / "link").symlink_to(folder / "certs" / "ca.key")
        (folder / "certs" / "link").symlink_to(folder / "outside")
        before = {p: p.read_bytes() for p in (folder / "certs").iterdir() if p.is_file() and not p.is_symlink()}
        done = cli(*words, cwd=folder, env={"OPENSSL_RECIPES_DEBUG": "", "COLUMNS": "100"})
        shown = f"$ openssl-recipes {' '.join(words)}\n{done.stdout}\n{done.stderr}"
        assert done.code in (0, 1, 2), shown
        assert "Traceback" not in done.stdout + done.stderr and "internal error" not in done.stderr, shown
        key = folder / "certs" / "ca.key"
        if key in before and key.exists() and words[0] not in ("build", "clean"):
            assert key.read_bytes() == before[key], shown  # only build --new-ca and clean may change the CA key

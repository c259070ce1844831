"""Shell completion completes the recipe's entry names, and every command's --help ends with examples."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from .helpers import SMALL_RECIPE, cli, write_recipe

COMMANDS = [
    "init",
    "plan",
    "build",
    "verify",
    "handshake",
    "conf",
    "show",
    "export",
    "issue",
    "renew",
    "revoke",
    "crl",
    "sign",
    "clean",
    "schema",
]


def complete(words: str, cwd) -> list[str]:
    """What bash completion offers after `words` (the program run as the shell runs it on Tab)."""
    env = {
        **os.environ,
        "_OPENSSL_RECIPES_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split(" ")) - 1),
    }
    result = subprocess.run(
        [sys.executable, "-m", "openssl_recipes"], cwd=cwd, env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


@pytest.mark.parametrize(
    "words", ["openssl-recipes show ", "openssl-recipes renew ", "openssl-recipes revoke ", "openssl-recipes export "]
)
def test_entry_names_complete(tmp_path, words):
    write_recipe(tmp_path, SMALL_RECIPE)
    assert set(complete(words, tmp_path)) >= {"server", "client"}
    assert complete(words + "cl", tmp_path) == ["client"]


def test_completion_reads_the_recipe_given_with_recipe_and_is_quiet_without_one(tmp_path):
    write_recipe(tmp_path, SMALL_RECIPE.replace("name: client", "name: sensor-9"), name="other.yaml")
    assert complete("openssl-recipes show --recipe other.yaml se", tmp_path) == ["server", "sensor-9"]
    assert complete("openssl-recipes show ", tmp_path) == []  # no recipes.yaml here: nothing, and no error


def test_completion_can_be_installed():
    result = cli("--help")
    assert "--install-completion" in result.stdout and "--show-completion" in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_commands_help_ends_with_examples(command):
    text = cli(command, "--help").stdout.rstrip()
    last = text.split("\n\n")[-1]
    assert last.lstrip().startswith(("Examples:", "Example:")) and "openssl-recipes " in last, text[-300:]

"""Shell completion completes the recipe's entry names, and every command's --help ends with examples."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ..helpers import SMALL_RECIPE, cli, write_recipe

COMMANDS = [
    "init",
    "plan",
    "build",
    "verify",
    "handshake",
    "conf",
    "bundle",
    "show",
    "export",
    "issue",
    "renew",
    "revoke",
    "crl",
    "rotate",
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
    offered = complete(words, tmp_path)
    assert set(offered) >= {"server", "client"}
    assert ("ca" in offered) == words.startswith("openssl-recipes show")  # the others refuse a CA
    assert complete(words + "cl", tmp_path) == ["client"]
    typer_says = complete(words + " --recipe recipes.yaml ", tmp_path)  # an option before it: typer answers
    assert set(typer_says) == set(offered), typer_says


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


def test_command_names_complete_from_the_lazy_table(tmp_path):
    assert complete("openssl-recipes b", tmp_path) == ["build", "bundle"]
    assert complete("openssl-recipes re", tmp_path) == ["renew", "revoke"]
    assert "--jobs" in complete("openssl-recipes build --", tmp_path)


def test_a_command_runs_without_loading_the_others():
    """`plan --help` imports and converts `plan` only (typer builds adapters per option it converts)."""
    code = (
        "import sys\nfrom openssl_recipes.cli import app, main\n"
        "main(['plan', '--help'])\n"
        "print(sorted(m for m in sys.modules if m.startswith('openssl_recipes.commands.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[-1] == "['openssl_recipes.commands.common', 'openssl_recipes.commands.plan']"


def test_the_listing_shows_what_each_command_says_of_itself():
    """`--help` lists outlines (docstrings, no options converted): they must say what the real command says."""
    from openssl_recipes.cli import COMMAND_MODULES, CommandTable

    table = CommandTable()
    assert list(COMMAND_MODULES) == COMMANDS
    for name in COMMANDS:
        real = table[name]
        assert real.name == name
        assert table.outline(name).get_short_help_str(60) == real.get_short_help_str(60)
        assert table.outline(name).hidden == real.hidden


def test_completion_reads_names_as_the_recipe_does_fleets_included(tmp_path):
    """Completion reads names without validating (fast on every Tab): the same names as the loader's."""
    from openssl_recipes.recipe.load import load_recipe
    from openssl_recipes.startup.peek import entry_names

    text = SMALL_RECIPE + "  - {name: 'dev-{n:03d}', count: 12, subject: {CN: 'dev {n}'}}\n"
    path = write_recipe(tmp_path, text.replace("ca:\n", "ca:\n  name: root\n"))
    recipe = load_recipe(path)
    assert entry_names(path) == [entry.name for entry in (*recipe.authorities, *recipe.leaves)]
    assert complete("openssl-recipes renew dev-01", tmp_path) == ["dev-010", "dev-011", "dev-012"]


# -- the quick answers (before typer is imported) ---------------------------------------------------

TYPER_ONLY = "import sys\nfrom openssl_recipes.cli import main\nsys.exit(main())\n"  # typer answers every request


def request(words: str, cword: int | None = None) -> dict[str, str]:
    return {
        **os.environ,
        "_OPENSSL_RECIPES_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split(" ")) - 1 if cword is None else cword),
    }


QUICK = [
    "openssl-recipes ",
    "openssl-recipes b",
    "openssl-recipes re",
    "openssl-recipes zz",
    "openssl-recipes show ",
    "openssl-recipes show s",
    "openssl-recipes show server cl",
    "openssl-recipes renew dev-01",
    "openssl-recipes export ",
    "openssl-recipes revoke cl",
    "openssl-recipes issue client ",
    "openssl-recipes issue server se",
    "openssl-recipes show 'dev",
]
TYPER = [
    "openssl-recipes build --",
    "openssl-recipes show --recipe other.yaml s",
    "openssl-recipes show -",
    "openssl-recipes export server ",
    "openssl-recipes issue ",
    "openssl-recipes issue cl",
    "openssl-recipes plan ",
    "openssl-recipes plan --out ",
]


def test_a_tab_on_a_command_name_does_not_import_typer():
    code = (
        "import os, sys\nfrom openssl_recipes.entry import main\n"
        "code = main(sys.argv[1:])\nprint('typer' in sys.modules, 'yaml' in sys.modules, file=sys.stderr)\nsys.exit(code)\n"
    )
    said = subprocess.run([sys.executable, "-c", code], env=request("openssl-recipes b"), capture_output=True, text=True)
    assert (said.stdout, said.stderr.split()) == ("build\nbundle\n", ["False", "False"])


@pytest.mark.parametrize("columns", ["80", "132", "79", "50"])
def test_the_quick_top_level_help_is_typers_help(tmp_path, columns):
    """From 80 columns on, `--help` prints the snapshot (no typer import); narrower, typer. Either way,
    what typer itself prints. When a command's help changes, this prints the text for help_text.py."""
    from openssl_recipes.startup.help import TOP_LEVEL_HELP, WIDEST_WRAP

    env = {**os.environ, "COLUMNS": columns}
    env.pop("_OPENSSL_RECIPES_COMPLETE", None)
    typer_says = subprocess.run([sys.executable, "-c", TYPER_ONLY, "--help"], env=env, capture_output=True, text=True)
    code = (
        "import sys\nfrom openssl_recipes.entry import main\n"
        "code = main(sys.argv[1:])\nprint('typer' in sys.modules, file=sys.stderr)\nsys.exit(code)\n"
    )
    program_says = subprocess.run([sys.executable, "-c", code, "--help"], env=env, capture_output=True, text=True)
    assert (program_says.returncode, program_says.stdout) == (typer_says.returncode, typer_says.stdout) == (0, typer_says.stdout)
    quick = int(columns) >= WIDEST_WRAP
    assert program_says.stderr.split() == [str(not quick)]
    if quick:
        assert TOP_LEVEL_HELP == typer_says.stdout, f"paste into help_text.TOP_LEVEL_HELP:\n{typer_says.stdout}"


def test_the_quick_answer_knows_every_argument_that_completes_entry_names():
    """Which commands take entry names, and how many, is kept by hand for the answer before typer loads:
    held to the arguments that complete with `entry_names` in the commands themselves."""
    import typing

    from openssl_recipes.cli import CommandTable
    from openssl_recipes.commands import COMMAND_MODULES
    from openssl_recipes.commands.common import entry_names
    from openssl_recipes.startup.completion import ENTRY_ARGUMENTS, ROLES

    table, found = CommandTable(), {}
    for name in COMMAND_MODULES:
        hints = typing.get_type_hints(table.info(name).callback, include_extras=True)
        for hint in hints.values():
            for info in getattr(hint, "__metadata__", ()):
                if getattr(info, "autocompletion", None) is entry_names:
                    takes = typing.get_args(hint)[0]  # str, or list[str] | None for any number
                    found[name] = None if "list" in str(takes) else 1
    issue = found.pop("issue")  # `issue ROLE NAME`: the name after a role
    assert issue == 1 and ROLES == ("client", "server")
    assert found == ENTRY_ARGUMENTS

"""The README is the user's manual, so it is tested: every console example runs as written, in a fresh
folder (or one made ready as its `<!-- example: … -->` line says: the default recipe, a recipe block
of the README named `<!-- recipe: NAME -->`, commands run before), and prints what the README shows,
timings, dates and days left aside (a `…` line stands for any lines); an example marked `reference` is
a list of commands, each checked to be a command the tool has with options it takes. Every recipe
snippet validates against `openssl-recipes schema` and the loader, laid over the default recipe."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from openssl_recipes.commands import COMMAND_MODULES
from openssl_recipes.recipe.load import parse_recipe

from ..helpers import DEFAULT_RECIPE, ROOT, cli, make_device_requests

README = (ROOT / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^```(\w*)\s*$")


def blocks() -> list[tuple[int, str, str, list[str]]]:
    """(line, language, the directive before it, its lines) of every fenced block."""
    found, lines, i = [], README.split("\n"), 0
    while i < len(lines):
        opening = FENCE.match(lines[i]) if lines[i].startswith("```") else None
        if opening is None:
            i += 1
            continue
        start, body = i, []
        i += 1
        while i < len(lines) and not re.fullmatch(r"```\s*", lines[i]):
            assert not lines[i].startswith("```"), f"README.md:{i + 1}: a closing fence with text after it"
            body.append(lines[i])
            i += 1
        assert i < len(lines), f"README.md:{start + 1}: a block never closed"
        directive = lines[start - 1] if start and lines[start - 1].startswith("<!--") else ""
        found.append((start + 1, opening.group(1), directive, body))
        i += 1
    return found


CONSOLE = [block for block in blocks() if block[1] == "console"]
RECIPES = [block for block in blocks() if block[1] == "yaml" and not block[2].startswith("<!-- recipe: ")]
# a recipe an example runs with (`<!-- recipe: NAME -->` before it): shown whole, mistakes and all
NAMED_RECIPES = {
    block[2].removeprefix("<!-- recipe: ").removesuffix(" -->"): block[3]
    for block in blocks()
    if block[1] == "yaml" and block[2].startswith("<!-- recipe: ")
}


def normal(text: str, folder: Path) -> str:
    text = text.replace(str(folder), ".")
    text = re.sub(r"\b\d+\.\d+ s\b", "<t> s", text)
    text = re.sub(r"\b\d+ days left\b", "<n> days left", text)
    text = re.sub(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", "<time>", text)
    text = re.sub(r"\b\d{8}-\d{6}\b", "<time>", text)  # a backup's or an archive's name
    text = re.sub(r"\b\d{4}-\d{2}-\d{2}\b", "<date>", text)
    # a refusal's words race in TLS 1.3 (the alert, or the connection closed before it is read): the
    # verdict is compared, the words are not
    text = re.sub(r"(: refused) — .*$", r"\1 — <why>", text, flags=re.M)
    return "\n".join(line.rstrip() for line in text.strip("\n").split("\n"))


def matches(expected: list[str], actual: list[str]) -> bool:
    """Line by line; an expected line that starts with … stands for any lines (none too)."""
    if not expected:
        return not actual
    if expected[0].startswith("…"):
        return any(matches(expected[1:], actual[k:]) for k in range(len(actual) + 1))
    return bool(actual) and expected[0] == actual[0] and matches(expected[1:], actual[1:])


def commands_and_outputs(body: list[str]) -> list[tuple[str, list[str]]]:
    steps: list[tuple[str, list[str]]] = []
    for line in body:
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            steps[-1][1].append(line)
    return steps


def argv_of(command: str) -> list[str]:
    words = shlex.split(command, comments=True)
    return [sys.executable, "-m", "openssl_recipes", *words[1:]] if words[0] == "openssl-recipes" else words


def shell(command: str, folder: Path) -> tuple[int, str]:
    """Run one command of an example as a terminal shows it: stdout and stderr in the order written."""
    env = {**os.environ, "COLUMNS": "100"}
    done = subprocess.run(argv_of(command), cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return done.returncode, done.stdout


@pytest.mark.parametrize(("line", "language", "directive", "body"), CONSOLE, ids=[f"line {b[0]}" for b in CONSOLE])
def test_each_console_example_prints_what_the_readme_shows(tmp_path, line, language, directive, body):
    assert directive.startswith("<!-- example: "), f"README.md:{line}: say how to run this example (<!-- example: … -->)"
    setup = directive.removeprefix("<!-- example: ").removesuffix(" -->")
    if setup.startswith("reference"):
        for command, _output in commands_and_outputs(body):
            words = shlex.split(command, comments=True)
            assert words[0] == "openssl-recipes" and words[1] in COMMAND_MODULES, f"README.md:{line}: {command}"
            options = {word.split("=")[0] for word in words[2:] if word.startswith("-")}
            helped = cli(words[1], "--help", env={"COLUMNS": "200"})
            assert all(re.search(rf"(^|[\s,]){re.escape(option)}[\s,/]", helped.stdout, re.M) for option in options), (
                command,
                helped.stdout,
            )
        return
    kind, _, before = setup.partition("; before: ")
    kind, _, recipe = kind.partition("; recipe: ")
    assert kind in ("fresh", "default"), f"README.md:{line}: an example is fresh, default or reference"
    if kind == "default":
        shutil.copy(DEFAULT_RECIPE, tmp_path / "recipes.yaml")
    if recipe:
        assert recipe in NAMED_RECIPES, f"README.md:{line}: no recipe block named {recipe!r}"
        (tmp_path / "recipes.yaml").write_text("\n".join(NAMED_RECIPES[recipe]) + "\n")
    for command in filter(None, before.split(" && ")):
        code, output = shell(command, tmp_path)
        assert code == 0, (command, output)
    for command, expected in commands_and_outputs(body):
        code, output = shell(command, tmp_path)
        if not expected:  # the README shows no output (openssl's own progress dots): it ran, that is all
            assert code == 0, (command, output)
            continue
        printed, wanted = normal(output, tmp_path).split("\n"), normal("\n".join(expected), tmp_path).split("\n")
        assert matches(wanted, printed), (
            f"README.md:{line}: $ {command}\n--- README\n" + "\n".join(wanted) + "\n--- printed\n" + "\n".join(printed)
        )


@pytest.mark.parametrize(("line", "language", "directive", "body"), RECIPES, ids=[f"line {b[0]}" for b in RECIPES])
def test_each_recipe_snippet_validates_laid_over_the_default_recipe(tmp_path, line, language, directive, body):
    from openssl_recipes.recipe.json_schema import recipe_json_schema

    document = yaml.safe_load(DEFAULT_RECIPE.read_text()) | yaml.safe_load("\n".join(body))
    errors = [
        f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
        for e in jsonschema.Draft202012Validator(recipe_json_schema()).iter_errors(document)
    ]
    assert not errors, (line, errors)
    make_device_requests(document, tmp_path)
    parse_recipe(json.dumps(document), tmp_path / "recipes.yaml")  # (JSON is YAML) and the loader takes it

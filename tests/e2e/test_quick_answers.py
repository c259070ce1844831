"""Tab answered before typer loads: for every request the quick path claims, byte for byte what typer
itself prints, and the rest left to typer (each request run as the program, against typer alone)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ..helpers import SMALL_RECIPE, write_recipe
from ..startup.test_completion import QUICK, TYPER, TYPER_ONLY, request


@pytest.mark.parametrize("recipe", ["fleet", "broken", "none"])
def test_a_quick_answer_is_typers_answer(tmp_path, recipe):
    """Each request answered before typer loads gets, byte for byte, what typer itself prints; the
    others are left to typer (and still get its answer)."""
    from openssl_recipes.commands import COMMAND_MODULES
    from openssl_recipes.startup.completion import answer

    if recipe == "fleet":
        write_recipe(tmp_path, SMALL_RECIPE + "  - {name: 'dev-{n:03d}', count: 12}\n")
        write_recipe(tmp_path, SMALL_RECIPE.replace("name: client", "name: sensor-9"), name="other.yaml")
    elif recipe == "broken":
        (tmp_path / "recipes.yaml").write_text("clients: [ {name: x\n")
    for words in QUICK + TYPER:
        env = request(words)
        typer_says = subprocess.run([sys.executable, "-c", TYPER_ONLY], cwd=tmp_path, env=env, capture_output=True, text=True)
        program_says = subprocess.run(
            [sys.executable, "-m", "openssl_recipes"], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert (program_says.returncode, program_says.stdout) == (typer_says.returncode, typer_says.stdout), words
        quick = answer(env, list(COMMAND_MODULES), str(tmp_path / "recipes.yaml"))
        if words in QUICK:
            assert quick == typer_says.stdout, words
        else:
            assert quick is None, words
    if recipe == "fleet":  # the answers are not empty by accident
        assert (
            answer(request("openssl-recipes renew dev-01"), [], str(tmp_path / "recipes.yaml")) == "dev-010\ndev-011\ndev-012\n"
        )

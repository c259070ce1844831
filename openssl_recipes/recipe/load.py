"""recipes.yaml → a validated `Recipe`, or one RecipeError naming every problem and where it is.

Three steps, each with errors that say where: YAML (line and column), the pydantic schema (field
path), then the rules that span entries (`rules`).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from ..core.errors import Problem, RecipeError
from ..core.reading import MAX_RECIPE_BYTES, TooLarge, read_bounded
from .model import Recipe
from .rules import resolve
from .schema import RecipeIn, problems_of
from .yaml_source import Locate


def load_recipe(path: Path, output_override: Path | None = None) -> Recipe:
    """Read, parse and validate `path`; raise RecipeError naming every problem and where it is."""
    try:
        text = read_bounded(path, MAX_RECIPE_BYTES).decode("utf-8")
    except TooLarge:
        raise RecipeError(f"{path}: more than {MAX_RECIPE_BYTES} bytes is too large for a recipe") from None
    except FileNotFoundError:
        raise RecipeError(f"{path}: no such recipe file (give one with --recipe FILE)") from None
    except IsADirectoryError:
        raise RecipeError(f"{path}: is a folder, not a recipe file") from None
    except UnicodeDecodeError as exc:
        raise RecipeError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise RecipeError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_recipe(text, path, output_override)


def parse_recipe(text: str, path: Path, output_override: Path | None = None) -> Recipe:
    from . import yaml_source

    document, locate = yaml_source.parse(text, str(path))
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise RecipeError(f"{path}: the recipe must be a mapping of keys (output, defaults, ca, servers, clients)")
    try:
        raw = RecipeIn.model_validate(document)
    except ValidationError as exc:
        raise _invalid(path, problems_of(exc), locate) from None
    except RecursionError:
        raise RecipeError(f"{path}: the recipe is nested too deeply") from None
    base = path.resolve().parent
    output_dir = output_override.resolve() if output_override else (base / raw.output).resolve()
    recipe, problems = resolve(raw, path, base, output_dir)
    if recipe is None:
        raise _invalid(path, problems, locate)
    return recipe


def _invalid(path: Path, problems: list[Problem], locate: Locate) -> RecipeError:
    """One error listing every problem: its field path, what is wrong, and where the YAML says it."""

    def described(problem: Problem) -> str:
        place = locate(list(problem.loc))
        where = f" (line {place[0]}, column {place[1]})" if place else ""
        return f"{problem.where}: {problem.message}{where}"

    return RecipeError(f"{path}: the recipe is not valid", [described(problem) for problem in problems])

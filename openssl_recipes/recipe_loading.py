"""recipes.yaml → a validated `Recipe`, or one RecipeError naming every problem and where it is.

Three steps, each with errors that say where: YAML (line and column), the pydantic schema (field
path), then the rules that span entries (`recipe_rules`).
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .errors import RecipeError
from .recipe import Recipe
from .recipe_rules import resolve
from .recipe_schema import ALL_KEYS, FieldProblem, RecipeIn

MAX_RECIPE_BYTES = 8 * 1024 * 1024


def load_recipe(path: Path, output_override: Path | None = None) -> Recipe:
    """Read, parse and validate `path`; raise RecipeError naming every problem and where it is."""
    try:
        size = path.stat().st_size
        if size > MAX_RECIPE_BYTES:
            raise RecipeError(f"{path}: {size} bytes is too large for a recipe (at most {MAX_RECIPE_BYTES})")
        text = path.read_text(encoding="utf-8")
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
        raise RecipeError(f"{path}: the recipe is not valid", [_describe(e, locate) for e in exc.errors()]) from None
    except RecursionError:
        raise RecipeError(f"{path}: the recipe is nested too deeply") from None
    base = path.resolve().parent
    output_dir = output_override.resolve() if output_override else (base / raw.output).resolve()
    return resolve(raw, path, base, output_dir, locate)


def _describe(error: Any, locate: Any) -> str:
    loc = list(error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        key = str(loc[-1])
        close = difflib.get_close_matches(key, ALL_KEYS, n=1)
        message = f"unknown key {key!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
    problem = error.get("ctx", {}).get("error")
    if isinstance(problem, FieldProblem):
        loc.append(problem.sub)
    where = format_loc(loc)
    line = locate(loc)
    return f"{where}: {message}" + (f" (line {line})" if line else "")


def format_loc(loc: list[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"

"""recipes.yaml → a validated `Recipe`, or one RecipeError naming every problem and where it is.

Three steps, each with errors that say where: YAML (line and column), the pydantic schema (field
path), then the rules that span entries (`rules`).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from ..core.errors import Loc, Problem, RecipeError
from ..core.reading import MAX_RECIPE_BYTES, TooLarge, read_bounded
from .model import Recipe
from .rotation import State, applied, read_state
from .rules import resolve
from .schema import RecipeIn, problems_of
from .yaml_source import Locate


def load_recipe(path: Path, output_override: Path | None = None, state: State | None = None) -> Recipe:
    """Read, parse and validate `path`; raise RecipeError naming every problem and where it is.
    `state`: a CA rotation's phase to read it in (default: the output folder's)."""
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
    return parse_recipe(text, path, output_override, state)


def parse_recipe(text: str, path: Path, output_override: Path | None = None, state: State | None = None) -> Recipe:
    from . import yaml_source

    document, locate = yaml_source.parse(text, str(path))
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise RecipeError(f"{path}: the recipe must be a mapping of keys (output, defaults, ca, servers, clients)")
    base = path.resolve().parent
    try:
        raw = RecipeIn.model_validate(document)
    except ValidationError as exc:
        problems = problems_of(exc)
        raise _invalid(path, problems + _beyond_the_fields(document, problems, path, base), locate) from None
    except RecursionError:
        raise RecipeError(f"{path}: the recipe is nested too deeply") from None
    output_dir = output_override.resolve() if output_override else (base / raw.output).resolve()
    recipe, problems = resolve(raw, path, base, output_dir)
    if recipe is None:
        raise _invalid(path, problems, locate)
    return applied(recipe, state or read_state(output_dir))  # a CA rotation's phase, kept in the output folder


def _beyond_the_fields(document: dict, problems: list[Problem], path: Path, base: Path) -> list[Problem]:
    """The problems across entries (files written twice, a path out of the folder, a NanoMQ section
    naming nobody) among the entries whose fields are valid, so that one run names every problem:
    the entries with a field problem are set aside in place (the others keep their indices), a bad
    `nanomq:` section is left out. A field problem elsewhere (the CA, the defaults) changes what every
    entry means: then the field problems alone."""
    set_aside: dict[Loc, object] = {}  # an entry's field path → the name it gives (None: none)
    salvaged = dict(document)
    for problem in problems:
        loc = problem.loc
        if len(loc) >= 2 and loc[0] in ("servers", "clients") and isinstance(loc[1], int):
            entry = document[loc[0]][loc[1]]
            name = entry.get("name") if isinstance(entry, dict) else None
            set_aside[(loc[0], loc[1])] = name if isinstance(name, str) else None
        elif loc[:1] == ("nanomq",):
            salvaged.pop("nanomq", None)
        else:
            return []
    for section in ("servers", "clients"):
        entries = salvaged.get(section)
        if isinstance(entries, list):
            salvaged[section] = [_STAND_IN if (section, index) in set_aside else entry for index, entry in enumerate(entries)]
    try:
        raw = RecipeIn.model_validate(salvaged)
        return resolve(raw, path, base, base, set_aside=set_aside)[1]
    except (ValidationError, RecursionError):
        return []


_STAND_IN = {"name": "set-aside"}  # valid in every field; `resolve` skips it


def _invalid(path: Path, problems: list[Problem], locate: Locate) -> RecipeError:
    """One error listing every problem in the order of the file: its field path, what is wrong, and
    where the YAML says it (problems without a place last)."""
    placed = [(locate(list(problem.loc)), problem) for problem in problems]
    placed.sort(key=lambda item: item[0] or (float("inf"), 0))

    def described(place: tuple[int, int] | None, problem: Problem) -> str:
        where = f" (line {place[0]}, column {place[1]})" if place else ""
        return f"{problem.where}: {problem.message}{where}"

    lines = [described(*item) for item in placed[:MAX_PROBLEMS_SHOWN]]
    if len(placed) > MAX_PROBLEMS_SHOWN:
        lines.append(f"… and {len(placed) - MAX_PROBLEMS_SHOWN} more problems")
    return RecipeError(f"{path}: the recipe is not valid", lines)


MAX_PROBLEMS_SHOWN = 100  # a person reads the first ones; a generated file may hold 100 000

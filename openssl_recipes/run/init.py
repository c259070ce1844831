"""`init`'s files: the recipe (a previous one kept as a backup when replaced) and its JSON Schema beside
it, where the recipe's `$schema` line points: a path that lasts, not one inside the installed package."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from ..core.errors import UsageError
from ..core.reading import read_bounded
from ..recipe.json_schema import SCHEMA_FILE, recipe_json_schema, schema_text
from .backups import set_aside
from .workspace import write_atomically


def write_recipe(recipe_file: Path, text: str, force: bool, say: Callable[[str], None], warn: Callable[[str], None]) -> None:
    """Write the recipe and `recipes.schema.json` beside it (made again only when it is the tool's)."""
    if recipe_file.exists() and not force:
        raise UsageError(f"{recipe_file} exists: give another --recipe FILE, or --force to replace it (kept as a backup)")
    schema = recipe_file.resolve().parent / SCHEMA_FILE
    if schema.exists() and not _is_ours(schema):
        raise UsageError(f"{schema} exists and is not openssl-recipes' JSON Schema: move it away (init writes one there)")
    backup = set_aside(recipe_file.resolve().parent, [recipe_file.name]) if recipe_file.exists() else {}
    write_atomically(recipe_file.resolve(), text, 0o644)
    write_atomically(schema, schema_text(), 0o644)
    if backup:
        warn(f"kept the previous recipe as {backup[recipe_file.name]}")
    say(f"wrote {recipe_file} and {SCHEMA_FILE} beside it (its JSON Schema, for editors)")


def _is_ours(schema: Path) -> bool:
    try:
        found = json.loads(read_bounded(schema, 1 << 20))  # ours is ~20 KiB: a larger file is not ours
    except (OSError, ValueError):  # (TooLarge is a ValueError)
        return False
    return isinstance(found, dict) and found.get("title") == recipe_json_schema()["title"]

"""The JSON Schema of recipes.yaml, from the pydantic models (descriptions, defaults, allowed values).
Each field widens it where its validator accepts a shorthand (`password: prompt`, `san: one-name`, a
keep-alive as text) and narrows it where its validator bounds a value, beside that validator
(`fields.limits`, `fields.accepts`), so editors check what the loader checks.

`openssl-recipes schema` prints it; the package ships it as `recipes.schema.json` (a test keeps the
two equal), and `init` writes it beside the recipe, where its `# yaml-language-server: $schema=…` line
points editors.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCHEMA_FILE = "recipes.schema.json"  # its name, in the package and beside a recipe init writes
SHIPPED = Path(__file__).with_name(SCHEMA_FILE)


def recipe_json_schema() -> dict[str, Any]:
    """Every field's bounds and accepted forms are its own (`json_schema_extra` beside its validator)."""
    from .schema import RecipeIn

    schema = RecipeIn.model_json_schema()
    schema["title"] = "openssl-recipes recipe (recipes.yaml)"
    schema["description"] = "A CA, servers and clients for one-way and two-way TLS, and how NanoMQ uses them."
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def schema_text() -> str:
    return json.dumps(recipe_json_schema(), indent=2, ensure_ascii=False) + "\n"

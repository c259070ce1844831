"""The JSON Schema of recipes.yaml, from the pydantic models (descriptions, defaults, allowed values),
widened where the loader accepts a shorthand (`password: prompt`, `san: one-name`, a keep-alive as
text) and narrowed where a validator bounds a value, so editors check what the loader checks.

`openssl-recipes schema` prints it; the package ships it as `recipes.schema.json` (a test keeps the
two equal) and `init` points editors at it with a `# yaml-language-server: $schema=…` line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SHIPPED = Path(__file__).with_name("recipes.schema.json")
DIGEST_PATTERN = "^[Ss][Hh][Aa]-?(256|384|512)$"


def recipe_json_schema() -> dict[str, Any]:
    from ..core.numbering import MAX_FLEET
    from .broker import DURATION
    from .schema import ENV_NAME, RecipeIn

    schema = RecipeIn.model_json_schema()
    defs = schema["$defs"]
    for model in defs.values():
        props = model.get("properties", {})
        if "password" in props:  # {env: …}, {file: …}, {prompt: true} or the word prompt
            props["password"]["anyOf"] = [{"$ref": "#/$defs/PasswordIn"}, {"const": "prompt"}, {"type": "null"}]
        _bound(props, "key_size", minimum=2048, maximum=16384, multipleOf=8)
        _bound(props, "days", minimum=1, maximum=36500)
        _bound(props, "count", minimum=1, maximum=MAX_FLEET)
        _bound(props, "digest", pattern=DIGEST_PATTERN)
        _bound(props, "port", minimum=1, maximum=65535)
    leaf = defs["LeafIn"]["properties"]
    san = {key: value for key, value in leaf["san"].items() if key not in ("type", "items")}
    leaf["san"] = {
        **san,
        "anyOf": [{"type": "array", "items": {"type": "string", "minLength": 1}}, {"type": "string", "minLength": 1}],
    }
    for field in defs["SubjectIn"]["properties"].values():  # a number is taken as its text
        field["anyOf"] = [{"type": "string"}, {"type": "number"}, {"type": "null"}]
    password = defs["PasswordIn"]
    password["properties"]["env"]["anyOf"][0]["pattern"] = ENV_NAME.pattern  # the loader's own
    password["minProperties"] = password["maxProperties"] = 1  # exactly one of env, file, prompt
    keepalive = defs["BridgeIn"]["properties"]["keepalive"]
    keepalive.pop("type")
    text = {"type": "string", "pattern": _any_case(DURATION.pattern)}  # the loader's own pattern
    keepalive["anyOf"] = [{"type": "integer", "minimum": 1, "maximum": 65535}, text]
    schema["title"] = "openssl-recipes recipe (recipes.yaml)"
    schema["description"] = "A CA, servers and clients for one-way and two-way TLS, and how NanoMQ uses them."
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def schema_text() -> str:
    return json.dumps(recipe_json_schema(), indent=2, ensure_ascii=False) + "\n"


def _bound(props: dict[str, Any], name: str, **limits: Any) -> None:
    """Add `limits` to the non-null branch of a property (pydantic writes `X | None` as anyOf)."""
    if name not in props:
        return
    field = props[name]
    branches = field.get("anyOf", [field])
    for branch in branches:
        if branch.get("type") not in (None, "null"):
            branch.update(limits)


def _any_case(pattern: str) -> str:
    """A case-insensitive regular expression without flags (JSON Schema has none): `s` → `[sS]`."""
    out, escaped = [], False
    for char in pattern:
        out.append(f"[{char.lower()}{char.upper()}]" if char.isalpha() and not escaped else char)
        escaped = char == "\\" and not escaped
    return "".join(out)

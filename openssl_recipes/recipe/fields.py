"""What the recipe's models share: the strict base model, a validator's complaint about one part of
its value, and the JSON Schema a field adds beside its validator (so that `schema` says what the loader
checks, from the same constants, never restated elsewhere)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict

JsonDict = dict[str, Any]


class Strict(BaseModel):
    """A misspelt key is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class FieldProblem(ValueError):
    """A validator's complaint about one part of its value: `sub` is the key or index it names."""

    def __init__(self, sub: str | int, message: str) -> None:
        super().__init__(message)
        self.sub = sub


def limits(**bounds: Any) -> Callable[[JsonDict], None]:
    """`json_schema_extra` for a field whose validator bounds its value: the bounds on the branch that
    is not null (pydantic writes `X | None` as anyOf)."""

    def extra(schema: JsonDict) -> None:
        for branch in schema.get("anyOf", [schema]):
            if branch.get("type") not in (None, "null"):
                branch.update(bounds)

    return extra


def accepts(*branches: JsonDict, drop: tuple[str, ...] = ()) -> Callable[[JsonDict], None]:
    """`json_schema_extra` for a field that also takes a shorthand (a `mode="before"` validator): these
    are the forms it accepts; `drop`: the keys pydantic wrote for the canonical form alone."""

    def extra(schema: JsonDict) -> None:
        for key in drop:
            schema.pop(key, None)
        schema["anyOf"] = list(branches)

    return extra


def also_accepts(branch: JsonDict) -> Callable[[JsonDict], None]:
    """`json_schema_extra` for an optional field that also takes a shorthand: one more form, before null."""

    def extra(schema: JsonDict) -> None:
        forms = schema["anyOf"]
        forms.insert(len(forms) - (forms[-1] == {"type": "null"}), branch)

    return extra


def any_case(pattern: str) -> str:
    """A case-insensitive regular expression without flags (JSON Schema has none): `s` → `[sS]`."""
    out, escaped = [], False
    for char in pattern:
        out.append(f"[{char.lower()}{char.upper()}]" if char.isalpha() and not escaped else char)
        escaped = char == "\\" and not escaped
    return "".join(out)

"""A subject as the recipe gives it: its fields in the document's order, RFC 5280's bounds, the rule
for a value that openssl writes exactly as given, and the model that reads it from the recipe."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ConfigDict, Field, field_validator, model_validator

from ..core.text import control_characters
from .fields import FieldProblem, Strict

# The order of the document's prompt: Country, State, Locality, Organization, Unit, Common Name, Email.
SUBJECT_FIELDS: tuple[str, ...] = ("C", "ST", "L", "O", "OU", "CN", "emailAddress")

# Upper bounds from RFC 5280 (ub-*), in characters.
FIELD_MAX_LENGTH: dict[str, int] = {
    "C": 2,
    "ST": 128,
    "L": 128,
    "O": 64,
    "OU": 64,
    "CN": 64,
    "emailAddress": 128,
}


def _numbers_as_text(schema: dict[str, Any]) -> None:
    for field in schema["properties"].values():  # `_text`: a number is taken as its text
        field["anyOf"] = [{"type": "string"}, {"type": "number"}, {"type": "null"}]


class SubjectIn(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_numbers_as_text)

    C: str | None = Field(None, description="Country, two letters (e.g. DE).")
    ST: str | None = Field(None, description="State or province.")
    L: str | None = Field(None, description="Locality (city).")
    O: str | None = Field(None, description="Organization.")  # noqa: E741 - the X.500 attribute's name
    OU: str | None = Field(None, description="Organizational unit.")
    CN: str | None = Field(
        None, description="Common name; a server or client without one takes its entry's name (strict style). Not in defaults."
    )
    emailAddress: str | None = Field(None, description="An e-mail address in the subject.")

    @field_validator("*", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        raise ValueError("must be text")

    @model_validator(mode="after")
    def _values(self) -> SubjectIn:
        for key in SUBJECT_FIELDS:
            value = getattr(self, key)
            if value is not None:
                problem = subject_value_problem(key, value)
                if problem:
                    raise FieldProblem(key, problem)
        return self

    def fields(self) -> dict[str, str]:
        return {k: v for k in SUBJECT_FIELDS if (v := getattr(self, k)) is not None}


def subject_value_problem(key: str, value: str) -> str | None:
    """Why `value` cannot be written exactly into the subject field `key`, or None."""
    if value == "":
        return "is empty (leave the field out instead)"
    if control_characters(value):
        return "contains a control character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode text (lone surrogate)"
    if key == "C" and not re.fullmatch(r"[A-Za-z]{2}", value):
        return f"{value!r} is not a two-letter country code (e.g. CN, DE, US)"
    if len(value) > FIELD_MAX_LENGTH[key]:
        return f"is {len(value)} characters long; {key} takes at most {FIELD_MAX_LENGTH[key]}"
    if key == "emailAddress" and (not value.isascii() or "@" not in value):
        return f"{value!r} is not an ASCII e-mail address"
    if value[0] == "#":
        return "starts with '#', which openssl reads as hex-encoded DER"
    return None

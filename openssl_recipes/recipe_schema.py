"""The recipe file's schema: the `*In` models pydantic validates (field paths, `extra="forbid"`).

They describe the file only; `recipe_rules` turns a valid one into the `Recipe` the package uses.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from .broker_schema import NanoMQIn
from .errors import Loc, Problem
from .recipe import Curve, KeyType, Style
from .sans import san_problem
from .subject import FIELD_MAX_LENGTH, SUBJECT_FIELDS

MAX_FLEET = 100_000
DIGESTS = ("sha256", "sha384", "sha512")
WEAK_DIGESTS = {
    "md5": "MD5 is broken",
    "sha1": "SHA-1 is broken",
    "md4": "MD4 is broken",
    "sha224": "SHA-224 is below what verifiers expect",
}
ENTRY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
FLEET_PATTERN = re.compile(r"\{n(?::(0?)(\d{1,2})d)?\}")


class FieldProblem(ValueError):
    """A validator's complaint about one part of its value: `sub` is the key or index it names."""

    def __init__(self, sub: str | int, message: str) -> None:
        super().__init__(message)
        self.sub = sub


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False, strict=False)


class SubjectIn(_Strict):
    C: str | None = None
    ST: str | None = None
    L: str | None = None
    O: str | None = None  # noqa: E741 - the X.500 attribute's name
    OU: str | None = None
    CN: str | None = None
    emailAddress: str | None = None

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
    if any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in value):
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


class PasswordIn(_Strict):
    env: str | None = None
    file: str | None = None
    prompt: bool = False

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if value == "prompt":
            return {"prompt": True}
        if isinstance(value, str):
            raise ValueError("give the password by reference, never the password itself: {env: VARIABLE}, {file: PATH} or prompt")
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> PasswordIn:
        given = [k for k in ("env", "file") if getattr(self, k) is not None] + (["prompt"] if self.prompt else [])
        if len(given) != 1:
            raise ValueError("give exactly one of env, file or prompt")
        if self.env is not None and not ENV_NAME.match(self.env):
            raise ValueError(f"{self.env!r} is not an environment variable name")
        if self.file is not None and (not self.file or "\0" in self.file):
            raise ValueError("file must be a path")
        return self


class KeyFields(_Strict):
    key_type: KeyType | None = None
    key_size: int | None = None
    curve: Curve | None = None
    digest: str | None = None
    days: int | None = None

    @field_validator("key_size")
    @classmethod
    def _key_size(cls, value: int | None) -> int | None:
        if value is not None and value < 2048:
            raise ValueError(f"RSA keys of {value} bits are refused by current verifiers; use 2048 or more")
        if value is not None and (value > 16384 or value % 8):
            raise ValueError(f"{value} is not a usable RSA key size (2048, 3072, 4096, …)")
        return value

    @field_validator("digest")
    @classmethod
    def _digest(cls, value: str | None) -> str | None:
        if value is None:
            return value
        name = value.lower().replace("-", "")
        if name in WEAK_DIGESTS:
            raise ValueError(f"{value}: {WEAK_DIGESTS[name]}; use sha256, sha384 or sha512")
        if name not in DIGESTS:
            raise ValueError(f"{value!r} is not one of sha256, sha384, sha512")
        return name

    @field_validator("days", "key_size", mode="before")
    @classmethod
    def _not_a_boolean(cls, value: object) -> object:
        if isinstance(value, bool):  # YAML `true` would be taken as 1
            raise ValueError(f"{str(value).lower()} is not a number")
        return value

    @field_validator("days")
    @classmethod
    def _days(cls, value: int | None) -> int | None:
        if value is not None and not 1 <= value <= 36500:
            raise ValueError(f"{value} days: give a number of days from 1 to 36500")
        return value


class DefaultsIn(KeyFields):
    subject: SubjectIn = SubjectIn()
    nanomq: bool = True
    one_step: bool = False  # request and signature in one `openssl req -x509 -CA` (fleets; no .csr file)

    @field_validator("subject")
    @classmethod
    def _no_cn(cls, value: SubjectIn) -> SubjectIn:
        if value.CN is not None:
            raise FieldProblem("CN", "each entry names itself; give CN per entry, not in defaults")
        return value


class CAIn(KeyFields):
    name: str = "ca"
    key_file: str | None = None
    cert_file: str | None = None
    subject: SubjectIn = SubjectIn()
    password: PasswordIn | None = None


class IntermediateIn(CAIn):
    """A CA between the root and the leaves (pathlen:0); it signs every leaf, so the root key can stay offline."""

    name: str = "intermediate"
    csr_file: str | None = None


class LeafIn(KeyFields):
    name: str
    key_file: str | None = None
    csr_file: str | None = None
    cert_file: str | None = None
    chain_file: str | None = None  # leaf + intermediate (only with an intermediate CA)
    subject: SubjectIn = SubjectIn()
    san: list[str] = []
    password: PasswordIn | None = None
    nanomq: bool | None = None
    one_step: bool | None = None
    count: int | None = None

    @field_validator("san", mode="before")
    @classmethod
    def _san_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [value]
        return value

    @field_validator("san")
    @classmethod
    def _san_entries(cls, value: list[str]) -> list[str]:
        for index, entry in enumerate(value):
            problem = None if FLEET_PATTERN.search(entry) else san_problem(entry)  # fleets: checked once filled in
            if problem:
                raise FieldProblem(index, problem)
        return value

    @field_validator("count")
    @classmethod
    def _count(cls, value: int | None) -> int | None:
        if value is not None and not 1 <= value <= MAX_FLEET:
            raise ValueError(f"count must be from 1 to {MAX_FLEET}")
        return value


class RecipeIn(_Strict):
    output: str = "certs"
    style: Style = "strict"
    defaults: DefaultsIn = DefaultsIn()
    ca: CAIn = CAIn()
    intermediate: IntermediateIn | None = None
    bundle_file: str = "ca-bundle.pem"  # intermediate + root (only with an intermediate CA)
    servers: list[LeafIn] = []
    clients: list[LeafIn] = []
    nanomq: NanoMQIn | None = None  # how NanoMQ (and the brokers it talks to) use this PKI

    @field_validator("output")
    @classmethod
    def _output(cls, value: str) -> str:
        if not value or "\0" in value:
            raise ValueError("give a folder")
        return value


ALL_KEYS = sorted(
    {name for model in (RecipeIn, DefaultsIn, IntermediateIn, LeafIn, SubjectIn, PasswordIn) for name in model.model_fields}
)
ALL_KEYS = sorted({*ALL_KEYS, *(name for model in NanoMQIn.all_models() for name in model.model_fields)})


def problems_of(error: ValidationError, prefix: Loc = ()) -> list[Problem]:
    """pydantic's errors as Problems: the field path (under `prefix`), a message for a person, an
    unknown key with the closest known one."""
    problems = []
    for item in error.errors():
        loc = [*prefix, *item["loc"]]
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            key = str(loc[-1])
            close = difflib.get_close_matches(key, ALL_KEYS, n=1)
            message = f"unknown key {key!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
        found = item.get("ctx", {}).get("error")
        if isinstance(found, FieldProblem):
            loc.append(found.sub)
        problems.append(Problem(tuple(loc), message))
    return problems

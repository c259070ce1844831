"""The recipe file's schema: the `*In` models pydantic validates (field paths, `extra="forbid"`).

They describe the file only; `rules` turns a valid one into the `Recipe` the package uses.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from pydantic import ConfigDict, Field, ValidationError, field_validator, model_validator

from ..core.errors import Loc, Problem
from ..core.keys import DIGESTS, MAX_DAYS, MIN_DAYS, RSA_BITS_STEP, RSA_MAX_BITS, RSA_MIN_BITS, key_size_problem
from ..core.names import DEFAULT_CA_NAME, DEFAULT_INTERMEDIATE_NAME, DEFAULT_OUTPUT
from ..core.numbering import FLEET_PATTERN, MAX_FLEET
from .broker import NanoMQIn
from .entries import Curve, KeyType, Style
from .fields import FieldProblem, Strict, accepts, also_accepts, any_case, limits
from .sans import san_problem
from .subject import SubjectIn

MAX_CERTIFICATES = MAX_FLEET + 1_000  # a full fleet and the servers and clients beside it
DIGEST_PATTERN = any_case(f"^sha-?({'|'.join(d.removeprefix('sha') for d in DIGESTS)})$")  # what `_digest` reads
WEAK_DIGESTS = {
    "md5": "MD5 is broken",
    "sha1": "SHA-1 is broken",
    "md4": "MD4 is broken",
    "sha224": "SHA-224 is below what verifiers expect",
}
ENTRY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# `PasswordIn._shorthand`: the word `prompt` stands for {prompt: true}
PASSWORD_FORMS = also_accepts({"const": "prompt"})


class PasswordIn(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1, "maxProperties": 1})  # exactly one

    env: str | None = Field(
        None, description="The environment variable holding the password.", json_schema_extra=limits(pattern=ENV_NAME.pattern)
    )
    file: str | None = Field(None, description="A file whose first line is the password (relative to the recipe).")
    prompt: bool = Field(False, description="Ask on the terminal.")

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


class KeyFields(Strict):
    key_type: KeyType | None = Field(None, description="rsa (default), ec or ed25519.")
    key_size: int | None = Field(
        None,
        description="RSA key size in bits: 2048 (default) to 16384.",
        json_schema_extra=limits(minimum=RSA_MIN_BITS, maximum=RSA_MAX_BITS, multipleOf=RSA_BITS_STEP),
    )
    curve: Curve | None = Field(None, description="EC curve: P-256 (default), P-384 or P-521.")
    digest: str | None = Field(
        None,
        description="Signature digest: sha256 (default), sha384 or sha512.",
        json_schema_extra=limits(pattern=DIGEST_PATTERN),
    )
    days: int | None = Field(
        None,
        description="Validity in days, 1 to 36500 (default 3650).",
        json_schema_extra=limits(minimum=MIN_DAYS, maximum=MAX_DAYS),
    )

    @field_validator("key_size")
    @classmethod
    def _key_size(cls, value: int | None) -> int | None:
        if value is not None and (problem := key_size_problem(value)):
            raise ValueError(problem)
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

    @field_validator("days", "key_size", "count", mode="before", check_fields=False)  # (count: entries only)
    @classmethod
    def _not_a_boolean(cls, value: object) -> object:
        if isinstance(value, bool):  # YAML `true` would be taken as 1
            raise ValueError(f"{str(value).lower()} is not a number")
        return value

    @field_validator("days")
    @classmethod
    def _days(cls, value: int | None) -> int | None:
        if value is not None and not MIN_DAYS <= value <= MAX_DAYS:
            raise ValueError(f"{value} days: give a number of days from {MIN_DAYS} to {MAX_DAYS}")
        return value


class DefaultsIn(KeyFields):
    subject: SubjectIn = Field(SubjectIn(), description="Subject fields every entry starts from (no CN).")
    nanomq: bool = Field(
        True, description="Make keys and SANs NanoMQ (mbedTLS 2.28) can use: PKCS#1/3DES encrypted keys, DNS twins of IP SANs."
    )
    one_step: bool | None = Field(
        None,
        description=(
            "Make each leaf's key and certificate with one `openssl req -newkey … -x509 -CA` (strict style,"
            " OpenSSL 3, unencrypted keys; no .csr). Unsaid: on for fleets (count:) where allowed, off otherwise."
        ),
    )

    @field_validator("subject")
    @classmethod
    def _no_cn(cls, value: SubjectIn) -> SubjectIn:
        if value.CN is not None:
            raise FieldProblem("CN", "each entry names itself; give CN per entry, not in defaults")
        return value


class TokenKeyIn(Strict):
    """A CA key in a PKCS#11 token (an HSM, a smart card, SoftHSM2): openssl signs through its pkcs11
    engine and the key never leaves the token (`recipe.token`)."""

    pkcs11: str = Field(
        description="The key's PKCS#11 URI: pkcs11:token=LABEL;object=LABEL (no type, no PIN: the PIN is the entry's password).",
        json_schema_extra=limits(pattern="^pkcs11:"),
    )
    module: str | None = Field(
        None,
        description="The PKCS#11 module (.so) openssl's engine and pkcs11-tool load "
        "(default: $PKCS11_MODULE_PATH, else p11-kit's proxy, else SoftHSM2's).",
    )


class CAIn(KeyFields):
    name: str = Field(DEFAULT_CA_NAME, description="The CA's name: its default file names (NAME.key, NAME.pem).")
    key_file: str | None = Field(None, description="The CA's private key file (default NAME.key).")
    key: TokenKeyIn | None = Field(
        None, description="The CA key in a PKCS#11 token instead of a file: {pkcs11: 'pkcs11:token=ca;object=root'}."
    )
    cert_file: str | None = Field(None, description="The CA's certificate file (default NAME.pem).")
    subject: SubjectIn = Field(SubjectIn(), description="The CA's subject (CN required in the strict style).")
    password: PasswordIn | None = Field(
        None,
        description="Encrypt the CA key (with key: pkcs11, the token's PIN): {env: VAR}, {file: PATH} or prompt; never the password itself.",
        json_schema_extra=PASSWORD_FORMS,
    )


class IntermediateIn(CAIn):
    """A CA between the root and the leaves (pathlen:0); it signs every leaf, so the root key can stay offline."""

    name: str = Field(DEFAULT_INTERMEDIATE_NAME, description="The intermediate CA's name.")
    csr_file: str | None = Field(None, description="The intermediate's request to the root (default NAME.csr).")


class LeafIn(KeyFields):
    name: str = Field(description="The entry's name (with count: holds {n} or {n:04d}).")
    key_file: str | None = Field(None, description="Private key file (default NAME.key).")
    csr_file: str | None = Field(None, description="Certificate request file (default NAME.csr).")
    cert_file: str | None = Field(None, description="Certificate file (default NAME.pem).")
    chain_file: str | None = Field(
        None, description="Leaf + intermediate, written with an intermediate CA (default NAME-chain.pem)."
    )  # leaf + intermediate (only with an intermediate CA)
    subject: SubjectIn = Field(SubjectIn(), description="Subject fields over the defaults' (CN: the entry's own name).")
    san: list[str] = Field(
        [],
        description="Subject alternative names: DNS names and IP addresses clients use (DNS:, IP:, email:, URI: prefixes allowed).",
        json_schema_extra=accepts(  # `_san_list`: one name alone is a list of one
            {"type": "array", "items": {"type": "string", "minLength": 1}},
            {"type": "string", "minLength": 1},
            drop=("type", "items"),
        ),
    )
    password: PasswordIn | None = Field(
        None,
        description="Encrypt the key: {env: VAR}, {file: PATH} or prompt; never the password itself.",
        json_schema_extra=PASSWORD_FORMS,
    )
    nanomq: bool | None = Field(None, description="Override defaults.nanomq for this entry.")
    one_step: bool | None = Field(None, description="Override defaults.one_step for this entry.")
    csr: str | None = Field(
        None, description="A request made on the device (PEM, relative to the recipe): its key stays there; build signs it."
    )
    count: int | None = Field(
        None,
        description="Make a fleet of this many entries (1 to 100000), numbered in name, files, subject and SANs.",
        json_schema_extra=limits(minimum=1, maximum=MAX_FLEET),
    )

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


class RecipeIn(Strict):
    output: str = Field(DEFAULT_OUTPUT, description="The output folder, relative to the recipe (created 0700).")
    style: Style = Field(
        "strict", description="strict (default): extension file, passes strict verifiers; document: the seed document's commands."
    )
    defaults: DefaultsIn = Field(DefaultsIn(), description="Values every CA and entry starts from.")
    ca: CAIn = Field(CAIn(), description="The root CA.")
    intermediate: IntermediateIn | None = Field(
        None, description="An intermediate CA that signs every leaf (the root key can then stay offline)."
    )
    trust_file: str = Field(
        "ca-trust.pem",
        description="What peers trust, apart from the CA that signs: the root (with an intermediate: intermediate + root; "
        "during a CA rotation the old and the new). The brokers' configurations name it.",
    )
    bundle_file: str | None = Field(
        None, description="The trust file's earlier name (intermediate + root): give trust_file instead."
    )  # read as trust_file, with a warning
    servers: list[LeafIn] = Field([], description="Server certificates (serverAuth).")
    clients: list[LeafIn] = Field([], description="Client certificates (clientAuth).")
    nanomq: NanoMQIn | None = Field(
        None, description="How NanoMQ (and the brokers it talks to) use this PKI: `conf` renders it."
    )  # how NanoMQ (and the brokers it talks to) use this PKI

    @field_validator("output")
    @classmethod
    def _output(cls, value: str) -> str:
        if not value or "\0" in value:
            raise ValueError("give a folder")
        return value


ALL_KEYS = sorted(
    {
        name
        for model in (RecipeIn, DefaultsIn, IntermediateIn, LeafIn, SubjectIn, PasswordIn, TokenKeyIn)
        for name in model.model_fields
    }
)
ALL_KEYS = sorted({*ALL_KEYS, *(name for model in NanoMQIn.all_models() for name in model.model_fields)})


def problems_of(error: ValidationError, prefix: Loc = ()) -> list[Problem]:
    """pydantic's errors as Problems: the field path (under `prefix`), a message for a person, an
    unknown key with the closest known one."""
    problems = []
    suggested = 0  # "did you mean" costs ~0.3 ms a key: for the first hundred (a file may hold 100 000)
    for item in error.errors():
        loc = [*prefix, *item["loc"]]
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            key = str(loc[-1])
            suggested += 1
            close = difflib.get_close_matches(key[:64], ALL_KEYS, n=1) if suggested <= 100 else []
            message = f"unknown key {key!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
        found = item.get("ctx", {}).get("error")
        if isinstance(found, FieldProblem):
            loc.append(found.sub)
        problems.append(Problem(tuple(loc), message))
    return problems

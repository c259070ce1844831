"""recipes.yaml → a validated `Recipe`.

Loading is three steps, each with errors that say where: YAML (line and column), the pydantic
schema (field path, `extra="forbid"`), then the checks that span entries (files written twice, a
leaf that outlives its CA). The models at the bottom are what the rest of the package uses; the
`*In` models only describe the file.
"""

from __future__ import annotations

import difflib
import hashlib
import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from .broker_schema import NanoMQIn, cross_check
from .errors import RecipeError
from .subject import FIELD_MAX_LENGTH, SUBJECT_FIELDS

MAX_RECIPE_BYTES = 8 * 1024 * 1024
MAX_FLEET = 100_000
CONFIG_FILE_NAME = "openssl-recipes.cnf"  # the extension file the strict style writes
RESERVED_PREFIX = ".openssl-recipes"  # lock file and other private files

KeyType = Literal["rsa", "ec", "ed25519"]
Curve = Literal["P-256", "P-384", "P-521"]
Style = Literal["strict", "document"]
Role = Literal["server", "client"]

DIGESTS = ("sha256", "sha384", "sha512")
WEAK_DIGESTS = {
    "md5": "MD5 is broken",
    "sha1": "SHA-1 is broken",
    "md4": "MD4 is broken",
    "sha224": "SHA-224 is below what verifiers expect",
}
FILE_NAME = re.compile(r"^[A-Za-z0-9_@+][A-Za-z0-9._@+-]*$")  # no leading "-": openssl and the shell would read an option
ENTRY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
MAX_FILE_NAME = 200
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
FLEET_PATTERN = re.compile(r"\{n(?::(0?)(\d{1,2})d)?\}")
DNS_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
LOOKS_LIKE_IPV4 = re.compile(r"^[0-9.]+$")


class FieldProblem(ValueError):
    """A validator's complaint about one part of its value: `sub` is the key or index it names."""

    def __init__(self, sub: str | int, message: str) -> None:
        super().__init__(message)
        self.sub = sub


# ---------------------------------------------------------------------------------------------
# The file's schema
# ---------------------------------------------------------------------------------------------


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


class _KeyFields(_Strict):
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


class DefaultsIn(_KeyFields):
    subject: SubjectIn = SubjectIn()
    nanomq: bool = True
    one_step: bool = False  # request and signature in one `openssl req -x509 -CA` (fleets; no .csr file)

    @field_validator("subject")
    @classmethod
    def _no_cn(cls, value: SubjectIn) -> SubjectIn:
        if value.CN is not None:
            raise FieldProblem("CN", "each entry names itself; give CN per entry, not in defaults")
        return value


class CAIn(_KeyFields):
    name: str = "ca"
    key_file: str | None = None
    cert_file: str | None = None
    subject: SubjectIn = SubjectIn()
    password: PasswordIn | None = None


class IntermediateIn(CAIn):
    """A CA between the root and the leaves (pathlen:0); it signs every leaf, so the root key can stay offline."""

    name: str = "intermediate"
    csr_file: str | None = None


class LeafIn(_KeyFields):
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


_ALL_KEYS = sorted(
    {name for model in (RecipeIn, DefaultsIn, IntermediateIn, LeafIn, SubjectIn, PasswordIn) for name in model.model_fields}
)
_ALL_KEYS = sorted({*_ALL_KEYS, *(name for model in NanoMQIn.all_models() for name in model.model_fields)})


# ---------------------------------------------------------------------------------------------
# What the rest of the package uses
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeySpec:
    type: KeyType = "rsa"
    size: int = 2048  # RSA only
    curve: Curve = "P-256"  # EC only

    def describe(self) -> str:
        return {"rsa": f"RSA {self.size}", "ec": f"EC {self.curve}", "ed25519": "Ed25519"}[self.type]


@dataclass(frozen=True)
class Secret:
    """A password by reference. `env_name` is the variable openssl reads (`env:NAME`)."""

    source: Literal["env", "file", "prompt"]
    where: str  # the variable, the file's absolute path, or the entry's name for a prompt
    env_name: str

    def describe(self) -> str:
        return {"env": f"environment variable {self.where}", "file": f"file {self.where}", "prompt": "prompt"}[self.source]


@dataclass(frozen=True)
class San:
    kind: Literal["DNS", "IP", "email", "URI"]
    value: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


@dataclass(frozen=True)
class CertificateAuthority:
    name: str
    key_file: str
    cert_file: str
    subject: dict[str, str]
    days: int
    key: KeySpec
    digest: str
    password: Secret | None
    csr_file: str | None = None  # an intermediate's request to the root; None for the root


@dataclass(frozen=True)
class Leaf:
    role: Role
    name: str
    key_file: str
    csr_file: str
    cert_file: str
    subject: dict[str, str]
    sans: tuple[San, ...]
    days: int
    key: KeySpec
    digest: str
    password: Secret | None
    nanomq: bool
    path: str  # where it is in the recipe, e.g. "clients[2]"
    chain_file: str | None = None  # leaf + intermediate, written when the recipe has an intermediate CA
    one_step: bool = False  # strict style on OpenSSL 3: `req -x509 -CA` signs without a separate request


@dataclass(frozen=True)
class Recipe:
    path: Path
    output_dir: Path
    style: Style
    ca: CertificateAuthority
    servers: tuple[Leaf, ...]
    clients: tuple[Leaf, ...]
    warnings: tuple[str, ...] = field(default=())
    nanomq: NanoMQIn | None = None  # validated in broker_schema; used by `conf`
    intermediate: CertificateAuthority | None = None
    bundle_file: str | None = None  # intermediate + root, written when there is an intermediate

    @property
    def issuer(self) -> CertificateAuthority:
        """The CA that signs the servers and clients."""
        return self.intermediate or self.ca

    @property
    def authorities(self) -> tuple[CertificateAuthority, ...]:
        return (self.ca, self.intermediate) if self.intermediate else (self.ca,)

    @property
    def leaves(self) -> tuple[Leaf, ...]:
        return self.servers + self.clients

    def leaf(self, name: str) -> Leaf:
        for leaf in self.leaves:
            if leaf.name == name:
                return leaf
        raise RecipeError(
            f"the recipe has no server or client named {name!r}", [f"names: {', '.join(leaf.name for leaf in self.leaves)}"]
        )

    def secrets(self) -> list[Secret]:
        found = [e.password for e in (*self.authorities, *self.leaves) if e.password]
        return list(dict.fromkeys(found))


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


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
    return _resolve(raw, path, base, output_dir, locate)


def _describe(error: Any, locate: Any) -> str:
    loc = list(error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        key = str(loc[-1])
        close = difflib.get_close_matches(key, _ALL_KEYS, n=1)
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


def san_problem(entry: str) -> str | None:
    try:
        parse_san(entry)
    except ValueError as exc:
        return str(exc)
    return None


def parse_san(entry: str) -> San:
    """`localhost`, `127.0.0.1`, `::1`, or with a prefix: `DNS:x`, `IP:x`, `email:x`, `URI:x`."""
    if not isinstance(entry, str) or not entry:
        raise ValueError("a SAN must be a non-empty name or address")
    prefix, sep, rest = entry.partition(":")
    if sep and prefix in ("DNS", "IP", "email", "URI"):
        kind, value = prefix, rest
    else:
        kind, value = ("IP" if _is_ip(entry) or LOOKS_LIKE_IPV4.match(entry) else "DNS"), entry
    if kind == "IP":
        if "%" in value:  # Python reads fe80::1%eth0; openssl's IP: SAN does not, mid-build
            raise ValueError(f"{value!r}: a scoped IPv6 address (with %zone) cannot go into a certificate; drop the zone")
        if not _is_ip(value):
            raise ValueError(f"{value!r} is not an IP address")
        return San("IP", str(ipaddress.ip_address(value)))
    if kind == "DNS":
        if not _is_dns_name(value):
            raise ValueError(f"{value!r} is not a DNS name (letters, digits, '-', dots; '*.' only leftmost)")
        return San("DNS", value.lower())
    if kind == "email":
        if not re.fullmatch(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+", value):
            raise ValueError(f"{value!r} is not an e-mail address")
        return San("email", value)
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9._~:/?@!&()*+;=%\[\]-]+", value):
        raise ValueError(f"{value!r} is not a URI")
    return San("URI", value)


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _is_dns_name(value: str) -> bool:
    if not value.isascii() or len(value) > 253:
        return False
    labels = value.rstrip(".").split(".")
    if labels[0] == "*" and len(labels) > 1:
        labels = labels[1:]
    return all(DNS_LABEL.match(label) for label in labels)


def _is_host_name(value: str) -> bool:
    return _is_dns_name(value) and "*" not in value


def _resolve(raw: RecipeIn, path: Path, base: Path, output_dir: Path, locate: Any) -> Recipe:
    errors: list[str] = []
    warnings: list[str] = []
    d = raw.defaults

    def key_of(entry: _KeyFields) -> KeySpec:
        return KeySpec(
            type=entry.key_type or d.key_type or "rsa",
            size=entry.key_size or d.key_size or 2048,
            curve=entry.curve or d.curve or "P-256",
        )

    def secret_of(entry: PasswordIn | None, label: str) -> Secret | None:
        if entry is None:
            return None
        # one variable per entry: the readable part alone collides ('a-1' and 'a_1', 'CA' and 'ca')
        digest = hashlib.sha256(label.encode("utf-8")).hexdigest()[:8].upper()
        variable = "OPENSSL_RECIPES_PASSWORD_" + re.sub(r"[^A-Za-z0-9]", "_", label).upper() + "_" + digest
        if entry.env is not None:
            return Secret("env", entry.env, entry.env)
        if entry.file is not None:
            file_path = Path(entry.file).expanduser()
            return Secret("file", str(file_path if file_path.is_absolute() else (base / file_path)), variable)
        return Secret("prompt", label, variable)

    def subject_of(entry_subject: SubjectIn) -> dict[str, str]:
        merged = {**d.subject.fields(), **entry_subject.fields()}
        return {k: merged[k] for k in SUBJECT_FIELDS if k in merged}

    def check_file(name: str, where: str) -> None:
        problem = file_name_problem(name)
        if problem:
            errors.append(f"{where}: {problem}")

    def authority_of(entry: CAIn, where: str) -> CertificateAuthority:
        """The root CA (`ca`) or the intermediate, with the defaults filled in."""
        if not ENTRY_NAME.match(entry.name):
            errors.append(f"{where}.name: {entry.name!r} must be letters, digits, '.', '_' or '-'")
        csr_file = getattr(entry, "csr_file", None) or f"{entry.name}.csr"
        return CertificateAuthority(
            name=entry.name,
            key_file=entry.key_file or f"{entry.name}.key",
            cert_file=entry.cert_file or f"{entry.name}.pem",
            csr_file=csr_file if isinstance(entry, IntermediateIn) else None,
            subject=subject_of(entry.subject),
            days=entry.days or d.days or 3650,
            key=key_of(entry),
            digest=entry.digest or d.digest or "sha256",
            password=secret_of(entry.password, entry.name),
        )

    ca = authority_of(raw.ca, "ca")
    check_file(ca.key_file, "ca.key_file")
    check_file(ca.cert_file, "ca.cert_file")
    if raw.style == "strict" and not ca.subject:
        errors.append("ca.subject: give at least a CN (the strict style does not prompt)")
    intermediate = None
    if raw.intermediate is not None:
        intermediate = authority_of(raw.intermediate, "intermediate")
        if raw.style != "strict":
            errors.append(
                "intermediate: an intermediate CA needs style: strict (the document's commands give it no CA extensions)"
            )
        if not intermediate.subject:
            errors.append("intermediate.subject: give at least a CN")
        if intermediate.days > ca.days:
            warnings.append(f"intermediate: valid for {intermediate.days} days, longer than its root CA ({ca.days} days)")
    issuer = intermediate or ca

    leaves: dict[Role, list[Leaf]] = {"server": [], "client": []}
    declared = sum(entry.count or 1 for entry in (*raw.servers, *raw.clients))
    if declared > MAX_FLEET:  # before anything is expanded: memory and time stay bounded
        errors.append(
            f"clients: the recipe declares {declared} certificates (counting each fleet's count); "
            f"at most {MAX_FLEET} in one recipe: split it into several recipes"
        )
        raise RecipeError(f"{path}: the recipe is not valid", [_with_line(e, locate) for e in errors])
    for role, entries in (("server", raw.servers), ("client", raw.clients)):
        for index, entry in enumerate(entries):
            where = f"{role}s[{index}]"
            if raw.style == "document" and entry.san:
                warnings.append(
                    f"{where}.san: the document style's commands carry no extensions, so these names are not in "
                    "the certificate (verify's names and the handshake will fail on them): use style: strict"
                )
            for member in _expand_fleet(entry, where, errors):
                leaf = _leaf(role, member, where, issuer, raw, key_of, secret_of, subject_of, errors)
                if leaf is not None:
                    leaves[role].append(leaf)
                    if leaf.key.type == "ed25519" and leaf.nanomq:
                        warnings.append(
                            f"{where} ({leaf.name}): an Ed25519 key — NanoMQ (mbedTLS 2.28) and some clients "
                            "cannot use it; set nanomq: false if no NanoMQ uses this entry"
                        )
                    if leaf.days > issuer.days:
                        warnings.append(
                            f"{where} ({leaf.name}): valid for {leaf.days} days, longer than its CA ({issuer.days} days)"
                        )

    all_leaves = leaves["server"] + leaves["client"]
    owners: dict[str, str] = {}
    reserved = {
        CONFIG_FILE_NAME: "the extension file",
        **{name: "the revocation commands (revoke, crl)" for name in LIFECYCLE_FILES},
    }
    if raw.style == "document":
        reserved[f"{Path(ca.cert_file).stem}.srl"] = "the CA's serial file (document style)"
    owners.update(reserved)
    names: dict[str, str] = {ca.name: "ca"}
    declared = [("ca", (("key_file", ca.key_file), ("cert_file", ca.cert_file)))]
    if intermediate:
        if intermediate.name in names:
            errors.append(f"intermediate.name: {intermediate.name!r} is also the name of the root CA")
        names[intermediate.name] = "intermediate"
        declared.append(
            (
                "intermediate",
                (("key_file", intermediate.key_file), ("csr_file", intermediate.csr_file), ("cert_file", intermediate.cert_file)),
            )
        )
        declared.append(("bundle_file", (("", raw.bundle_file),)))
    declared += [
        (
            leaf.path,
            (
                ("key_file", leaf.key_file),
                ("csr_file", leaf.csr_file),
                ("cert_file", leaf.cert_file),
                *((("chain_file", leaf.chain_file),) if leaf.chain_file else ()),
            ),
        )
        for leaf in all_leaves
    ]
    for where, files in declared:
        for attr, name in files:
            label = f"{where}.{attr}" if attr else where
            problem = file_name_problem(name)
            if problem and where in ("intermediate", "bundle_file"):
                errors.append(f"{label}: {problem}")
            elif name in owners:
                errors.append(f"{label}: {name!r} is also written by {owners[name]}")
            else:
                owners[name] = label
    for leaf in all_leaves:  # what `export NAME` writes belongs to that entry too
        for exported in export_files(leaf.name):
            if exported in owners:
                errors.append(f"{owners[exported]}: {exported!r} is also written by `export {leaf.name}`")
            owners[exported] = f"`export {leaf.name}`"
    for leaf in all_leaves:
        if leaf.name in names:
            errors.append(f"{leaf.path}.name: {leaf.name!r} is also the name of {names[leaf.name]}")
        else:
            names[leaf.name] = leaf.path

    errors += cross_check(raw.nanomq, [leaf.name for leaf in leaves["server"]], [leaf.name for leaf in leaves["client"]])
    if errors:
        raise RecipeError(f"{path}: the recipe is not valid", [_with_line(e, locate) for e in errors])
    return Recipe(
        path=path,
        output_dir=output_dir,
        style=raw.style,
        ca=ca,
        servers=tuple(leaves["server"]),
        clients=tuple(leaves["client"]),
        warnings=tuple(warnings),
        nanomq=raw.nanomq,
        intermediate=intermediate,
        bundle_file=raw.bundle_file if intermediate else None,
    )


def _with_line(message: str, locate: Any) -> str:
    where = message.split(":", 1)[0].split(" ", 1)[0]
    loc: list[Any] = []
    for part in re.findall(r"[A-Za-z_]\w*|\[\d+\]", where):
        loc.append(int(part[1:-1]) if part.startswith("[") else part)
    line = locate(loc) if loc else None
    return message + (f" (line {line})" if line else "")


def _expand_fleet(entry: LeafIn, where: str, errors: list[str]) -> list[LeafIn]:
    if entry.count is None:
        return [entry]
    if not FLEET_PATTERN.search(entry.name):
        errors.append(f"{where}.name: with count, the name must hold the number, e.g. 'device-{{n:04d}}'")
        return []

    def fill(text: str, n: int) -> str:
        return FLEET_PATTERN.sub(lambda m: f"{n:0{m.group(2)}d}" if m.group(2) else str(n), text)

    members = []
    for n in range(1, entry.count + 1):
        data = entry.model_dump(exclude_none=True, exclude={"count"})
        data["name"] = fill(entry.name, n)
        for attr in ("key_file", "csr_file", "cert_file", "chain_file"):
            if attr in data:
                data[attr] = fill(data[attr], n)
        data["san"] = [fill(s, n) for s in entry.san]
        data["subject"] = {k: fill(v, n) for k, v in entry.subject.fields().items()}
        # model_copy keeps nested models (the password reference) as models; model_dump made them dicts
        members.append(
            entry.model_copy(
                update={
                    **data,
                    "password": entry.password,
                    "subject": SubjectIn.model_construct(**data["subject"]),
                    "count": None,
                }
            )
        )
    return members


def _leaf(
    role: Role,
    entry: LeafIn,
    where: str,
    ca: CertificateAuthority,
    raw: RecipeIn,
    key_of: Any,
    secret_of: Any,
    subject_of: Any,
    errors: list[str],
) -> Leaf | None:
    before = len(errors)
    if not ENTRY_NAME.match(entry.name):
        errors.append(f"{where}.name: {entry.name!r} must be letters, digits, '.', '_' or '-'")
    subject = subject_of(entry.subject)
    for key, value in subject.items():
        problem = subject_value_problem(key, value)
        if problem:
            errors.append(f"{where}.subject.{key}: {problem}")
    sans: list[San] = []
    for index, text in enumerate(entry.san):
        try:
            sans.append(parse_san(text))
        except ValueError as exc:
            errors.append(f"{where}.san[{index}]: {exc}")
    nanomq = raw.defaults.nanomq if entry.nanomq is None else entry.nanomq
    if role == "server" and not sans and raw.style == "strict":
        cn = subject.get("CN")
        if cn and _is_ip(cn):
            sans.append(San("IP", cn))
        elif cn and _is_host_name(cn):
            sans.append(San("DNS", cn.lower()))
        else:
            errors.append(
                f"{where}.san: no SANs given and CN {cn!r} is not a host name; list the names "
                "and addresses clients connect to, e.g. san: [broker.local, 192.0.2.10]"
            )
    if role == "server" and nanomq and raw.style == "strict":
        # mbedTLS 2.x (NanoMQ) never matches IP SANs: give each IPv4 address a DNS twin.
        present = {str(s) for s in sans}
        for san in list(sans):
            if san.kind == "IP" and ":" not in san.value and f"DNS:{san.value}" not in present:
                sans.append(San("DNS", san.value))
    if raw.style == "strict" and not subject:
        errors.append(f"{where}.subject: give at least a CN (the strict style does not prompt)")
    if len(errors) > before:
        return None
    name = entry.name
    leaf = Leaf(
        role=role,
        name=name,
        key_file=entry.key_file or f"{name}.key",
        csr_file=entry.csr_file or f"{name}.csr",
        cert_file=entry.cert_file or f"{name}.pem",
        subject=subject,
        sans=tuple(dict.fromkeys(sans)),
        days=entry.days or raw.defaults.days or 3650,
        key=key_of(entry),
        digest=entry.digest or raw.defaults.digest or "sha256",
        password=secret_of(entry.password, name),
        nanomq=nanomq,
        path=where,
        chain_file=(entry.chain_file or f"{name}-chain.pem") if raw.intermediate is not None else None,
        one_step=raw.defaults.one_step if entry.one_step is None else entry.one_step,
    )
    if leaf.one_step and (leaf.password or ca.password):
        errors.append(
            f"{where}.one_step: needs unencrypted keys (one openssl req cannot take two passwords); "
            "leave one_step off for this entry"
        )
    if leaf.one_step and raw.style != "strict":
        errors.append(f"{where}.one_step: not in the document style (the document makes a request, then signs it)")
    problems = [
        f"{where}.{attr}: {p}"
        for attr in ("key_file", "csr_file", "cert_file", "chain_file")
        if getattr(leaf, attr) is not None and (p := file_name_problem(getattr(leaf, attr)))
    ]
    errors.extend(problems)
    return None if problems else leaf


# Files the lifecycle commands write in the output folder: no recipe entry may be named like them.
CA_CONFIG = "openssl-recipes-ca.cnf"
CA_DATABASE = "index.txt"
CRL_NUMBER = "crlnumber"
CRL_FILE = "crl.pem"
LIFECYCLE_FILES = (
    CA_CONFIG,
    CRL_FILE,
    CA_DATABASE,
    f"{CA_DATABASE}.attr",
    f"{CA_DATABASE}.old",
    f"{CA_DATABASE}.attr.old",
    CRL_NUMBER,
    f"{CRL_NUMBER}.old",
)


def export_files(name: str) -> tuple[str, str]:
    """What `export NAME` writes: the PKCS#12 file and the full chain."""
    return f"{name}.p12", f"{name}-fullchain.pem"


def file_name_problem(name: str) -> str | None:
    """Why `name` may not be written in the output folder, or None."""
    if not FILE_NAME.match(name) or name in (".", ".."):
        return f"{name!r} must be a plain file name inside the output folder (no '/', no '..', no absolute path, no leading '-')"
    if name.startswith(RESERVED_PREFIX) or name == CONFIG_FILE_NAME:
        return f"{name!r} is reserved for the tool's own files"
    if len(name) > MAX_FILE_NAME:  # file systems stop at 255 bytes; the temporary name adds a prefix
        return f"{name[:20]!r}… is {len(name)} characters long; file names here stop at {MAX_FILE_NAME}"
    return None

"""The recipe as the rest of the package reads it: the CA, the intermediate, the servers and clients,
resolved (defaults filled in, SANs parsed, one password variable per secret). `recipe_loading` makes
one from a file; `recipe_schema` describes the file; `recipe_rules` checks a whole recipe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from .errors import RecipeError

if TYPE_CHECKING:
    from .broker_schema import NanoMQIn
    from .fleet import Leaves

KeyType = Literal["rsa", "ec", "ed25519"]
Curve = Literal["P-256", "P-384", "P-521"]
Style = Literal["strict", "document"]
Role = Literal["server", "client"]


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
    device_key: bool = False  # the key stays on the device: csr_file is its request (an absolute path), only signed here


@dataclass(frozen=True)
class Recipe:
    path: Path
    output_dir: Path
    style: Style
    ca: CertificateAuthority
    servers: tuple[Leaf, ...] | Leaves  # Leaves: a fleet kept whole, its members made when read
    clients: tuple[Leaf, ...] | Leaves
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
    def leaves(self) -> tuple[Leaf, ...] | Leaves:
        return self.servers + self.clients

    def leaf(self, name: str) -> Leaf:
        from .fleet import find_leaf, outline

        if (leaf := find_leaf(self.leaves, name)) is not None:
            return leaf
        raise RecipeError(f"the recipe has no server or client named {name!r}", [f"names: {', '.join(outline(self.leaves))}"])

    def secrets(self) -> list[Secret]:
        from .fleet import Fleet, parts_of

        # a fleet's members share its template's password: one look per fleet, not per member
        leaves = [part.template if isinstance(part, Fleet) else part for part in parts_of(self.leaves)]
        found = [e.password for e in (*self.authorities, *leaves) if e.password]
        return list(dict.fromkeys(found))

    def secret_names(self) -> set[str]:
        """Every variable a password of this recipe is read from: no openssl child sees one unless its
        own command reads it."""
        return {secret.env_name for secret in self.secrets()}

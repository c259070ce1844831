"""The entries of a recipe as the rest of the package reads them: the CAs, the servers and clients,
resolved (defaults filled in, SANs parsed, one password variable per secret). `rules` makes
them from a schema-valid file; `model.Recipe` holds them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..core.x509 import Curve, KeySpec, KeyType, San  # noqa: F401 - the entries' vocabulary

Style = Literal["strict", "document"]
Role = Literal["server", "client"]


@dataclass(frozen=True)
class Secret:
    """A password by reference. `env_name` is the variable openssl reads (`env:NAME`)."""

    source: Literal["env", "file", "prompt"]
    where: str  # the variable, the file's absolute path, or the entry's name for a prompt
    env_name: str

    def describe(self) -> str:
        return {"env": f"environment variable {self.where}", "file": f"file {self.where}", "prompt": "prompt"}[self.source]


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
    database_dir: str = "ca-database"  # where `openssl ca` keeps what it revoked (core.names.CA_DIR; a new CA's in rotation/)

    @property
    def files(self) -> tuple[str, ...]:
        """Its certificate, key and (an intermediate's) request."""
        return tuple(name for name in (self.cert_file, self.key_file, self.csr_file) if name)


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

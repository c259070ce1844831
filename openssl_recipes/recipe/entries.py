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
class TokenKey:
    """A CA key in a PKCS#11 token (`recipe.token`): openssl signs with it through its pkcs11 engine,
    pkcs11-tool makes it in the token; it is never exported."""

    uri: str  # pkcs11:token=…;object=… as the recipe gives it (no type, no PIN)
    token: str  # the token's label, decoded (pkcs11-tool --token-label)
    label: str  # the key object's label, decoded (pkcs11-tool --label)
    module: str  # the PKCS#11 module both load: openssl's engine reads it from PKCS11_MODULE_PATH

    @property
    def private(self) -> str:
        return f"{self.uri};type=private"

    @property
    def public(self) -> str:
        return f"{self.uri};type=public"


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
    token: TokenKey | None = None  # the key is in a PKCS#11 token; key_file is then its private key's URI, not a file

    @property
    def files(self) -> tuple[str, ...]:
        """Its certificate, key (unless in a token) and (an intermediate's) request."""
        return tuple(name for name in (self.cert_file, *self.key_files, self.csr_file) if name)

    @property
    def key_files(self) -> tuple[str, ...]:
        """Its key file, when the key is one (a token's is not)."""
        return () if self.token else (self.key_file,)


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

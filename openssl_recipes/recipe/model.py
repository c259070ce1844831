"""The recipe as the rest of the package reads it: the CA, the intermediate, the servers and clients
(`entries`), a fleet kept whole (`fleet`). `load` makes one from a file; `schema` describes the
file; `rules` checks a whole recipe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.errors import RecipeError
from .entries import CertificateAuthority, Leaf, Secret, Style
from .fleet import Leaves, find_leaf, outline, templates

if TYPE_CHECKING:
    from collections.abc import Iterator

    from .broker import NanoMQIn
    from .sites import Site, SiteEntries


@dataclass(frozen=True)
class Rotation:
    """A CA rotation under way (`rotation`): the CAs retiring, root first; the recipe's CAs are the new ones."""

    scope: str  # "root" (and its intermediate) or "intermediate"
    retiring: tuple[CertificateAuthority, ...]  # root: (old root[, old intermediate]); intermediate: (root, old intermediate)
    started: str

    @property
    def issuer(self) -> CertificateAuthority:
        """The retiring CA that signed the leaves."""
        return self.retiring[-1]

    @property
    def chain(self) -> tuple[str, ...]:
        return tuple(ca.cert_file for ca in reversed(self.retiring))


@dataclass(frozen=True)
class Recipe:
    path: Path
    output_dir: Path
    style: Style
    ca: CertificateAuthority
    servers: tuple[Leaf, ...] | Leaves  # Leaves: a fleet kept whole, its members made when read
    clients: tuple[Leaf, ...] | Leaves
    warnings: tuple[str, ...] = field(default=())
    nanomq: NanoMQIn | None = None  # validated in `broker`; used by `conf`
    intermediate: CertificateAuthority | None = None
    trust_file: str = "ca-trust.pem"  # what peers trust (root, intermediate; both generations while rotating)
    site_entries: SiteEntries | None = None  # nanomq.bridge.client names a fleet: one edge site per member
    rotation: Rotation | None = None  # a CA rotation under way (read from the output folder: `rotation`)
    phase: str = "steady"  # the rotation's: steady, rotating, finishing (a finish interrupted after its commit)

    def sites(self) -> Iterator[Site]:
        """The edge sites in order (none without `site_entries`)."""
        from .sites import sites

        return sites(self.clients, self.servers, self.site_entries) if self.site_entries else iter(())

    def site(self, name: str) -> Site:
        """The site called `name` (its bridge certificate's entry name)."""
        found = next((site for site in self.sites() if site.name == name), None)
        if found is None:
            first = next(self.sites(), None)
            names = f"{first.name} … ({self.site_entries.count} sites)" if first and self.site_entries else "none"
            raise RecipeError(f"the recipe has no site named {name!r}", [f"sites: {names}"])
        return found

    @property
    def issuer(self) -> CertificateAuthority:
        """The CA that signs the servers and clients."""
        return self.intermediate or self.ca

    @property
    def authorities(self) -> tuple[CertificateAuthority, ...]:
        return (self.ca, self.intermediate) if self.intermediate else (self.ca,)

    @property
    def chain(self) -> tuple[str, ...]:
        """The issuing CA's certificate and those above it, issuer first."""
        return tuple(ca.cert_file for ca in reversed(self.authorities))

    @property
    def trusted(self) -> tuple[str, ...]:
        """What the trust file holds, in order: the chain; while rotating, the retiring chain after it
        (with an intermediate rotated alone, the root once)."""
        retiring = self.rotation.chain if self.rotation else ()
        return tuple(dict.fromkeys((*self.chain, *retiring)))

    @property
    def issuers(self) -> tuple[CertificateAuthority, ...]:
        """The CAs whose leaves are live: the issuer, and while rotating the retiring one."""
        return (self.issuer, self.rotation.issuer) if self.rotation else (self.issuer,)

    @property
    def leaves(self) -> tuple[Leaf, ...] | Leaves:
        return self.servers + self.clients

    def leaf(self, name: str) -> Leaf:
        if (leaf := find_leaf(self.leaves, name)) is not None:
            return leaf
        raise RecipeError(f"the recipe has no server or client named {name!r}", [f"names: {', '.join(outline(self.leaves))}"])

    @property
    def environment(self) -> dict[str, str]:
        """What every child runs with beside its passwords, exported first by `plan` and set by the tool
        for itself: the PKCS#11 module of a CA key in a token (libp11's engine reads the variable)."""
        module = next((ca.token.module for ca in self.authorities if ca.token), None)  # one: `token.one_module`
        return {"PKCS11_MODULE_PATH": module} if module else {}

    def secrets(self) -> list[Secret]:
        # a fleet's members share its template's password: one look per fleet, not per member
        found = [e.password for e in (*self.authorities, *(leaf for _, leaf in templates(self.leaves))) if e.password]
        return list(dict.fromkeys(found))

    def secret_names(self) -> set[str]:
        """Every variable a password of this recipe is read from: no openssl child sees one unless its
        own command reads it."""
        return {secret.env_name for secret in self.secrets()}

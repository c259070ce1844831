"""Which live CA signed what: while a CA rotation is under way, a leaf is the old CA's until renewed.
One `openssl verify` per chunk of certificates (`Inspector.signed_by`)."""

from __future__ import annotations

from ..core.children import child_environment
from ..plan.ownership import signed_files
from ..recipe.entries import CertificateAuthority
from ..recipe.model import Recipe
from .inspect import Inspector


def leaves_under(recipe: Recipe, openssl: str, ca: CertificateAuthority, names: list[str] | None = None) -> list[str]:
    """The certificates `ca` signed among `names` (default: the recipe's leaves and those `sign` made);
    `openssl`: the command."""
    folder = recipe.output_dir
    if names is None:
        names = [leaf.cert_file for leaf in recipe.leaves] + signed_files(folder)
    present = [name for name in dict.fromkeys(names) if (folder / name).is_file()]
    if not present or not (folder / ca.cert_file).exists():
        return []
    found = Inspector(openssl, folder, child_environment(recipe.secret_names())).signed_by(ca.cert_file, present)
    return [name for name in present if name in found]


def signer(recipe: Recipe, openssl: str, cert_file: str) -> CertificateAuthority:
    """The live CA that signed `cert_file`: while rotating, the retiring one for a leaf not yet renewed."""
    if recipe.rotation and leaves_under(recipe, openssl, recipe.rotation.issuer, [cert_file]):
        return recipe.rotation.issuer
    return recipe.issuer

"""A changed recipe, noticed: the files a build keeps that no longer say what their entry says.

`build` keeps every sound file, so after an edit to the recipe (a subject, the SANs, the key type or
size, the validity, a password) the old certificate and key stay. This compares each kept
certificate (read by `core.x509`) and key with its entry and names the narrowest command that brings it in
line: `renew NAME` for what the certificate says, `renew NAME --rekey` for the key. A CA is changed
only by `build --new-ca`, and that is said as a consequence, not advised lightly.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from ..core.x509 import CertificateFacts, San, Unreadable, read_certificate
from ..recipe.entries import CertificateAuthority, Leaf
from ..recipe.model import Recipe
from ..recipe.subject import SUBJECT_FIELDS
from ..run.inspect import key_is_encrypted

DAYS_TOLERANCE = 1.0  # days; a certificate's validity is its notAfter - notBefore


@dataclass(frozen=True)
class Drift:
    name: str  # the entry
    cert_file: str
    differences: tuple[str, ...]
    advice: str

    def line(self) -> str:
        what = "; ".join(self.differences)
        return f"{self.cert_file} no longer matches the recipe's {self.name}: {what} — {self.advice}"


def drifted(
    recipe: Recipe, kept: Collection[str] | None = None, read: Callable[[str], CertificateFacts | None] | None = None
) -> list[Drift]:
    """Each entry whose certificate or key, as the output folder holds them, differs from the recipe;
    `kept`: only the entries whose certificate or key is among these files (what a build just made from
    the recipe follows it: not read again); `read`: a certificate as the build already read it."""
    entries = (*recipe.authorities, *recipe.leaves)
    if kept is not None:
        entries = tuple(entry for entry in entries if entry.cert_file in kept or (entry.key_file and entry.key_file in kept))
    read = read or functools.partial(_read, recipe.output_dir)
    return [drift for entry in entries if (drift := _compare(recipe, entry, read(entry.cert_file)))]


def _read(folder: Path, name: str) -> CertificateFacts | None:
    try:
        return read_certificate((folder / name).read_bytes())
    except (OSError, Unreadable):
        return None


def _compare(recipe: Recipe, entry: CertificateAuthority | Leaf, facts: CertificateFacts | None) -> Drift | None:
    if facts is None:
        return None  # missing or not ours to read: the build and verify say so in their own words
    certificate: list[str] = []
    key: list[str] = []
    expected_subject = tuple((field, entry.subject[field]) for field in SUBJECT_FIELDS if field in entry.subject)
    device = isinstance(entry, Leaf) and entry.device_key  # its subject is the device's request's
    if expected_subject and not device and facts.subject != expected_subject:
        certificate.append(f"subject {_subject(facts.subject)} (recipe: {_subject(expected_subject)})")
    if isinstance(entry, Leaf) and recipe.style == "strict":
        have, want = {_normal(san) for san in facts.sans}, {_normal(san) for san in entry.sans}
        if have != want:
            parts = [f"lacks {', '.join(sorted(map(str, want - have)))}"] if want - have else []
            parts += [f"has {', '.join(sorted(map(str, have - want)))} no longer listed"] if have - want else []
            certificate.append(f"SANs: {' and '.join(parts)}")
    if abs(facts.days - entry.days) > DAYS_TOLERANCE:
        certificate.append(f"valid for {round(facts.days)} days (recipe: {entry.days})")
    if facts.key is not None and facts.key.describe() != entry.key.describe():
        key.append(f"key {facts.key.describe()} (recipe: {entry.key.describe()})")
    if entry.password is not None and key_is_encrypted(recipe.output_dir / entry.key_file) is False:
        key.append(f"{entry.key_file} is not encrypted (the recipe gives it a password)")
    differences = tuple(certificate + key)
    if not differences:
        return None
    if isinstance(entry, CertificateAuthority):
        advice = "a CA changes only with `openssl-recipes build --new-ca` (every certificate it signed stops working)"
    else:
        advice = f"run `openssl-recipes renew {entry.name}{' --rekey' if key else ''}`"
    return Drift(entry.name, entry.cert_file, differences, advice)


def _subject(fields: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{field}={value}" for field, value in fields)


def _normal(san: San) -> San:
    if san.kind == "IP":
        return San("IP", str(ipaddress.ip_address(san.value)))
    if san.kind == "DNS":
        return San("DNS", san.value.lower())
    return san

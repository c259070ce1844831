"""`show`: a readable summary of each certificate on disk, and the revocations the CA database records."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ..core.names import CA_DATABASE, CRL_FILE, LEGACY_CA_FILES
from ..core.x509 import KeySpec, Unreadable, fingerprint_text, name_text, read_certificate, san_text, serial_text
from ..plan.lifecycle import entry
from ..recipe.model import Recipe


def show(recipe: Recipe, names: list[str], now: dt.datetime | None = None) -> str:
    """Each named entry's certificate (default: every one), read by `x509`, as a block of lines."""
    folder = recipe.output_dir
    now = now or dt.datetime.now(dt.UTC)
    entries = [entry(recipe, n) for n in names] if names else [*recipe.authorities, *recipe.leaves]
    revoked = revocations(folder)
    blocks = []
    for item in entries:
        role = getattr(item, "role", "ca" if item is recipe.ca else "intermediate")
        try:
            facts = read_certificate((folder / item.cert_file).read_bytes())
        except FileNotFoundError:
            blocks.append(f"{item.cert_file} ({role}): missing — run `openssl-recipes build`")
            continue
        except (OSError, Unreadable) as exc:
            blocks.append(f"{item.cert_file} ({role} {item.name}): unreadable — {getattr(exc, 'strerror', None) or exc}")
            continue
        left = (facts.not_after - now).days
        state = f"{left} days left" if left >= 0 else f"EXPIRED {-left} days ago"
        serial = serial_text(facts.serial)
        lines = [
            f"{item.cert_file} ({role} {item.name})",
            f"  subject   {name_text(facts.subject_name)}",
            f"  issuer    {name_text(facts.issuer_name)}",
            f"  SANs      {', '.join(map(san_text, facts.names)) or '—'}",
            f"  key       {_key_text(facts.key)} ({item.key_file})",
            f"  serial    {serial}",
            f"  valid     {facts.not_before:%Y-%m-%d} → {facts.not_after:%Y-%m-%d} ({state})",
            f"  sha256    {fingerprint_text(facts.sha256)}",
        ]
        if serial in revoked:
            lines.append(f"  REVOKED   {revoked[serial]}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _key_text(key: KeySpec | None) -> str:
    """The key as `show` has always named it: RSA 2048 bits, EC P-256, ED25519."""
    if key is None:
        return "?"
    return {"rsa": f"RSA {key.size} bits", "ec": f"EC {key.curve}", "ed25519": "ED25519"}[key.type]


def revocations(folder: Path) -> dict[str, str]:
    """Serial (hex, upper case) → when and why, from the CA database `revoke` keeps (index.txt)."""
    for database in (folder / CA_DATABASE, folder / LEGACY_CA_FILES[1]):  # the legacy place until first moved
        try:
            lines = database.read_text(encoding="utf-8").splitlines()
            break
        except (OSError, UnicodeDecodeError):
            continue
    else:
        return {}
    found = {}
    for line in lines:
        fields = line.split("\t")
        if len(fields) >= 4 and fields[0] == "R":
            when, _, reason = fields[2].partition(",")
            try:
                date = dt.datetime.strptime(when, "%y%m%d%H%M%SZ").strftime("%Y-%m-%d")
            except ValueError:
                date = when
            found[fields[3].upper()] = f"on {date}" + (f" ({reason})" if reason else "") + f", listed in {CRL_FILE} by crl"
    return found

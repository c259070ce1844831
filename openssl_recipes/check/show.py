"""`show`: a readable summary of each certificate on disk, and the revocations the CA database records."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from ..core import process
from ..core.children import child_environment
from ..core.names import CA_DATABASE, CRL_FILE, LEGACY_CA_FILES
from ..plan.lifecycle import entry
from ..recipe.model import Recipe
from ..run.inspect import Inspector


def show(recipe: Recipe, openssl: str, names: list[str], now: dt.datetime | None = None) -> str:
    folder = recipe.output_dir
    now = now or dt.datetime.now(dt.UTC)
    entries = [entry(recipe, n) for n in names] if names else [*recipe.authorities, *recipe.leaves]
    env = child_environment(recipe.secret_names())  # a read-only command: no child sees a password
    inspector = Inspector(openssl, folder, env)
    revoked = revocations(folder)
    blocks = []
    for item in entries:
        role = getattr(item, "role", "ca" if item is recipe.ca else "intermediate")
        if not (folder / item.cert_file).exists():
            blocks.append(f"{item.cert_file} ({role}): missing — run `openssl-recipes build`")
            continue
        result = process.run(
            (
                openssl,
                "x509",
                "-in",
                item.cert_file,
                "-noout",
                "-nameopt",
                "utf8,sep_comma_plus_space",
                "-subject",
                "-issuer",
                "-serial",
                "-fingerprint",
                "-sha256",
                "-ext",
                "subjectAltName",
                "-text",
                "-certopt",
                "no_header,no_version,no_serial,no_signame,no_validity,no_subject,no_issuer,no_extensions,no_sigdump,no_aux",
            ),
            cwd=folder,
            env=env,
        )
        text = result.stdout_text()
        fields = dict(
            line.split("=", 1) for line in text.splitlines() if re.match(r"^(subject|issuer|serial|sha256 Fingerprint)=", line)
        )
        sans = re.search(r"X509v3 Subject Alternative Name:\s*\n\s*(.+)", text)
        algorithm = re.search(r"Public Key Algorithm: (\S+)", text)
        bits = re.search(r"\((\d+) bit\)", text)
        curve = re.search(r"NIST CURVE: (\S+)", text)
        key = (algorithm.group(1) if algorithm else "?").replace("rsaEncryption", "RSA").replace("id-ecPublicKey", "EC")
        key += f" {curve.group(1)}" if curve else (f" {bits.group(1)} bits" if bits and key == "RSA" else "")
        dates = inspector.validity(item.cert_file)
        valid = "unreadable"
        if dates:
            left = (dates[1] - now).days
            state = f"{left} days left" if left >= 0 else f"EXPIRED {-left} days ago"
            valid = f"{dates[0]:%Y-%m-%d} → {dates[1]:%Y-%m-%d} ({state})"
        blocks.append(
            "\n".join(
                [
                    f"{item.cert_file} ({role} {item.name})",
                    f"  subject   {fields.get('subject', '?')}",
                    f"  issuer    {fields.get('issuer', '?')}",
                    f"  SANs      {sans.group(1).strip() if sans else '—'}",
                    f"  key       {key} ({item.key_file})",
                    f"  serial    {fields.get('serial', '?')}",
                    f"  valid     {valid}",
                    f"  sha256    {fields.get('sha256 Fingerprint', '?')}",
                    *(
                        [f"  REVOKED   {revoked[fields.get('serial', '').upper()]}"]
                        if fields.get("serial", "").upper() in revoked
                        else []
                    ),
                ]
            )
        )
    return "\n\n".join(blocks) + "\n"


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

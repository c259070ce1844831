"""Life after day one: inspect, export, renew, revoke. Each action is a list of openssl argv lists
(printed by `--dry-run` exactly as it runs) plus the files the tool itself writes, like `plan`/`build`.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from . import process, workspace
from .artifacts import Inspector
from .errors import RunError, UsageError
from .file_names import CA_CONFIG, CA_DATABASE, CRL_FILE, CRL_NUMBER, export_files
from .openssl import child_environment
from .recipe import CertificateAuthority, Leaf, Recipe, Secret
from .script import command_line


@dataclass
class Action:
    """What a lifecycle command does: files written first, then commands, in order."""

    folder: Path
    files: dict[str, tuple[str, int]] = field(default_factory=dict)  # name → (content, mode); only if absent
    commands: list[tuple[str, ...]] = field(default_factory=list)
    secrets: dict[str, str] = field(default_factory=dict)  # env name → value, for the children
    concatenations: dict[str, list[str]] = field(default_factory=dict)  # output → parts (`cat a b > out`)
    outputs: dict[str, int] = field(default_factory=dict)  # what the commands write → its mode afterwards

    def lines(self) -> list[str]:
        out = [
            f"test -e {name} || cat > {name} <<'EOF'\n{content.rstrip()}\nEOF" if content else f"test -e {name} || : > {name}"
            for name, (content, _) in self.files.items()
        ]
        out += [command_line(argv) for argv in self.commands]
        out += [f"{command_line(('cat', *parts))} > {target}" for target, parts in self.concatenations.items()]
        return out

    def run(self) -> None:
        for name in [*self.outputs, *self.concatenations, *self.files]:
            if (self.folder / name).is_symlink():  # openssl would write wherever it points
                raise UsageError(f"{self.folder / name} is a symbolic link: remove it, the tool writes only plain files here")
        env = {**child_environment(), **self.secrets}
        for name, (content, mode) in self.files.items():
            if not (self.folder / name).exists():
                workspace.write_atomically(self.folder / name, content, mode)
        for argv in self.commands:
            result = process.run(argv, cwd=self.folder, env=env)
            if not result.ok:
                raise RunError(
                    f"openssl failed (exit code {result.returncode})",
                    [f"command: {command_line(argv)}", *(f"stderr: {line}" for line in result.stderr_text().splitlines()[-8:])],
                )
        for target, parts in self.concatenations.items():
            workspace.concatenate(self.folder, parts, target)
        for name, mode in self.outputs.items():  # whatever mode an earlier file had: public 0644, secret 0600
            if (self.folder / name).exists():
                os.chmod(self.folder / name, mode)


def entry(recipe: Recipe, name: str) -> Leaf | CertificateAuthority:
    for ca in recipe.authorities:
        if ca.name == name:
            return ca
    return recipe.leaf(name)


def _passin(secret: Secret | None) -> list[str]:
    return ["-passin", f"env:{secret.env_name}"] if secret else []


# -- show --------------------------------------------------------------------------------------------


def show(recipe: Recipe, openssl: str, names: list[str], now: dt.datetime | None = None) -> str:
    folder = recipe.output_dir
    now = now or dt.datetime.now(dt.UTC)
    entries = [entry(recipe, n) for n in names] if names else [*recipe.authorities, *recipe.leaves]
    inspector = Inspector(openssl, folder, child_environment())
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
            env=child_environment(),
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
    try:
        lines = (folder / CA_DATABASE).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
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


# -- export ------------------------------------------------------------------------------------------


def export(
    recipe: Recipe,
    openssl: str,
    leaf: Leaf,
    p12_password: Secret | None,
    legacy: bool,
    fullchain: bool,
    p12: bool,
    secret_values: dict[str, str],
) -> Action:
    action = Action(recipe.output_dir)
    chain = [recipe.intermediate.cert_file] if recipe.intermediate else []
    if p12:
        if p12_password is None:
            raise UsageError(f"{leaf.name} has no password in the recipe: give the PKCS#12 password with --password-env VAR")
        bundle = recipe.bundle_file if recipe.intermediate and recipe.bundle_file else recipe.ca.cert_file
        argv = [
            openssl,
            "pkcs12",
            "-export",
            "-inkey",
            leaf.key_file,
            "-in",
            leaf.cert_file,
            "-certfile",
            bundle,
            "-name",
            leaf.name,
            "-out",
            export_files(leaf.name)[0],
            "-passout",
            f"env:{p12_password.env_name}",
            *_passin(leaf.password),
        ]
        if legacy:
            argv.append("-legacy")  # RC2/3DES for old consumers (Windows 7, old Java, some embedded stacks)
        action.commands.append(tuple(argv))
        action.outputs[export_files(leaf.name)[0]] = 0o600  # it holds the private key
        action.secrets.update(
            {
                k: v
                for k, v in secret_values.items()
                if k in (p12_password.env_name, *(s.env_name for s in ([leaf.password] if leaf.password else [])))
            }
        )
    if fullchain:
        action.concatenations[export_files(leaf.name)[1]] = [leaf.cert_file, *chain, recipe.ca.cert_file]
    return action


# -- renew -------------------------------------------------------------------------------------------


def due_for_renewal(
    recipe: Recipe, openssl: str, names: list[str], within_days: int, now: dt.datetime | None = None
) -> list[tuple[Leaf, dt.datetime | None]]:
    """The named leaves, whatever their expiry (naming an entry asks for it); without names, the leaves
    whose certificate expires within `within_days` (or is unreadable)."""
    now = now or dt.datetime.now(dt.UTC)
    leaves = [recipe.leaf(n) for n in names] if names else list(recipe.leaves)
    inspector = Inspector(openssl, recipe.output_dir, child_environment())
    due = []
    for leaf in leaves:
        if not (recipe.output_dir / leaf.cert_file).exists():
            continue  # not issued yet: that is `build`'s job
        dates = inspector.validity(leaf.cert_file)
        if names or dates is None or dates[1] - now <= dt.timedelta(days=within_days):
            due.append((leaf, dates[1] if dates else None))
    return due


# -- revocation ---------------------------------------------------------------------------------------


def ca_database_files(recipe: Recipe, crl_days: int) -> dict[str, tuple[str, int]]:
    from .render import render

    issuer = recipe.issuer
    config = render(
        "openssl-ca.cnf.j2",
        {
            "certificate": issuer.cert_file,
            "private_key": issuer.key_file,
            "database": CA_DATABASE,
            "crlnumber": CRL_NUMBER,
            "crl_days": crl_days,
        },
    )
    return {
        CA_CONFIG: (config, 0o644),
        CA_DATABASE: ("", 0o644),
        f"{CA_DATABASE}.attr": ("unique_subject = no\n", 0o644),
        CRL_NUMBER: ("1000\n", 0o644),
    }


def revoke(recipe: Recipe, openssl: str, leaf: Leaf, reason: str, crl_days: int, secret_values: dict[str, str]) -> Action:
    action = crl(recipe, openssl, crl_days, secret_values)  # the record first, then a fresh crl.pem
    revocation = (openssl, "ca", "-config", CA_CONFIG, "-revoke", leaf.cert_file, "-crl_reason", reason)
    action.commands.insert(0, (*revocation, *_passin(recipe.issuer.password)))
    return action


def crl(recipe: Recipe, openssl: str, crl_days: int, secret_values: dict[str, str]) -> Action:
    issuer = recipe.issuer
    action = Action(recipe.output_dir, files=ca_database_files(recipe, crl_days))
    action.commands.append(_gencrl(openssl, issuer))
    action.outputs[CRL_FILE] = 0o644  # brokers that drop privileges must read it
    action.secrets.update(_issuer_secret(issuer, secret_values))
    return action


def _gencrl(openssl: str, issuer: CertificateAuthority) -> tuple[str, ...]:
    return (openssl, "ca", "-config", CA_CONFIG, "-gencrl", "-out", CRL_FILE, *_passin(issuer.password))


def _issuer_secret(issuer: CertificateAuthority, secret_values: dict[str, str]) -> dict[str, str]:
    return (
        {issuer.password.env_name: secret_values[issuer.password.env_name]}
        if issuer.password and issuer.password.env_name in secret_values
        else {}
    )

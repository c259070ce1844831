"""Life after day one: inspect, export, renew, revoke. Each command that changes files is a `Work`:
the files the tool writes itself, then steps run by the one executor (`execute.run_steps`), printed by
`--dry-run` exactly as they run.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from . import process
from .artifacts import Inspector
from .errors import UsageError
from .execute import NewFile, run_steps
from .file_names import CA_CONFIG, CA_DATABASE, CA_DIR, CRL_FILE, CRL_NUMBER, LEGACY_CA_FILES, export_files
from .openssl import child_environment
from .recipe import CertificateAuthority, Leaf, Recipe, Secret
from .script import step_line
from .steps import Step


@dataclass
class Work:
    """What a lifecycle command does: files the tool writes first, then openssl steps, in order."""

    recipe: Recipe
    steps: list[Step] = field(default_factory=list)
    files: dict[str, NewFile] = field(default_factory=dict)
    secret_values: dict[str, str] = field(default_factory=dict)  # env name → value, for the steps that read it

    def lines(self) -> list[str]:
        """The bash `--dry-run` prints: runnable as shown, in the output folder."""
        folders = sorted({str(Path(name).parent) for name in self.files if "/" in name})
        out = [f"mkdir -p {shlex.quote(folder)}" for folder in folders]
        for name, new in self.files.items():
            write = (
                f"cat > {shlex.quote(name)} <<'EOF'\n{new.content.rstrip()}\nEOF" if new.content else f": > {shlex.quote(name)}"
            )
            out.append(write if new.replace else f"test -e {shlex.quote(name)} || {write}")
        return out + [step_line(step) for step in self.steps]

    def run(self) -> None:
        folder = self.recipe.output_dir
        if any(name.startswith(f"{CA_DIR}/") for name in self.files):
            _move_legacy_database(folder)
        run_steps(folder, self.steps, self.secret_values, self.recipe.secret_names(), self.files)


def _move_legacy_database(folder: Path) -> None:
    """Earlier versions kept the CA database beside the certificates: move it into CA_DIR once."""
    legacy = [name for name in LEGACY_CA_FILES if (folder / name).is_file() and not (folder / name).is_symlink()]
    if not legacy or (folder / CA_DATABASE).exists():
        return
    (folder / CA_DIR).mkdir(mode=0o700, exist_ok=True)
    for name in legacy:
        if name == Path(CA_CONFIG).name:
            (folder / name).unlink()  # ours, and written again below with the new paths
        else:
            os.replace(folder / name, folder / CA_DIR / name)


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
) -> Work:
    work = Work(recipe)
    if p12 and leaf.device_key:
        raise UsageError(f"{leaf.name}'s key is on the device: a PKCS#12 file needs it (use --no-p12 --fullchain)")
    chain = [recipe.intermediate.cert_file] if recipe.intermediate else []
    p12_file, fullchain_file = export_files(leaf.name)
    if p12:
        if p12_password is None:
            raise UsageError(f"{leaf.name} has no password in the recipe: give the PKCS#12 password with --password-env VAR")
        bundle = recipe.bundle_file if recipe.intermediate and recipe.bundle_file else recipe.ca.cert_file
        argv = [openssl, "pkcs12", "-export", "-inkey", leaf.key_file, "-in", leaf.cert_file, "-certfile", bundle]
        argv += ["-name", leaf.name, "-out", p12_file, "-passout", f"env:{p12_password.env_name}", *_passin(leaf.password)]
        if legacy:
            argv.append("-legacy")  # RC2/3DES for old consumers (Windows 7, old Java, some embedded stacks)
        secrets = tuple(s for s in (p12_password, leaf.password) if s)
        inputs = (leaf.key_file, leaf.cert_file, bundle)
        work.steps.append(Step(tuple(argv), "p12", leaf.name, inputs, (p12_file,), secrets))  # 0600: it holds the key
        work.secret_values = {s.env_name: secret_values[s.env_name] for s in secrets if s.env_name in secret_values}
    if fullchain:
        parts = (leaf.cert_file, *chain, recipe.ca.cert_file)
        work.steps.append(Step(("cat", *parts), "bundle", leaf.name, parts, (fullchain_file,)))
    return work


# -- renew -------------------------------------------------------------------------------------------


def due_for_renewal(
    recipe: Recipe, openssl: str, names: list[str], within_days: int, now: dt.datetime | None = None
) -> list[tuple[Leaf, dt.datetime | None]]:
    """The named leaves, whatever their expiry (naming an entry asks for it); without names, the leaves
    whose certificate expires within `within_days` (or is unreadable)."""
    now = now or dt.datetime.now(dt.UTC)
    leaves = [recipe.leaf(n) for n in names] if names else list(recipe.leaves)
    inspector = Inspector(openssl, recipe.output_dir, child_environment(recipe.secret_names()))
    due = []
    for leaf in leaves:
        if not (recipe.output_dir / leaf.cert_file).exists():
            continue  # not issued yet: that is `build`'s job
        dates = inspector.validity(leaf.cert_file)
        if names or dates is None or dates[1] - now <= dt.timedelta(days=within_days):
            due.append((leaf, dates[1] if dates else None))
    return due


# -- revocation ---------------------------------------------------------------------------------------


def ca_database_files(recipe: Recipe) -> dict[str, NewFile]:
    """What `openssl ca` needs to revoke and to write a CRL, in CA_DIR. The configuration is written
    each time (it follows the recipe's issuer); the database and the CRL number only when absent."""
    from .render import render

    issuer = recipe.issuer
    context = {"certificate": issuer.cert_file, "private_key": issuer.key_file, "database": CA_DATABASE}
    config = render("openssl-ca.cnf.j2", {**context, "crlnumber": CRL_NUMBER, "crl_days": 30})
    return {
        CA_CONFIG: NewFile(config),
        CA_DATABASE: NewFile("", replace=False),
        f"{CA_DATABASE}.attr": NewFile("unique_subject = no\n", replace=False),
        CRL_NUMBER: NewFile("1000\n", replace=False),
    }


def revoke(recipe: Recipe, openssl: str, leaf: Leaf, reason: str, crl_days: int, secret_values: dict[str, str]) -> Work:
    """The revocation recorded in the CA database, then a fresh crl.pem that lists it."""
    work = crl(recipe, openssl, crl_days, secret_values)
    issuer = recipe.issuer
    argv = (openssl, "ca", "-config", CA_CONFIG, "-revoke", leaf.cert_file, "-crl_reason", reason, *_passin(issuer.password))
    inputs = (CA_CONFIG, leaf.cert_file, issuer.cert_file, issuer.key_file)
    work.steps.insert(0, Step(argv, "revoke", leaf.name, inputs, (CA_DATABASE,), _secrets(issuer)))
    return work


def crl(recipe: Recipe, openssl: str, crl_days: int, secret_values: dict[str, str]) -> Work:
    """crl.pem from the CA database (empty when nothing is revoked), valid for `crl_days`: given on the
    command line, so it takes effect every time."""
    issuer = recipe.issuer
    argv = (openssl, "ca", "-config", CA_CONFIG, "-gencrl", "-crldays", str(crl_days), "-out", CRL_FILE)
    inputs = (CA_CONFIG, CA_DATABASE, issuer.cert_file, issuer.key_file)
    step = Step((*argv, *_passin(issuer.password)), "crl", issuer.name, inputs, (CRL_FILE, CRL_NUMBER), _secrets(issuer))
    values = {s.env_name: secret_values[s.env_name] for s in step.secrets if s.env_name in secret_values}
    return Work(recipe, [step], ca_database_files(recipe), values)


def _secrets(issuer: CertificateAuthority) -> tuple[Secret, ...]:
    return (issuer.password,) if issuer.password else ()

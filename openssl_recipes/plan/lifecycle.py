"""Life after day one, planned: export, revoke, crl. Each command that changes files is a `Work`: the
files the tool writes itself, then steps run by the one executor (`execute.run_work`), printed by
`--dry-run` exactly as they run.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import UsageError
from ..core.names import CRL_FILE, database_files, export_files
from ..recipe.entries import CertificateAuthority, Leaf, Secret
from ..recipe.model import Recipe
from .argv import ca_engine, passin
from .script import environment_lines, step_line, write_file
from .steps import NewFile, Step


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
        out = [*environment_lines(self.recipe), *(f"mkdir -p {shlex.quote(folder)}" for folder in folders)]
        for name, new in self.files.items():
            write = write_file(name, new.content)
            out.append(write if new.replace else f"test -e {shlex.quote(name)} || {write}")
        return out + [step_line(step) for step in self.steps]


def entry(recipe: Recipe, name: str) -> Leaf | CertificateAuthority:
    for ca in recipe.authorities:
        if ca.name == name:
            return ca
    return recipe.leaf(name)


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
    signed_by: tuple[str, ...] | None = None,
) -> Work:
    """`signed_by`: the chain of the CA that signed the leaf, issuer first (default: the recipe's)."""
    work = Work(recipe)
    if p12 and leaf.device_key:
        raise UsageError(f"{leaf.name}'s key is on the device: a PKCS#12 file needs it (use --no-p12 --fullchain)")
    chain = list(signed_by or recipe.chain)[:-1]  # the intermediate of the CA that signed it (while rotating: maybe the old one)
    root = (signed_by or recipe.chain)[-1]
    p12_file, fullchain_file = export_files(leaf.name)
    if p12:
        if p12_password is None:
            raise UsageError(f"{leaf.name} has no password in the recipe: give the PKCS#12 password with --password-env VAR")
        bundle = recipe.trust_file if chain else root  # (with an intermediate: the trust file holds it and the root)
        argv = [openssl, "pkcs12", "-export", "-inkey", leaf.key_file, "-in", leaf.cert_file, "-certfile", bundle]
        argv += ["-name", leaf.name, "-out", p12_file, "-passout", f"env:{p12_password.env_name}", *passin(leaf.password)]
        if legacy:
            argv.append("-legacy")  # RC2/3DES for old consumers (Windows 7, old Java, some embedded stacks)
        secrets = tuple(s for s in (p12_password, leaf.password) if s)
        inputs = (leaf.key_file, leaf.cert_file, bundle)
        work.steps.append(Step(tuple(argv), "p12", leaf.name, inputs, (p12_file,), secrets))  # 0600: it holds the key
        work.secret_values = {s.env_name: secret_values[s.env_name] for s in secrets if s.env_name in secret_values}
    if fullchain:
        parts = (leaf.cert_file, *chain, root)
        work.steps.append(Step(("cat", *parts), "bundle", leaf.name, parts, (fullchain_file,)))
    return work


# -- revocation ---------------------------------------------------------------------------------------


def ca_database_files(issuer: CertificateAuthority) -> dict[str, NewFile]:
    """What `openssl ca` needs to revoke and to write a CRL, in the CA's database folder. The
    configuration is written each time (it follows the recipe's issuer); the database and the CRL
    number only when absent."""
    from ..render.jinja import render

    config, database, number = database_files(issuer.database_dir)
    context = {"certificate": issuer.cert_file, "private_key": issuer.key_file, "database": database}
    return {
        config: NewFile(render("openssl-ca.cnf.j2", {**context, "crlnumber": number, "crl_days": 30})),
        database: NewFile("", replace=False),
        f"{database}.attr": NewFile("unique_subject = no\n", replace=False),
        number: NewFile("1000\n", replace=False),
    }


def revoke(
    recipe: Recipe,
    openssl: str,
    leaf: Leaf,
    reason: str,
    crl_days: int,
    secret_values: dict[str, str],
    signer: CertificateAuthority | None = None,
) -> Work:
    """The revocation recorded in the database of the CA that signed it (`signer`, default the
    issuer), then a fresh crl.pem that lists it."""
    work = crl(recipe, openssl, crl_days, secret_values)
    issuer = signer or recipe.issuer
    config, database, _ = database_files(issuer.database_dir)
    argv = (
        openssl,
        "ca",
        "-config",
        config,
        "-revoke",
        leaf.cert_file,
        "-crl_reason",
        reason,
        *ca_engine(issuer),
        *passin(issuer.password),
    )
    inputs = (config, leaf.cert_file, issuer.cert_file, issuer.key_file)
    work.steps.insert(0, Step(argv, "revoke", leaf.name, inputs, (database,), _secrets(issuer), token=issuer.token))
    return work


def crl(recipe: Recipe, openssl: str, crl_days: int, secret_values: dict[str, str]) -> Work:
    """crl.pem from the CA database (empty when nothing is revoked), valid for `crl_days`: given on the
    command line, so it takes effect every time. While a CA rotation is under way, one CRL for each
    CA whose leaves are live, both in crl.pem (OpenSSL-based brokers read every CRL of the file and
    check each leaf against its own issuer's)."""
    steps, files = [], {}
    for issuer in recipe.issuers:
        config, database, number = database_files(issuer.database_dir)
        out = CRL_FILE if len(recipe.issuers) == 1 else f"{issuer.database_dir}/{CRL_FILE}"
        argv = (openssl, "ca", "-config", config, "-gencrl", "-crldays", str(crl_days), "-out", out, *ca_engine(issuer))
        argv += tuple(passin(issuer.password))
        inputs = (config, database, issuer.cert_file, issuer.key_file)
        steps.append(Step(argv, "crl", issuer.name, inputs, (out, number), _secrets(issuer), token=issuer.token))
        files |= ca_database_files(issuer)
    if len(steps) > 1:
        parts = tuple(step.artifact for step in steps)
        steps.append(Step(("cat", *parts), "bundle", recipe.issuer.name, parts, (CRL_FILE,)))
    wanted = {s.env_name for step in steps for s in step.secrets}
    return Work(recipe, steps, files, {name: value for name, value in secret_values.items() if name in wanted})


def _secrets(issuer: CertificateAuthority) -> tuple[Secret, ...]:
    return (issuer.password,) if issuer.password else ()

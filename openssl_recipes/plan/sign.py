"""`sign`, planned: requests made on devices (their keys never leave them), signed by the recipe's
issuing CA with the strict extension set of their role — whatever extensions a request asks for
(`x509 -req` copies none: a request for CA:TRUE still yields CA:FALSE). Pure: leaves → a `Work` of
steps that the command runs through the executor.
"""

from __future__ import annotations

import dataclasses

from ..core.errors import UsageError
from ..core.names import BATCH_DIR, SIGN_CONFIG
from ..core.openssl import Openssl
from ..recipe.entries import CertificateAuthority, Leaf
from ..recipe.model import Recipe
from .argv import passin, serial_file, sign_request
from .extensions import extension_file, leaf_sections
from .lifecycle import Work
from .steps import NewFile, Step

BATCH_FROM = 2  # requests sharing an extension section and a validity: signed by `openssl ca` in batches
BATCH_MIN, BATCH_MAX = 64, 1000  # requests per `openssl ca` (its database is rewritten once, at its end)


def sign_work(
    recipe: Recipe, openssl: Openssl, leaves: list[Leaf], secret_values: dict[str, str], jobs: int = 1
) -> tuple[Work, list[Step]]:
    """The extension file for these leaves, then the signatures: requests that share an extension
    section and a validity in batches (`batch_step`: one `openssl ca` a batch, `jobs` batches at once),
    the rest one `x509 -req` each with its chain. Also the chains of the batched leaves, to run once
    their certificates are there (a request `openssl ca` skips has none)."""
    files = {leaf.cert_file for leaf in leaves} | {leaf.chain_file for leaf in leaves if leaf.chain_file}
    if len(files) != sum(1 + bool(leaf.chain_file) for leaf in leaves):
        raise UsageError("two requests would write the same certificate: give each its own --name")
    signing, sections = _signing(recipe, leaves)
    issuer = recipe.issuer
    side = () if openssl.random_serial else (serial_file(issuer),)
    work = Work(recipe, files={SIGN_CONFIG: NewFile(extension_file(signing, sections))})
    secrets = (issuer.password,) if issuer.password else ()
    later: list[Step] = []
    number = 0
    for (section, days), group in _groups(leaves, sections).items():
        if _batched(group, openssl, issuer):
            parts = min(BATCH_MAX, max(BATCH_MIN, -(-len(group) // jobs)))  # one batch a job, unless small
            for start in range(0, len(group), parts):
                number += 1
                work.files |= batch_database(number, issuer)
                chunk = group[start : start + parts]
                work.steps.append(batch_step(openssl.command, number, chunk, issuer, section, days, secrets))
                later += chain_steps(recipe, chunk)
            continue
        for leaf in group:
            argv = sign_request(
                openssl.command,
                leaf.csr_file,
                issuer,
                leaf.cert_file,
                days,
                leaf.digest,
                not openssl.random_serial,
                (SIGN_CONFIG, section),
            )
            inputs = (issuer.cert_file, issuer.key_file, SIGN_CONFIG, *side)
            work.steps.append(Step(tuple(argv), "cert", leaf.name, inputs, (leaf.cert_file, *side), secrets))
            work.steps += chain_steps(recipe, [leaf])
    if issuer.password and issuer.password.env_name in secret_values:
        work.secret_values = {issuer.password.env_name: secret_values[issuer.password.env_name]}
    return work, later


def batched(recipe: Recipe, openssl: Openssl, leaves: list[Leaf]) -> set[str]:
    """The leaves `sign_work` signs in batches (the rest: one `x509 -req` each)."""
    _, sections = _signing(recipe, leaves)
    return {
        leaf.name for group in _groups(leaves, sections).values() if _batched(group, openssl, recipe.issuer) for leaf in group
    }


def _signing(recipe: Recipe, leaves: list[Leaf]) -> tuple[Recipe, dict[str, str]]:
    signing = dataclasses.replace(
        recipe, servers=tuple(x for x in leaves if x.role == "server"), clients=tuple(x for x in leaves if x.role == "client")
    )
    return signing, leaf_sections(signing)


def _groups(leaves: list[Leaf], sections: dict[str, str]) -> dict[tuple[str, int], list[Leaf]]:
    groups: dict[tuple[str, int], list[Leaf]] = {}
    for leaf in leaves:
        groups.setdefault((sections[leaf.name], leaf.days), []).append(leaf)
    return groups


def _batched(group: list[Leaf], openssl: Openssl, issuer: CertificateAuthority) -> bool:
    # (OpenSSL 3: `rand_serial`; an Ed25519 CA signs each with `x509 -req`, which needs no digest)
    return len(group) >= BATCH_FROM and openssl.is_openssl3 and issuer.key.type != "ed25519"


def chain_steps(recipe: Recipe, leaves: list[Leaf]) -> list[Step]:
    """Each leaf's chain (leaf + intermediate), with an intermediate CA."""
    if recipe.intermediate is None:
        return []
    steps = []
    for leaf in leaves:
        if leaf.chain_file:
            parts = (leaf.cert_file, recipe.intermediate.cert_file)
            steps.append(Step(("cat", *parts), "bundle", leaf.name, parts, (leaf.chain_file,)))
    return steps


def batch_files(number: int) -> tuple[str, str]:
    """A batch's configuration and database (its own: never the revocation database)."""
    return f"{BATCH_DIR}/{number}.cnf", f"{BATCH_DIR}/{number}.index.txt"


def batch_step(
    openssl: str, number: int, leaves: list[Leaf], issuer: CertificateAuthority, section: str, days: int, secrets: tuple
) -> Step:
    """`openssl ca -batch … -infiles` for requests that share an extension section: their certificates
    on its stdout, in the order of the requests (a request whose signature does not verify is skipped,
    with its reason on stderr); kept in the artifact, then each written to its leaf's file by the
    request whose key it carries (`run.batch`). `-preserveDN`: the subject as the device wrote it, as
    `x509 -req` keeps it; the extensions are the role's, whatever the request asks for."""
    config, _ = batch_files(number)
    argv = [openssl, "ca", "-batch", "-config", config, "-extfile", SIGN_CONFIG, "-extensions", section]
    argv += ["-days", str(days), "-md", leaves[0].digest]
    argv += ["-notext", "-preserveDN", *passin(issuer.password), "-infiles", *(leaf.csr_file for leaf in leaves)]
    outputs = (f"{BATCH_DIR}/{number}.pem", *(leaf.cert_file for leaf in leaves))
    inputs = (issuer.cert_file, issuer.key_file, SIGN_CONFIG, config)
    return Step(tuple(argv), "certs", f"{len(leaves)} requests", inputs, outputs, secrets)


def batch_database(number: int, issuer: CertificateAuthority) -> dict[str, NewFile]:
    """A batch's configuration and its empty database, written afresh each run."""
    config, database = batch_files(number)
    return {
        config: NewFile(batch_config(issuer, database)),
        database: NewFile(""),
        f"{database}.attr": NewFile("unique_subject = no\n"),
    }


def batch_config(issuer: CertificateAuthority, database: str) -> str:
    """The configuration of a batch's `openssl ca`: its own database and random serials (no serial file
    shared between batches); any subject (`-preserveDN` keeps it as the request has it)."""
    return (
        "# openssl ca signs a batch of requests (sign --csr-dir). Written by openssl-recipes for this run, then removed.\n"
        "[ ca ]\ndefault_ca = batch\n\n[ batch ]\n"
        f"database = {database}\nnew_certs_dir = {BATCH_DIR}\ncertificate = {issuer.cert_file}\nprivate_key = {issuer.key_file}\n"
        "rand_serial = yes\nunique_subject = no\npolicy = any_subject\n\n[ any_subject ]\ncommonName = optional\n"
    )

"""Many requests signed by one `openssl ca` (`-batch … -infiles`): `sign --csr-dir`'s requests and a
recipe's fleet of `csr:` devices. One process signs them all (a process costs more than a signature);
each batch has its own configuration and database (never the revocation database: these certificates
are signed, not recorded) and random serials (no serial file shared between batches, so they run in
parallel). Its stdout holds the certificates in order; `run.batch` writes each to its file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

from ..core.names import BATCH_DIR
from ..core.openssl import Openssl
from ..recipe.entries import CertificateAuthority, Leaf
from .argv import ca_engine, passin
from .steps import Step

BATCH_FROM = 2  # requests sharing an extension section and a validity: signed in batches from this many
BATCH_MIN, BATCH_MAX = 64, 500  # requests per `openssl ca` (its database is rewritten once, at its end)

T = TypeVar("T")


def batchable(count: int, openssl: Openssl, issuer: CertificateAuthority) -> bool:
    """Whether `count` requests sharing a section are signed in batches: OpenSSL 3 (`rand_serial`), and
    a CA that signs with a digest (an Ed25519 CA signs each with `x509 -req`, which needs none)."""
    return count >= BATCH_FROM and openssl.is_openssl3 and issuer.key.type != "ed25519"


def chunks(items: Sequence[T], parts_at_least: int = 2) -> list[Sequence[T]]:
    """`items` in batches as even as can be: at most BATCH_MAX each, and at least `parts_at_least`
    (the cores at work) once each would still hold BATCH_MIN."""
    parts = max(-(-len(items) // BATCH_MAX), min(parts_at_least, len(items) // BATCH_MIN), 1)
    size = -(-len(items) // parts)
    return [items[start : start + size] for start in range(0, len(items), size)]


def batch_files(number: int) -> tuple[str, str]:
    """A batch's configuration and database, in its own folder, where openssl ca also writes each
    certificate it signs (`new_certs_dir`): a folder a batch, as two batches creating files in one
    folder at once took twice the time (measured: 1.31 s against 0.69 s for two of 500 requests)."""
    return f"{BATCH_DIR}/{number}/ca.cnf", f"{BATCH_DIR}/{number}/index.txt"


def issued_folder(step: Step) -> str:
    """Where a batch's `openssl ca` writes each certificate as SERIAL.pem: its configuration's folder."""
    return str(Path(step.argv[step.argv.index("-config") + 1]).parent)


def batch_step(
    openssl: str,
    number: int,
    leaves: Sequence[Leaf],
    issuer: CertificateAuthority,
    extensions: tuple[str, str],
    secrets: tuple,
    skips: bool = False,
) -> Step:
    """`openssl ca -batch … -infiles` for requests that share an extension section (`extensions`: the
    file and section) and a validity: their certificates on its stdout, in the order of the requests
    (a request whose signature does not verify is skipped, with its reason on stderr: `skips` says the
    caller reports it, otherwise the step fails naming it); kept in the artifact, then each written to
    its leaf's file by the request whose key it carries (`run.batch`). `-preserveDN`: the subject as the
    device wrote it, as `x509 -req` keeps it; the extensions are the role's, whatever the request asks."""
    config, _ = batch_files(number)
    first = leaves[0]
    argv = [openssl, "ca", "-batch", "-config", config, "-extfile", extensions[0], "-extensions", extensions[1]]
    argv += ["-days", str(first.days), "-md", first.digest]
    argv += [
        "-notext",
        "-preserveDN",
        *ca_engine(issuer),
        *passin(issuer.password),
        "-infiles",
        *(leaf.csr_file for leaf in leaves),
    ]
    outputs = (f"{BATCH_DIR}/{number}.pem", *(leaf.cert_file for leaf in leaves))
    inputs = (issuer.cert_file, issuer.key_file, extensions[0], config)
    return Step(tuple(argv), "certs", f"{len(leaves)} requests", inputs, outputs, secrets, skips=skips, token=issuer.token)


def requests_of(step: Step) -> tuple[str, ...]:
    """The requests of a batch's argv: everything after -infiles (openssl ca's rule), in the order of
    the certificates `step.outputs[1:]`."""
    return step.argv[step.argv.index("-infiles") + 1 :]


def narrowed(step: Step, cert_files: set[str]) -> Step | None:
    """The batch for those of its certificates in `cert_files` only (what `build` remakes, `renew`
    re-signs), or None when it holds none of them."""
    pairs = [(csr, cert) for csr, cert in zip(requests_of(step), step.outputs[1:]) if cert in cert_files]
    if len(pairs) == len(step.outputs) - 1:
        return step
    if not pairs:
        return None
    start = step.argv.index("-infiles") + 1
    return Step(
        argv=(*step.argv[:start], *(csr for csr, _ in pairs)),
        kind=step.kind,
        entry=f"{len(pairs)} requests",
        inputs=step.inputs,
        outputs=(step.artifact, *(cert for _, cert in pairs)),
        secrets=step.secrets,
        skips=step.skips,
        token=step.token,
    )


def batch_database(number: int, issuer: CertificateAuthority) -> dict[str, str]:
    """A batch's configuration and its empty database (file name → content), written afresh each run."""
    config, database = batch_files(number)
    return {config: batch_config(issuer, database), database: "", f"{database}.attr": "unique_subject = no\n"}


def batch_config(issuer: CertificateAuthority, database: str) -> str:
    """The configuration of a batch's `openssl ca`: its own database and random serials; any subject
    (`-preserveDN` keeps it as the request has it)."""
    return (
        "# openssl ca signs a batch of requests. Written by openssl-recipes for this run, then removed.\n"
        "[ ca ]\ndefault_ca = batch\n\n[ batch ]\n"
        f"database = {database}\nnew_certs_dir = {Path(database).parent}\n"
        f"certificate = {issuer.cert_file}\nprivate_key = {issuer.key_file}\n"
        "rand_serial = yes\nunique_subject = no\npolicy = any_subject\n\n[ any_subject ]\ncommonName = optional\n"
    )

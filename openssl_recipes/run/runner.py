"""Run a Plan: decide what to keep, then run the rest in dependency order, `jobs` at a time.

The argv of every step is run exactly as `plan` prints it. What exists is kept only when it passes
the checks in `inspect`; a CA is never replaced unless asked with `new_ca`. A failed command stops
the build with its (masked) command line, exit code and stderr; Ctrl-C stops every child and
removes what they were writing.
"""

from __future__ import annotations

import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

from ..core.children import child_environment, default_jobs
from ..core.errors import RunError, UsageError
from ..core.names import BATCH_DIR, PRIVATE_PREFIX, RESERVED_PREFIX
from ..core.process import Result
from ..core.x509 import CertificateFacts
from ..plan.batch import narrowed
from ..plan.planner import with_kept_key
from ..plan.steps import NewFile, Plan, Step
from ..recipe.entries import CertificateAuthority
from . import backups, workspace
from .execute import execute
from .inspect import Inspector
from .kept_leaves import judged_in_parts
from .progress import InPlanOrder, LinePrinter, progress_bar
from .token import CA_HINT, decide_token_authority


@dataclass(frozen=True)
class BuildOptions:
    jobs: int = field(default_factory=default_jobs)
    force: bool = False  # remake every leaf (key, request, certificate)
    new_ca: bool = False  # replace the CA (the old files are kept as *.bak)
    only: frozenset[str] | None = None  # entries to make; None = all
    quiet: bool = False
    progress: bool | None = None  # None: when stderr is a terminal and the build is large
    hidden: frozenset[str] = frozenset()  # more variables no child may see (another recipe's passwords)


@dataclass
class BuildReport:
    made: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    seconds: float = 0.0
    backups: list[str] = field(default_factory=list)
    certificates: Callable[[str], CertificateFacts | None] | None = None  # what the build read of a kept certificate

    def summary(self, folder: str) -> str:
        text = f"made {len(self.made)}, kept {len(self.kept)} in {self.seconds:.2f} s → {folder}"
        return text + (f" (old CA saved as {', '.join(self.backups)})" if self.backups else "")


class Prestarted(Protocol):
    """Key steps already running for this build (`startup.headstart`): each adopted only where it is
    exactly a step the plan runs (argv, folder, environment); the rest stopped once the build decides."""

    def adopt(self, argv: tuple[str, ...], folder: Path, env: dict[str, str]) -> Callable[[], Result] | None: ...

    def stop_the_rest(self) -> None: ...


LIST_LIMIT = 60  # above this many files, print the summary only


def build(
    plan: Plan, secret_values: dict[str, str], options: BuildOptions, say: LinePrinter = print, head: Prestarted | None = None
) -> BuildReport:
    """Run the plan; `head`: keys already started for it, adopted where they fit."""
    started = time.monotonic()
    folder = plan.output_dir
    writes = sorted({name for step in plan.steps for name in step.files_written} | set(plan.files))
    prompts = any(step.prompts for step in plan.steps)
    if prompts and not sys.stdin.isatty():
        raise UsageError(
            "the recipe leaves a subject empty, so openssl would prompt for it, but stdin is not a "
            "terminal: give the subject in the recipe"
        )
    workspace.prepare(folder, writes)
    env = child_environment({*secret_values, *plan.recipe.secret_names(), *options.hidden})  # each step adds back only its own
    report = BuildReport()
    with workspace.locked(folder):
        _remove_leftovers(folder, plan)
        inspector = Inspector(plan.openssl.command, folder, env, secret_values)
        decision, instead = decide(plan, inspector, options)
        steps = list(plan.steps)
        for i, step in instead.items():
            steps[i] = step
        if options.new_ca:
            moved = backups.set_aside(folder, [n for ca in plan.recipe.authorities for n in (*ca.key_files, ca.cert_file)])
            report.backups = list(moved.values())
        workspace.write_files(folder, {name: NewFile(content, 0o644) for name, content in plan.files.items()})
        to_run = [i for i, run in enumerate(decision) if run]
        prestarted = _adopted(head, plan, to_run, env) if head is not None else {}
        jobs = 1 if prompts else max(1, options.jobs)
        listing = len(plan.steps) <= LIST_LIMIT and not options.quiet
        lines = InPlanOrder(steps, decision, folder, say if listing else (lambda _line: None))
        progress = progress_bar(options.progress, options.quiet, len(to_run))
        try:
            advance = progress.advance if progress is not None else (lambda: None)  # type: ignore[attr-defined]
            execute(folder, steps, to_run, env, secret_values, jobs, lines.done, advance, prestarted)
        finally:
            if progress is not None:
                progress.stop()
            workspace.remove_tree(folder / BATCH_DIR)  # (the batches' databases: for this run only)
    report.made = [name for i in to_run for name in steps[i].products]
    made = set(report.made)
    report.kept = [name for step in plan.steps for name in step.products if name not in made and (folder / name).exists()]
    report.seconds = time.monotonic() - started
    report.certificates = inspector.certificate_facts
    return report


def _adopted(head: Prestarted, plan: Plan, to_run: list[int], env: dict[str, str]) -> dict[int, Callable[[], Result]]:
    """The key steps to run that the head start already runs exactly (argv, environment), for files
    still absent; the rest of the head start is stopped."""
    adopted = {}
    for i in to_run:
        step = plan.steps[i]
        if step.kind == "key" and not step.secrets and not os.path.lexists(plan.output_dir / step.artifact):
            finish = head.adopt(step.argv, plan.output_dir, env)
            if finish is not None:
                adopted[i] = finish
    head.stop_the_rest()
    return adopted


# -- what to keep ---------------------------------------------------------------------------------


def decide(plan: Plan, inspector: Inspector, options: BuildOptions) -> tuple[list[bool], dict[int, Step]]:
    """For each step: run it (True) or keep what exists (False); and the steps that run in another
    form: a keycert step whose key is kept (`with_kept_key`: the certificate is remade, the key is not),
    a batch for the certificates to remake only (`narrowed`). Raises rather than replace a CA."""
    recipe = plan.recipe
    index = {(step.entry, "key" if step.kind == "tokenkey" else step.kind): i for i, step in enumerate(plan.steps)}
    batch_of = {cert: i for i, step in enumerate(plan.steps) if step.kind == "certs" for cert in step.outputs[1:]}
    run = [False] * len(plan.steps)
    ca, intermediate = recipe.ca, recipe.intermediate
    # With an intermediate CA the root key may stay offline: it is needed only to (re)sign the intermediate.
    ca_runs = _decide_authority(ca, inspector, options.new_ca, parent=None, offline_ok=intermediate is not None)
    run[index[(ca.name, "key")]] = ca_runs[0]
    run[index[(ca.name, "cert")]] = ca_runs[1]
    issuer_runs = ca_runs[1]
    if intermediate is not None:
        intermediate_runs = _decide_authority(intermediate, inspector, options.new_ca, parent=(ca.cert_file, ca_runs[1]))
        root_key_here = ca.token is not None or inspector.key(ca.key_file, ca.password).good  # (a token's: read above)
        if intermediate_runs[1] and not root_key_here and not ca_runs[0]:
            raise RunError(
                f"{intermediate.cert_file} must be signed by the root CA, but {ca.key_file} is not in the output folder "
                "(offline?): bring the root key back for this build"
            )
        run[index[(intermediate.name, "key")]] = intermediate_runs[0]
        run[index[(intermediate.name, "csr")]] = intermediate_runs[1]
        run[index[(intermediate.name, "cert")]] = intermediate_runs[1]
        issuer_runs = intermediate_runs[1]
    leaves = (leaf for leaf in recipe.leaves if options.only is None or leaf.name in options.only)
    unopenable: list[str] = []
    chains: set[str] = set()  # the chains of the leaves judged (`Judged.chains`)
    instead: dict[int, Step] = {}
    to_sign: dict[int, set[str]] = {}  # batch → the certificates it remakes
    for part in judged_in_parts(leaves, inspector, recipe, options.force, issuer_runs, max(1, options.jobs)):
        unopenable += part.unopenable
        chains.update(part.chains)
        for name, cert_file, key_runs, cert_runs in part.leaves:
            if (one := index.get((name, "keycert"))) is not None:  # key and certificate in one process
                run[one] = cert_runs
                if cert_runs and not key_runs:
                    instead[one] = with_kept_key(plan.steps[one])
                continue
            if (batch := batch_of.get(cert_file)) is not None:  # a device's request, signed in a batch
                if cert_runs:
                    to_sign.setdefault(batch, set()).add(cert_file)
                continue
            if (name, "key") in index:  # (a device's own key is not ours to make)
                run[index[(name, "key")]] = key_runs
            if (name, "csr") in index:
                run[index[(name, "csr")]] = cert_runs  # a request is remade whenever its certificate is
            run[index[(name, "cert")]] = cert_runs
    if unopenable:
        raise RunError("refusing to replace existing keys that do not open", unopenable)
    for batch, certs in to_sign.items():
        run[batch] = True
        instead[batch] = narrowed(plan.steps[batch], certs) or plan.steps[batch]
    # a chain is remade when a part is, or when it is not exactly its parts; not a chain of a leaf left
    # out (`only`), nor one of a leaf the retiring CA signed (it holds the old intermediate)
    remade = {name for i, runs in enumerate(run) if runs for name in instead.get(i, plan.steps[i]).outputs}
    for i, step in enumerate(plan.steps):
        if step.kind == "bundle" and (step.is_ca or step.artifact in chains):
            run[i] = any(name in remade for name in step.inputs) or not _bundle_is_current(step, plan.output_dir)
            if run[i]:
                remade.update(step.outputs)
    return run, instead


def _decide_authority(
    ca: CertificateAuthority, inspector: Inspector, new_ca: bool, parent: tuple[str, bool] | None, offline_ok: bool = False
) -> tuple[bool, bool]:
    """(remake the key?, remake the certificate?) for the root or the intermediate CA. Refuses, rather
    than replace a CA key or a certificate that does not match it; `parent` = (its cert, being remade?)."""
    if ca.token is not None:
        key_runs, cert_runs, check_parent = decide_token_authority(ca, inspector, new_ca)
        return (key_runs, cert_runs) if not check_parent else _signed_by_parent(ca, inspector, parent)
    if new_ca:
        return True, True
    key_v = inspector.key(ca.key_file, ca.password)
    cert_state = inspector.complete_pem(ca.cert_file).state
    hint = CA_HINT
    if key_v.state == "unopenable":
        raise RunError(f"{ca.key_file}: {key_v.reason}; refusing to replace the CA key", [hint])
    if not key_v.good:
        if cert_state == "missing":
            return True, True
        if offline_ok and key_v.state == "missing" and cert_state == "good":
            return False, False  # the root key is kept offline; its certificate is all the build needs
        raise RunError(
            f"{ca.cert_file} exists but {ca.key_file} is {key_v.state}"
            f"{' (' + key_v.reason + ')' if key_v.reason else ''}; refusing to replace the CA",
            [hint],
        )
    cert_v = inspector.certificate(ca.cert_file, ca.key_file, ca.password)
    if cert_v.state == "mismatch":
        raise RunError(f"{ca.cert_file} does not match {ca.key_file}; refusing to replace the CA", [hint])
    if not cert_v.good:
        return False, True
    return _signed_by_parent(ca, inspector, parent)


def _signed_by_parent(ca: CertificateAuthority, inspector: Inspector, parent: tuple[str, bool] | None) -> tuple[bool, bool]:
    """A kept CA's certificate is made again when its parent is, or does not sign it."""
    if parent is None:
        return False, False
    parent_cert, parent_runs = parent
    return False, parent_runs or ca.cert_file not in inspector.signed_by(parent_cert, [ca.cert_file])


def _bundle_is_current(step: Step, folder: Path) -> bool:
    try:
        return (folder / step.artifact).read_bytes() == b"".join((folder / name).read_bytes() for name in step.inputs)
    except OSError:
        return False


def _remove_leftovers(folder: Path, plan: Plan) -> None:
    """Temporary files of a run that was killed; and the plan's own serial file (the document style's
    ca.srl) when it is not a serial. No other file: a user's `notes.srl`, or a key a recipe names
    `root-key.srl`, is not the tool's to judge."""
    for path in folder.glob(f"{RESERVED_PREFIX}.tmp.*"):
        path.unlink(missing_ok=True)
    workspace.remove_tree(folder / BATCH_DIR)
    workspace.remove_stale(folder, PRIVATE_PREFIX)
    serials = {name for step in plan.steps for name in step.outputs[1:] if name.endswith(".srl")}
    for path in (folder / name for name in sorted(serials)):
        if not path.is_file() or path.is_symlink():
            continue
        try:
            if not re.fullmatch(r"[0-9A-Fa-f]+\s*", path.read_text()):
                path.unlink()  # -CAcreateserial starts a new random serial
        except (OSError, UnicodeDecodeError):
            path.unlink(missing_ok=True)

"""`rotate start | finish | abort`: a CA rotation in phases. Each runs under the folder's lock and
commits by writing the phase file (`recipe.rotation.State`) through the workspace: a rotate killed
before that leaves the previous phase as it was; what follows the commit (the trust file, crl.pem,
the new CA's files moved to the recipe's names) is made again by the next `rotate finish` or `build`.
`--dry-run` prints the openssl commands and the file moves, and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from ..core.children import child_environment
from ..core.errors import RunError, UsageError
from ..core.names import CA_ARCHIVE, CRL_FILE, ROTATION_DIR, ROTATION_STATE
from ..core.openssl import Openssl
from ..plan.lifecycle import Work, ca_database_files, crl
from ..plan.planner import build_plan
from ..plan.script import step_line, write_file
from ..plan.steps import Plan
from ..recipe.entries import CertificateAuthority
from ..recipe.load import load_recipe
from ..recipe.model import Recipe
from ..recipe.rotation import Scope, State, read_state
from ..recipe.secrets import resolve
from . import workspace
from .ca_archive import archive_dir, archive_leftover, keep
from .execute import run_work
from .runner import BuildOptions, build
from .signers import leaves_under
from .token import public_key

Say = Callable[[str], None]
SHOWN = 20  # names listed when leaves stop a step; the rest counted


@dataclass(frozen=True)
class Rotate:
    """What every step needs: the recipe as the command loaded it (in the folder's phase), its file
    and the output folder given (to load it in another phase), openssl, how to print."""

    current: Recipe
    recipe_file: Path
    out: Path | None
    openssl: Openssl
    dry_run: bool
    say: Say
    crl_days: int = 30

    def load(self, state: State | None = None) -> Recipe:
        return load_recipe(self.recipe_file, self.out, state)


@contextmanager
def _in_phase(folder: Path, state: State) -> Iterator[None]:
    """The folder's lock, held while the phase is still the one the step was planned in."""
    with workspace.locked(folder):
        if read_state(folder) != state:
            raise UsageError("another rotate changed the phase meanwhile; nothing was done")
        yield


# -- start -----------------------------------------------------------------------------------------


def start(rotate: Rotate, scope: Scope) -> None:
    """The new CA beside the old one; from the commit on, every trust file holds both."""
    current = rotate.current
    folder, state = current.output_dir, read_state(current.output_dir)
    if current.rotation or state.phase != "steady":
        raise UsageError(f"a CA rotation is under way ({state.phase}): `rotate finish` or `rotate abort` it first")
    if current.style == "document":
        raise UsageError("a CA rotation needs a trust file apart from the CA's certificate: use style: strict")
    if scope == "intermediate" and current.intermediate is None:
        raise UsageError("--intermediate: the recipe has no intermediate CA (without it, `rotate start` rotates the root)")
    if missing := [ca.cert_file for ca in current.authorities if not (folder / ca.cert_file).exists()]:
        raise UsageError(f"{missing[0]} does not exist: `openssl-recipes build` makes the CA before it can rotate")
    bumps_intermediate = current.intermediate is not None
    started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    new_state = State("rotating", scope, state.root + (scope == "root"), state.intermediate + bumps_intermediate, started)
    rotating = rotate.load(new_state)
    plan = build_plan(rotating, rotate.openssl)
    new_keys = {ca.key_file for ca in _new_in_token(rotating)}
    new = [step for step in plan.steps if step.artifact.startswith(f"{ROTATION_DIR}/") or step.artifact in new_keys]
    if rotate.dry_run:
        lines = [f"mkdir -p -m 700 {ROTATION_DIR}", *map(step_line, new), write_file(ROTATION_STATE, new_state.text())]
        for line in [*lines, *_refresh_lines(rotating, rotate)]:
            rotate.say(line)
        return
    _refuse_used_token_labels(rotating, rotate.openssl.command)
    values = resolve(rotating.secrets())
    with _in_phase(folder, state):
        archive_leftover(folder)
        (folder / ROTATION_DIR).mkdir(mode=0o700)
        authorities = tuple(step for step in plan.steps if step.is_ca and step.kind != "bundle")
        build(replace(plan, parts=authorities), values, BuildOptions(only=frozenset(), quiet=True), say=lambda _: None)
        workspace.write_atomically(folder / ROTATION_STATE, new_state.text())  # the commit
        _refresh(rotating, rotate, values)
    names = ", ".join(f"{ca.cert_file} ({_cn(ca)})" for ca in rotating.authorities if ca.cert_file.startswith(ROTATION_DIR))
    rotate.say(f"rotation started: the new CA is {names}; {rotating.trust_file} now trusts the old and the new")
    rotate.say(
        f"next: deploy {rotating.trust_file} (and {CRL_FILE}) to every broker and client, restarting each; then "
        "`openssl-recipes renew SERVER…` first, clients and sites after; then `openssl-recipes rotate finish`"
    )


def _refuse_used_token_labels(rotating: Recipe, openssl: str) -> None:
    """A new CA's key in a token is a new object, never one that is there (an aborted rotation's key:
    its leaves would chain to a new certificate of the same key and name)."""
    env = child_environment(rotating.secret_names())
    for ca in _new_in_token(rotating):
        if public_key(openssl, ca, env).public is not None:
            raise RunError(
                f"the token {ca.token.token!r} already holds a key labelled {ca.token.label!r} (an aborted rotation's?): "
                "the new CA needs a new key; delete that object (pkcs11-tool --delete-object) or keep it and rotate later",
                ["nothing was changed"],
            )


def _new_in_token(recipe: Recipe) -> list[CertificateAuthority]:
    """While rotating: the new CAs whose key is in a token."""
    return [ca for ca in recipe.authorities if ca.token and ca.cert_file.startswith(f"{ROTATION_DIR}/")]


# -- finish ----------------------------------------------------------------------------------------


def finish(rotate: Rotate, force: bool) -> None:
    """Refuses while a leaf is under the old CA (unless `force`); archives the old CA, moves the new
    one to the recipe's names, trusts it alone. A finish killed after its commit (phase finishing)
    goes on from where it stopped."""
    current = rotate.current
    folder, state = current.output_dir, read_state(current.output_dir)
    if state.phase == "steady":
        raise UsageError("no CA rotation is under way: `openssl-recipes rotate start` begins one")
    if current.rotation is not None:
        old = leaves_under(current, rotate.openssl.command, current.rotation.issuer)
        if old and not force:
            raise RunError(
                f"{len(old)} certificate(s) are still signed by the old CA ({_cn(current.rotation.issuer)}): "
                "renew them first (`openssl-recipes renew NAME…`), or give --force",
                _listed(old),
            )
        label = f"{current.rotation.scope}-G{_old_generation(state)}"
        archive = str(archive_dir(folder, label).relative_to(folder))
        finishing = replace(finished_state(state), phase="finishing", archive=archive)
    else:
        finishing = state
    assert finishing.archive is not None
    archived = folder / finishing.archive
    finished = rotate.load(finished_state(state))
    moves = _moves(current, finished)  # (finishing: each file where it is now)
    live = {ca.cert_file for ca in current.authorities}
    retired = [
        name for ca in (current.rotation.retiring if current.rotation else ()) if ca.cert_file not in live for name in ca.files
    ]
    if rotate.dry_run:
        lines = [f"mkdir -p -m 700 {shlex.quote(finishing.archive)}"]
        lines += [f"cp -p {shlex.quote(name)} {shlex.quote(finishing.archive)}/" for name in retired if (folder / name).exists()]
        lines += [write_file(ROTATION_STATE, finishing.text())] if current.rotation else []
        for source, target in moves:
            if (folder / source).is_dir() and (folder / target).is_dir():
                lines.append(f"mv {shlex.quote(target)} {shlex.quote(finishing.archive)}/")
            if os.path.lexists(folder / source):
                lines.append(f"mv {shlex.quote(source)} {shlex.quote(target)}")
        lines += [f"rmdir {ROTATION_DIR}", write_file(ROTATION_STATE, finished_state(state).text())]
        for line in [*lines, *_refresh_lines(finished, rotate)]:
            rotate.say(line)
        return
    values = resolve(finished.secrets())
    with _in_phase(folder, state):
        if current.rotation is not None:
            archived = archive_dir(folder, label)  # (taken meanwhile? the next free name)
            finishing = replace(finishing, archive=str(archived.relative_to(folder)))
            keep(folder, archived, retired, current)
            database = ca_database_files(current.issuer)  # its place exists before the commit (recipe.rotation)
            workspace.write_files(folder, {name: new for name, new in database.items() if not new.replace})
            workspace.write_atomically(folder / ROTATION_STATE, finishing.text())  # the commit
        for source, target in moves:  # each one rename: every file is at one of its two places
            if not os.path.lexists(folder / source):
                continue  # (moved before an interruption)
            if (folder / source).is_dir() and (folder / target).is_dir():
                os.replace(folder / target, archived / Path(target).name)  # the old CA's database, kept
            os.replace(folder / source, folder / target)
        try:
            (folder / ROTATION_DIR).rmdir()
        except OSError:
            pass  # (gone already, or something else is in it: left as it is)
        workspace.write_atomically(folder / ROTATION_STATE, finished_state(state).text())
        _refresh(finished, rotate, values)
    targets = {target for _, target in moves}
    made = [ca for ca in finished.authorities if ca.cert_file in targets] or [finished.issuer]
    names = ", ".join(f"{ca.cert_file} is {_cn(ca)}" for ca in made)
    rotate.say(f"rotation finished: {names}; {finished.trust_file} trusts the new CA alone")
    rotate.say(f"the old CA is kept in {finishing.archive}/ (0600); next: deploy {finished.trust_file} everywhere")


def finished_state(state: State) -> State:
    return replace(state, phase="steady", scope=None, started=None, archive=None)


def _old_generation(state: State) -> int:
    return (state.root if state.scope == "root" else state.intermediate) - 1


def _listed(names: list[str]) -> list[str]:
    return names[:SHOWN] + ([f"… and {len(names) - SHOWN} more"] if len(names) > SHOWN else [])


def _moves(finishing: Recipe, finished: Recipe) -> list[tuple[str, str]]:
    """Each new CA file, from where it is now to the recipe's name; the issuer's database folder last."""
    pairs = {}
    for now, then in zip(finishing.authorities, finished.authorities):
        for field in ("key_file", "csr_file", "cert_file"):
            if (a := getattr(now, field)) and (b := getattr(then, field)) and a != b:
                pairs[a] = b
    if finishing.issuer.database_dir != finished.issuer.database_dir:
        pairs[finishing.issuer.database_dir] = finished.issuer.database_dir
    return list(pairs.items())


def _cn(ca: CertificateAuthority) -> str:
    return ca.subject.get("CN", ca.name)


# -- abort -----------------------------------------------------------------------------------------


def abort(rotate: Rotate, force: bool) -> None:
    """Before `finish`: the old CA signs again, trust files hold it alone, the new CA is archived."""
    current = rotate.current
    folder, state = current.output_dir, read_state(current.output_dir)
    if current.rotation is None:
        what = "it is finishing: run `rotate finish` again" if state.phase == "finishing" else "none is under way"
        raise UsageError(f"no CA rotation to abort: {what}")
    bumps_intermediate = current.rotation.scope == "intermediate" or len(current.rotation.retiring) > 1
    before = State(root=state.root - (current.rotation.scope == "root"), intermediate=state.intermediate - bumps_intermediate)
    restored = rotate.load(before)
    new = leaves_under(current, rotate.openssl.command, current.issuer)
    if new and not force:
        raise RunError(
            f"{len(new)} certificate(s) were signed by the new CA ({_cn(current.issuer)}): after an abort nothing trusts it; "
            "give --force, then `openssl-recipes renew NAME…` signs them again under the old CA",
            _listed(new),
        )
    archive = archive_dir(folder, "aborted")
    if rotate.dry_run:
        commit = f"rm {ROTATION_STATE}" if before == State() else write_file(ROTATION_STATE, before.text())
        lines = [commit, f"mkdir -p -m 700 {CA_ARCHIVE}"]
        lines.append(f"mv {ROTATION_DIR} {shlex.quote(str(archive.relative_to(folder)))}")
        for line in [*lines, *_refresh_lines(restored, rotate)]:
            rotate.say(line)
        return
    values = resolve(restored.secrets())
    with _in_phase(folder, state):
        if before == State():  # the commit: a first generation's steady phase is no file at all
            (folder / ROTATION_STATE).unlink()
        else:
            workspace.write_atomically(folder / ROTATION_STATE, before.text())
        if os.path.lexists(folder / ROTATION_DIR):
            archive = archive_dir(folder, "aborted")  # (under the lock: a name nobody took meanwhile)
            archive.parent.mkdir(mode=0o700, exist_ok=True)
            os.replace(folder / ROTATION_DIR, archive)
        _refresh(restored, rotate, values)
    rotate.say(f"rotation aborted: {restored.issuer.cert_file} signs again; {restored.trust_file} trusts the old CA alone")
    rotate.say(f"the new CA is kept in {archive.relative_to(folder)}/; next: deploy {restored.trust_file} where the new one went")
    for ca in _new_in_token(current):
        rotate.say(f"its key stays in the token as {ca.token.uri}: a next `rotate start` refuses to reuse it")
    if new:
        rotate.say(f"then sign again under the old CA what the new one signed: `openssl-recipes renew {' '.join(new[:SHOWN])}`")


# -- shared ----------------------------------------------------------------------------------------


def _refresh_work(recipe: Recipe, rotate: Rotate, values: dict[str, str]) -> tuple[Plan, Work | None]:
    plan = build_plan(recipe, rotate.openssl)
    has_crl = (recipe.output_dir / CRL_FILE).exists()
    return plan, crl(recipe, rotate.openssl.command, rotate.crl_days, values) if has_crl else None


def _refresh(recipe: Recipe, rotate: Rotate, values: dict[str, str]) -> None:
    """The files that follow the phase: the trust file, and crl.pem when there is one."""
    plan, work = _refresh_work(recipe, rotate, values)
    build(plan, values, BuildOptions(only=frozenset(), quiet=True), say=lambda _: None)
    if work is not None:
        run_work(work)


def _refresh_lines(recipe: Recipe, rotate: Rotate) -> list[str]:
    plan, work = _refresh_work(recipe, rotate, {})
    trust = [step_line(step) for step in plan.steps if step.is_ca and step.kind == "bundle"]
    return trust + (work.lines() if work is not None else [])

"""`renew` and `issue`: re-issue certificates, or sign one new entry, through the build's own runner
(only those entries), printing with `--dry-run` exactly the commands they run. A renewal sets the live
files aside first and puts them back when anything fails or is interrupted."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

from ..core.children import child_environment
from ..core.errors import RunError, UsageError
from ..core.names import CONFIG_FILE_NAME
from ..core.openssl import Openssl
from ..plan.batch import narrowed
from ..plan.planner import build_plan, with_kept_key
from ..plan.script import environment_lines, step_line
from ..plan.steps import Plan, Step
from ..recipe.entries import Leaf, Role
from ..recipe.fleet import find_leaf
from ..recipe.model import Recipe
from ..recipe.secrets import resolve
from ..recipe.selection import PATTERN_CHARACTERS, select
from .backups import restore, set_aside
from .inspect import Inspector
from .runner import BuildOptions, build
from .signers import leaves_under

Say = Callable[[str], None]


def due_for_renewal(
    recipe: Recipe, openssl: str, names: list[str], within_days: int, now: dt.datetime | None = None
) -> list[tuple[Leaf, dt.datetime | None]]:
    """The named leaves (names or shell-style patterns, `selection`), whatever their expiry (naming an
    entry asks for it); without names, the leaves whose certificate expires within `within_days` (or is
    unreadable), and while a CA rotation is under way those the old CA signed."""
    now = now or dt.datetime.now(dt.UTC)
    exact = [n for n in names if not PATTERN_CHARACTERS.search(n)]
    if exact and len(exact) == len(names):  # a fleet's member found from its number, not by making every member
        leaves = [recipe.leaf(n) for n in dict.fromkeys(names)]
    else:
        leaves = select(recipe.leaves, names, lambda leaf: leaf.name, "server or client") if names else list(recipe.leaves)
    inspector = Inspector(openssl, recipe.output_dir, child_environment(recipe.secret_names()))
    old: set[str] = set()  # while a CA rotation is under way: what the old CA signed is due too
    if recipe.rotation and not names:
        old = set(leaves_under(recipe, openssl, recipe.rotation.issuer, [leaf.cert_file for leaf in leaves]))
    due = []
    for leaf in leaves:
        if not (recipe.output_dir / leaf.cert_file).exists():
            if names:  # asked for by name: say why nothing is renewed
                raise RunError(f"{leaf.cert_file} has no certificate yet to renew: `openssl-recipes build` makes it")
            continue  # not issued yet: that is `build`'s job
        dates = inspector.validity(leaf.cert_file)
        if names or dates is None or dates[1] - now <= dt.timedelta(days=within_days) or leaf.cert_file in old:
            due.append((leaf, dates[1] if dates else None))
    return due


def renew(
    recipe: Recipe, openssl: Openssl, names: list[str], within: int, rekey: bool, dry_run: bool, say: Say, warn: Say
) -> None:
    """Re-issue the named leaves, or those due within `within` days: the same key unless `rekey`."""
    due = due_for_renewal(recipe, openssl.command, names, within)
    if not due:
        under_old = " nor is signed by the old CA" if recipe.rotation else ""
        say(f"nothing to renew: no certificate expires within {within} days{under_old}")
        return
    if rekey and (on_device := [leaf.name for leaf, _ in due if leaf.device_key]):
        raise UsageError(
            f"{', '.join(on_device)}: the key is on the device; make a new request there (renew without --rekey re-signs)"
        )
    plan = build_plan(recipe, openssl)
    wanted = {leaf.name for leaf, _ in due}
    kinds = {"key", "csr", "cert", "keycert", "certs", "bundle"} if rekey else {"csr", "cert", "keycert", "certs", "bundle"}
    if dry_run:
        for line in environment_lines(recipe):
            say(line)
        for leaf, until in due:
            say(f"# {leaf.cert_file}: valid until {until:%Y-%m-%d}" if until else f"# {leaf.cert_file}: unreadable")
        for step in steps_of(plan, [leaf for leaf, _ in due]):
            if step.kind in kinds:  # (the build keeps the key unless --rekey)
                say(step_line(step if rekey or step.kind != "keycert" else with_kept_key(step)))
        return
    values = resolve(recipe.secrets())
    backups = set_aside(
        recipe.output_dir, [f for leaf, _ in due for f in ([leaf.cert_file] + ([leaf.key_file] if rekey else []))]
    )
    try:
        build(plan, values, BuildOptions(only=frozenset(wanted), quiet=True), say=lambda _line: None)
    except BaseException:  # a failed signature (wrong CA password, Ctrl-C): the live files come back
        restored = restore(recipe.output_dir, backups)
        warn(f"renew failed: {', '.join(restored) or 'nothing'} put back as before, unchanged")
        raise
    for leaf, until in due:
        was = f"{until:%Y-%m-%d}" if until else "unreadable"
        say(f"renewed {leaf.cert_file} (was valid until {was}){' with a new key' if rekey else ''}")
    warn(f"previous files kept as {', '.join(backups.values())}")


def steps_of(plan: Plan, leaves: list[Leaf]) -> Iterator[Step]:
    """The plan's steps for these leaves, as a build of them alone runs them: a batch of requests holds
    only theirs (`narrowed`)."""
    names, certs = {leaf.name for leaf in leaves}, {leaf.cert_file for leaf in leaves}
    for step in plan.steps:
        if step.kind == "certs":
            if (mine := narrowed(step, certs)) is not None:
                yield mine
        elif step.entry in names:
            yield step


def issue(recipe: Recipe, openssl: Openssl, role: Role, name: str, dry_run: bool, say: Say) -> None:
    """Sign one entry the recipe declares (a fleet's member too) with the existing CA, touching nothing else."""
    leaf = find_leaf(recipe.leaves, name)
    if leaf is None or leaf.role != role:
        raise UsageError(
            f"the recipe declares no {role} named {name!r}: add it under {role}s: in "
            f"{recipe.path} (name, subject, san…), then run `openssl-recipes issue {role} {name}`"
        )
    if not (recipe.output_dir / recipe.issuer.cert_file).exists():
        raise UsageError(f"{recipe.issuer.cert_file} does not exist: run `openssl-recipes build` first to make the CA")
    plan = build_plan(recipe, openssl)
    if dry_run:
        for line in environment_lines(recipe):
            say(line)
        for step in steps_of(plan, [leaf]):
            say(step_line(step))
        return
    report = build(plan, resolve(recipe.secrets()), BuildOptions(only=frozenset({name}), quiet=True), say=lambda _line: None)
    made = [f for f in report.made if f != CONFIG_FILE_NAME]
    say(f"issued {leaf.cert_file}" + (f" (made {', '.join(made)})" if made else " (already there: kept)"))

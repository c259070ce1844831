"""`conf --out FILE` and `--into FILE`: the brokers' blocks written into a file of the user's — a new one,
or an existing configuration whose other lines stay as they were (backup: FILE.<time>.bak) — 0600 when it
holds a key password."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..core.errors import RecipeError, RunError, UsageError
from ..core.reading import TooLarge, read_bounded
from ..recipe.model import Recipe
from ..recipe.secrets import resolve
from ..recipe.sites import Site
from ..render.conf import carries_password, insert_blocks, marker_problem, nanomq_leaves, render_conf, working_blocks
from .backups import replace_keeping_backup

MAX_CONF_BYTES = 8 * 1024 * 1024


def write_conf(
    recipe: Recipe,
    broker: str,
    blocks: tuple[str, ...],
    templates: Path | None,
    out: Path | None,
    into: Path | None,
    asked: bool,
    say: Callable[[str], None],
    warn: Callable[[str], None],
    site: Site | None = None,
    acl_file: str | None = None,
) -> None:
    """Write the rendered blocks to `out`, or insert them into `into` (one of them is given); `asked`:
    the blocks were named (`--block`), so each is written even where it cannot work on its own."""
    named = out or into
    assert named is not None
    flag = "--out" if out else "--into"
    target = _writable(named, flag)
    existing = read_marked(target, f"--into {into}", " (use --out to create one)") if into else None
    blocks = usable(recipe, broker, blocks, asked, existing, warn, site)
    secret = carries_password(recipe, blocks, broker, site)
    values = resolve(recipe.secrets(), confirm=False) if secret else {}
    text = render_conf(recipe, broker, blocks, values, templates, site, acl_file)
    if into and existing is not None:
        text = insert_blocks(existing, text)
        if text == existing:
            if secret and target.stat().st_mode & 0o777 != 0o600:
                target.chmod(0o600)
                say(f"{into}: already up to date; now mode 0600: it holds a key password")
            else:
                say(f"{into}: already up to date")
            return
    mode = 0o600 if secret else (target.stat().st_mode & 0o777 if target.exists() else 0o644)
    try:
        backup = replace_keeping_backup(target, text, mode)
    except OSError as exc:
        raise RunError(f"{flag} {named}: cannot write it: {exc.strerror}; nothing was changed") from None
    say(
        f"wrote {named}"
        + (" (mode 0600: it holds a key password)" if secret else "")
        + (f", previous version in {backup}" if backup else "")
    )


def _writable(named: Path, flag: str) -> Path:
    """The file the user named for `flag`, where it is (a link: where it points), if it can be written."""
    target = named.resolve() if named.is_symlink() else named
    if target.is_dir():
        raise UsageError(f"{flag} {target}: is a folder; give the file to write")
    if not target.parent.is_dir():
        raise UsageError(f"{flag} {target}: no folder {target.parent} to write it in")
    return target


def read_marked(path: Path, flag: str, missing: str = "") -> str:
    """A broker configuration of the user's (`conf --into`, `bundle --base`): bounded, UTF-8, and with
    markers that can be replaced safely; else UsageError naming `flag`."""
    try:
        text = read_bounded(path, MAX_CONF_BYTES).decode("utf-8")
    except TooLarge:
        raise UsageError(f"{flag}: more than {MAX_CONF_BYTES} bytes is not a broker configuration") from None
    except FileNotFoundError:
        raise UsageError(f"{flag}: no such file{missing}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{flag}: cannot read it: {exc}") from None
    if problem := marker_problem(text):
        raise UsageError(f"{flag}: {problem}; fix the markers by hand, nothing was changed")
    return text


def usable(
    recipe: Recipe,
    broker: str,
    blocks: tuple[str, ...],
    asked: bool,
    into: str | None,
    warn: Callable[[str], None],
    site: Site | None = None,
) -> tuple[str, ...]:
    """The blocks that can work (`working_blocks`), saying why one was left out; none left: exit 2."""
    kept, why = working_blocks(recipe, broker, blocks, asked, into, site)
    if why and not (nanomq_leaves(recipe, site)[0] is not None and "listener" in kept):
        raise UsageError(f"nothing to write: {why}")
    if why:
        warn(why)
    return kept


def chosen_site(recipe: Recipe, name: str | None, warn: Callable[[str], None]) -> Site | None:
    """The site `--site` names, else the first (said on stderr); None in a recipe without sites."""
    if recipe.site_entries is None:
        if name is not None:
            raise UsageError("--site: the recipe has no sites (nanomq.bridge.client names one client, not a fleet of them)")
        return None
    if name is not None:
        try:
            return recipe.site(name)
        except RecipeError as exc:
            raise UsageError(f"--site {name}: {exc.message}", exc.details) from None
    first = next(recipe.sites())
    warn(f"site {first.name}: the first of {recipe.site_entries.count} (--site NAME for another)")
    return first


def write_acl(recipe: Recipe, broker: str, acl: Path, templates: Path | None, say: Callable[[str], None]) -> str:
    """Write the cloud's access rules (`render.acl`) to `acl`; its absolute path, for the configuration."""
    from ..render.acl import render_acl

    text = render_acl(recipe, broker, templates)
    target = _writable(acl, "--acl")
    try:
        if read_bounded(target, MAX_CONF_BYTES * 8).decode("utf-8") == text:
            say(f"{acl}: already up to date")
            return str(target.absolute())
    except (OSError, UnicodeDecodeError, TooLarge):
        pass
    try:
        backup = replace_keeping_backup(target, text, 0o644)
    except OSError as exc:
        raise RunError(f"--acl {acl}: cannot write it: {exc.strerror}; nothing was changed") from None
    say(f"wrote {acl}" + (f", previous version in {backup}" if backup else ""))
    return str(target.absolute())

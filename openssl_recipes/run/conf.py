"""`conf --out FILE` and `--into FILE`: the brokers' blocks written into a file of the user's — a new one,
or an existing configuration whose other lines stay as they were (backup: FILE.bak) — 0600 when it
holds a key password."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from ..core.errors import UsageError
from ..recipe.model import Recipe
from ..recipe.secrets import resolve
from ..render.conf import carries_password, insert_blocks, render_conf
from .workspace import write_atomically


def write_conf(
    recipe: Recipe,
    broker: str,
    blocks: tuple[str, ...],
    templates: Path | None,
    out: Path | None,
    into: Path | None,
    say: Callable[[str], None],
) -> None:
    """Write the rendered blocks to `out`, or insert them into `into` (one of them is given)."""
    secret = carries_password(recipe, blocks)
    text = render_conf(recipe, broker, blocks, resolve(recipe.secrets(), confirm=False) if secret else {}, templates)
    target = out or into
    assert target is not None
    if into:
        try:
            existing = into.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UsageError(f"--into {into}: no such file (use --out to create one)") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"--into {into}: cannot read it: {exc}") from None
        text = insert_blocks(existing, text)
        if text == existing:
            if secret and into.stat().st_mode & 0o777 != 0o600:
                into.chmod(0o600)
                say(f"{into}: already up to date; now mode 0600: it holds a key password")
            else:
                say(f"{into}: already up to date")
            return
        shutil.copy2(into, into.with_name(into.name + ".bak"))
    mode = 0o600 if secret else (target.stat().st_mode & 0o777 if target.exists() else 0o644)
    write_atomically(target, text, mode)
    say(
        f"wrote {target}"
        + (" (mode 0600: it holds a key password)" if secret else "")
        + (f", previous version in {into.name}.bak" if into else "")
    )

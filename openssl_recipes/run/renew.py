"""`renew`: which certificates are due (expiring within a number of days, or named)."""

from __future__ import annotations

import datetime as dt

from ..core.children import child_environment
from ..recipe.entries import Leaf
from ..recipe.model import Recipe
from .inspect import Inspector


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

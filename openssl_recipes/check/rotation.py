"""A CA rotation as the checks tell it (`verify`, `show --tree`): the phase, how many leaves each CA
signs, and the step that comes next."""

from __future__ import annotations

from ..recipe.model import Recipe
from ..recipe.rotation import describe


def phase(recipe: Recipe, old: set[str]) -> list[str]:
    """The phase's lines; `old`: the leaves the retiring CA signed (the rest are the new one's)."""
    lines = describe(recipe)
    if recipe.rotation is None:
        return lines
    present = [leaf.cert_file for leaf in recipe.leaves if (recipe.output_dir / leaf.cert_file).exists()]
    under_old = [name for name in present if name in old]
    lines.append(f"{len(present) - len(under_old)} certificate(s) under the new CA, {len(under_old)} under the old")
    lines.append(f"next: {next_step(recipe, under_old)}")
    return lines


def next_step(recipe: Recipe, under_old: list[str]) -> str:
    if recipe.rotation is None:
        return "nothing to do"
    if not under_old:
        return f"`openssl-recipes rotate finish` (with {recipe.trust_file} deployed everywhere first)"
    shown = " ".join(under_old[:5]) + (" …" if len(under_old) > 5 else "")
    return f"deploy {recipe.trust_file} everywhere, then renew what the old CA signed, servers first: {shown}"

"""`handshake`: every live case on 127.0.0.1 — Python's strict TLS (`handshake`) and, when asked, the
user's own NanoMQ with the rendered blocks (`nanomq.handshake`) — each a `Case` with its verdict."""

from __future__ import annotations

import tempfile
from pathlib import Path

from ..core.errors import UsageError
from ..recipe.model import Recipe
from ..recipe.secrets import resolve
from ..recipe.sites import Site
from .handshake import Case, foreign_client, run_handshakes


def live_cases(recipe: Recipe, openssl: str, timeout: float, nanomq: str | None, site: Site | None = None) -> list[Case]:
    """The cases for the built PKI; `nanomq`: the NanoMQ binary to try too (in a recipe with sites, with
    `site`'s blocks)."""
    if not recipe.servers:
        raise UsageError("the recipe has no servers: nothing to serve")
    missing = [leaf.cert_file for leaf in recipe.leaves if not (recipe.output_dir / leaf.cert_file).exists()]
    if missing:
        raise UsageError(f"{', '.join(missing)} missing in {recipe.output_dir}: run `openssl-recipes build` first")
    secret_values = resolve(recipe.secrets(), confirm=False)
    cases = run_handshakes(recipe, secret_values, openssl, timeout)
    if nanomq is not None:
        from .nanomq.handshake import run_nanomq_cases

        with tempfile.TemporaryDirectory(prefix="openssl-recipes-foreign-") as scratch:
            cases += run_nanomq_cases(
                recipe,
                secret_values,
                nanomq,
                foreign_client(Path(scratch), openssl, frozenset(recipe.secret_names())),
                timeout,
                site,
            )
    return cases

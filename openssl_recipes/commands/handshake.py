"""`openssl-recipes handshake`: live two-way TLS checks on 127.0.0.1, no broker needed."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import DEFAULT_RECIPE, OpensslOption, OutOption, RecipeOption, err, find_openssl, handle_errors, load, say


def register(app: typer.Typer) -> None:
    @app.command(
        "handshake", epilog="Examples: `openssl-recipes handshake`; `openssl-recipes handshake --nanomq /usr/local/bin/nanomq`."
    )
    @handle_errors
    def handshake_command(
        recipe_file: RecipeOption = DEFAULT_RECIPE,
        out: OutOption = None,
        openssl: OpensslOption = None,
        timeout: Annotated[
            float, typer.Option("--timeout", metavar="SECONDS", min=0.1, max=3600, help="Seconds for each connection.")
        ] = 10.0,
        nanomq: Annotated[
            bool,
            typer.Option(
                "--nanomq",
                help="Also start your NanoMQ (BINARY, else $NANOMQ, else `nanomq` on PATH) on 127.0.0.1 with the blocks "
                "`conf nanomq` renders, and try its listener and bridge with the recipe's certificates.",
            ),
        ] = False,
        site: Annotated[
            str | None,
            typer.Option(
                "--site",
                metavar="NAME",
                help="With --nanomq, in a recipe with sites: the site whose blocks NanoMQ runs (default: the first).",
            ),
        ] = None,
        binary_path: Annotated[
            str | None, typer.Argument(metavar="BINARY", help="With --nanomq: the NanoMQ to start.", show_default=False)
        ] = None,
    ) -> int:
        """Serve each server certificate with Python's strict TLS and connect with each client
        certificate (by every name and address), without one, and with a foreign one."""
        from ..check.live import live_cases
        from ..core.errors import UsageError

        if binary_path is not None and not nanomq:
            raise UsageError(f"{binary_path!r}: a NanoMQ binary is given with --nanomq (handshake --nanomq {binary_path})")
        if site is not None and not nanomq:
            raise UsageError("--site: a site is tried in NanoMQ: give --nanomq too")
        recipe = load(recipe_file, out, warn=False)
        from ..run.conf import chosen_site

        chosen = chosen_site(recipe, site, err) if nanomq else None
        binary = None
        if nanomq:
            from ..check.nanomq.broker import find_nanomq

            binary = find_nanomq(binary_path)
            if binary is None:
                where = repr(binary_path) if binary_path else "$NANOMQ or `nanomq` on PATH"
                raise UsageError(f"--nanomq: no NanoMQ found at {where}; give its path: --nanomq /path/to/nanomq")
        cases = live_cases(recipe, find_openssl(openssl, recipe).command, timeout, binary, chosen)
        for case in cases:
            say(case.line())
        failed = sum(not case.ok for case in cases)
        say(f"{len(cases) - failed} of {len(cases)} cases as expected" + (f", {failed} not" if failed else ""))
        return 1 if failed else 0

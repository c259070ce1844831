"""`openssl-recipes bundle`: one folder (or .tar.gz) per edge site, to copy onto the site's root."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import DEFAULT_RECIPE, RecipeOption, TemplatesOption, err, handle_errors, load, say


def register(app: typer.Typer) -> None:
    @app.command(
        "bundle",
        epilog="Examples: `openssl-recipes bundle`; `openssl-recipes bundle --only 'site-0[0-4]*' --archive`; "
        "`openssl-recipes bundle --playbook deploy/`.",
    )
    @handle_errors
    def bundle_command(
        recipe_file: RecipeOption = DEFAULT_RECIPE,
        out: Annotated[
            Path | None,
            typer.Option("--out", "-o", metavar="DIR", help="Where the bundles go (default: bundles/ beside the recipe)."),
        ] = None,
        only: Annotated[
            list[str] | None,
            typer.Option(
                "--only",
                metavar="NAME",
                help="Only these sites: names or shell-style patterns such as 'site-0[0-4]*' (repeat it).",
            ),
        ] = None,
        base: Annotated[
            Path | None,
            typer.Option(
                "--base",
                metavar="FILE",
                help="Your own nanomq.conf: each site's blocks are put into a copy of it (default: a minimal one).",
            ),
        ] = None,
        conf_path: Annotated[
            str, typer.Option("--conf-path", metavar="PATH", help="Where nanomq.conf goes on a site.")
        ] = "/etc/nanomq.conf",
        archive: Annotated[
            bool, typer.Option("--archive", help="Write <site>.tar.gz (the same bytes for the same files) instead of a folder.")
        ] = False,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be written; write nothing.")] = False,
        playbook: Annotated[
            Path | None,
            typer.Option("--playbook", metavar="DIR", help="Also copy the Ansible playbook that installs the bundles into DIR."),
        ] = None,
        templates: TemplatesOption = None,
    ) -> int:
        """Write each site's bundle: its key (0600), certificate and CA file under nanomq.cert_dir and its
        whole nanomq.conf, laid out from the site's root (copy <site>/ onto / to install it). A site whose
        files are unchanged is not written again; a changed one is rewritten whole, its previous version
        kept as <site>.<time>.bak."""
        from ..run.bundle import BundleOptions, bundle
        from ..run.playbook import copy_playbook

        recipe = load(recipe_file)
        folder = out if out is not None else recipe.path.parent / "bundles"
        options = BundleOptions(folder, tuple(only or ()), base, conf_path, archive, dry_run, templates)
        bundle(recipe, options, say, err)
        if playbook is not None and not dry_run:
            copy_playbook(playbook, say)
        return 0

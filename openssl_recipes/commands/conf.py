"""`openssl-recipes conf nanomq|mosquitto|emqx`: the brokers' TLS settings from the same recipe."""

from __future__ import annotations

import shutil
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from .common import DEFAULT_RECIPE, RecipeOption, TemplatesOption, handle_errors, load


class Broker(StrEnum):
    nanomq = "nanomq"
    mosquitto = "mosquitto"
    emqx = "emqx"


class Block(StrEnum):
    all = "all"
    listener = "listener"
    bridge = "bridge"


def register(app: typer.Typer) -> None:
    @app.command(
        "conf",
        epilog="Examples: `openssl-recipes conf nanomq --out nanomq-tls.conf`; `openssl-recipes conf mosquitto --block listener`.",
    )
    @handle_errors
    def conf_command(
        broker: Annotated[Broker, typer.Argument(help="Which broker's configuration to render.")],
        recipe_file: RecipeOption = DEFAULT_RECIPE,
        certs: Annotated[
            Path | None,
            typer.Option(
                "--certs",
                help="The certificates' folder (default: the recipe's `output`); the rendered paths use nanomq.cert_dir when the recipe sets it.",
            ),
        ] = None,
        templates: TemplatesOption = None,
        block: Annotated[Block, typer.Option("--block", help="Render only the listener or only the bridge.")] = Block.all,
        out: Annotated[
            Path | None, typer.Option("--out", "-o", help="Write the blocks to this file (0600 when it holds a password).")
        ] = None,
        into: Annotated[
            Path | None,
            typer.Option("--into", help="Insert or replace the blocks in this existing configuration file (backup: FILE.bak)."),
        ] = None,
    ) -> int:
        """Render the TLS listener (server certificate, two-way when the recipe has clients) and the
        bridge (client certificate) for NanoMQ (HOCON), mosquitto or EMQX 5, with absolute paths."""
        from ..core.errors import UsageError
        from ..recipe.secrets import resolve
        from ..render.conf import carries_password, insert_blocks, render_conf
        from ..run.workspace import write_atomically

        recipe = load(recipe_file, certs, warn=False)
        blocks = ("listener", "bridge") if block is Block.all else (block.value,)
        if out and into:
            raise UsageError("give --out FILE or --into FILE, not both")
        if not out and not into:
            typer.echo(render_conf(recipe, broker.value, blocks, None, templates), nl=False)
            return 0
        secret = carries_password(recipe, blocks)
        text = render_conf(recipe, broker.value, blocks, resolve(recipe.secrets(), confirm=False) if secret else {}, templates)
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
                    typer.echo(f"{into}: already up to date; now mode 0600: it holds a key password")
                else:
                    typer.echo(f"{into}: already up to date")
                return 0
            shutil.copy2(into, into.with_name(into.name + ".bak"))
        mode = 0o600 if secret else (target.stat().st_mode & 0o777 if target.exists() else 0o644)
        write_atomically(target, text, mode)
        typer.echo(
            f"wrote {target}"
            + (" (mode 0600: it holds a key password)" if secret else "")
            + (f", previous version in {into.name}.bak" if into else "")
        )
        return 0

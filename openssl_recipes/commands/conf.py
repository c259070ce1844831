"""`openssl-recipes conf nanomq|mosquitto|emqx`: the brokers' TLS settings from the same recipe."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from .common import DEFAULT_RECIPE, RecipeOption, TemplatesOption, err, handle_errors, load, say


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
        broker: Annotated[
            Broker, typer.Argument(metavar="BROKER", help="Which broker's configuration to render: nanomq, mosquitto or emqx.")
        ],
        recipe_file: RecipeOption = DEFAULT_RECIPE,
        certs: Annotated[
            Path | None,
            typer.Option(
                "--certs",
                metavar="DIR",
                help="The certificates' folder (default: the recipe's `output`); the rendered paths use nanomq.cert_dir when the recipe sets it.",
            ),
        ] = None,
        templates: TemplatesOption = None,
        block: Annotated[Block, typer.Option("--block", help="Render only the listener or only the bridge.")] = Block.all,
        out: Annotated[
            Path | None,
            typer.Option("--out", "-o", metavar="FILE", help="Write the blocks to this file (0600 when it holds a password)."),
        ] = None,
        into: Annotated[
            Path | None,
            typer.Option(
                "--into",
                metavar="FILE",
                help="Insert or replace the blocks in this existing configuration file (backup: FILE.bak).",
            ),
        ] = None,
    ) -> int:
        """Render the TLS listener (server certificate, two-way when the recipe has clients) and the
        bridge (client certificate) for NanoMQ (HOCON), mosquitto or EMQX 5, with absolute paths."""
        from ..core.errors import UsageError
        from ..render.conf import render_conf
        from ..run.conf import usable, write_conf

        if out and into:
            raise UsageError("give --out FILE or --into FILE, not both")
        recipe = load(recipe_file, certs, warn=False)
        blocks = ("listener", "bridge") if block is Block.all else (block.value,)
        asked = block is not Block.all
        if out or into:
            write_conf(recipe, broker.value, blocks, templates, out, into, asked, say, err)
        else:  # on stdout a password is a comment: it is written only into files
            blocks = usable(recipe, broker.value, blocks, asked, None, err)
            say(render_conf(recipe, broker.value, blocks, None, templates), nl=False)
        return 0

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
        site: Annotated[
            str | None,
            typer.Option(
                "--site",
                metavar="NAME",
                help="In a recipe with sites: the site whose NanoMQ blocks to render (default: the first).",
            ),
        ] = None,
        acl: Annotated[
            Path | None,
            typer.Option(
                "--acl",
                metavar="FILE",
                help="mosquitto, emqx, in a recipe with sites: write the access rules (each site its own topics) to FILE, and name it in the configuration.",
            ),
        ] = None,
    ) -> int:
        """Render the TLS listener (server certificate, two-way when the recipe has clients) and the
        bridge (client certificate) for NanoMQ (HOCON), mosquitto or EMQX 5, with absolute paths."""
        from ..core.errors import UsageError
        from ..render.conf import render_conf
        from ..run.conf import chosen_site, usable, write_acl, write_conf

        if out and into:
            raise UsageError("give --out FILE or --into FILE, not both")
        if site is not None and broker is not Broker.nanomq:
            raise UsageError(f"--site: the sites are NanoMQ's; {broker.value} is the cloud they bridge to (leave --site out)")
        if acl is not None and broker is Broker.nanomq:
            raise UsageError("--acl: the access rules are the cloud broker's: conf mosquitto --acl FILE or conf emqx --acl FILE")
        recipe = load(recipe_file, certs, warn=False)
        chosen = chosen_site(recipe, site, err) if broker is Broker.nanomq else None
        blocks = ("listener", "bridge") if block is Block.all else (block.value,)
        asked = block is not Block.all
        tell = say if out or into else err  # the configuration itself may be what goes to stdout
        acl_file = write_acl(recipe, broker.value, acl, templates, tell) if acl is not None else None
        if out or into:
            write_conf(recipe, broker.value, blocks, templates, out, into, asked, say, err, chosen, acl_file)
        else:  # on stdout a password is a comment: it is written only into files
            blocks = usable(recipe, broker.value, blocks, asked, None, err, chosen)
            say(render_conf(recipe, broker.value, blocks, None, templates, chosen, acl_file), nl=False)
        return 0

"""The command line: a typer app whose subcommands live in `commands/`, one module each."""

from __future__ import annotations

import typer

from .commands import build, clean, conf, handshake, init, lifecycle, plan, schema, sign, verify

app = typer.Typer(
    name="openssl-recipes",
    help="Certificates for one-way and two-way (mutual) TLS on MQTT brokers, from one recipes.yaml: "
    "plan shows the openssl commands, build runs them.",
    add_completion=True,  # --install-completion / --show-completion; entry names complete (commands.common)
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

for command in (init, plan, build, verify, handshake, conf, lifecycle, sign, clean, schema):
    command.register(app)


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM stops a build like Ctrl-C: children stopped, partial files removed


def main(argv: list[str] | None = None) -> int:
    """Entry point for the console script, `python -m openssl_recipes`, and tests (in-process)."""
    import os
    import signal

    signal.signal(signal.SIGTERM, _terminate)
    # The recipe schema uses no pydantic plugin; looking for them scans every installed package's
    # metadata (~6 ms of each start-up, measured).
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    try:
        app(args=argv, prog_name="openssl-recipes", standalone_mode=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0

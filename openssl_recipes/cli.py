"""The command line: a typer app whose subcommands live in `commands/`, one module each.

The subcommands are loaded lazily: `openssl-recipes plan` imports and converts only `plan` (typer
builds a pydantic adapter for every option of every command it converts, ~40 ms for all fifteen);
`--help` and completion of command names read each command's docstring without converting it.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from typing import Annotated, Any

import typer
from typer.completion import completion_init, install_callback, show_callback
from typer.core import TyperCommand, TyperGroup

from .commands import COMMAND_MODULES
from .core.interrupt import EXIT_INTERRUPTED, new_run
from .core.interrupt import say as say_interrupted


def registered(module_name: str) -> typer.Typer:
    """A typer app holding just the commands one module of `commands/` registers (not converted)."""
    module = importlib.import_module(f"{__package__}.commands.{module_name}")
    holder = typer.Typer(rich_markup_mode=None, pretty_exceptions_enable=False)
    module.register(holder)
    return holder


class CommandTable(MutableMapping[str, Any]):
    """`TyperGroup.commands`, filled on first use: a command is imported and converted to click when
    it is looked up, never just because another one runs."""

    def __init__(self) -> None:
        self.converted: dict[str, Any] = {}
        self.apps: dict[str, typer.Typer] = {}

    def info(self, name: str) -> Any:
        module_name = COMMAND_MODULES[name]
        if module_name not in self.apps:
            self.apps[module_name] = registered(module_name)
        return next(info for info in self.apps[module_name].registered_commands if info.name == name)

    def outline(self, name: str) -> TyperCommand:
        """The command as `--help` lists it: name, help and hidden flag, no options converted."""
        info = self.info(name)
        import inspect

        return TyperCommand(name, help=info.help or inspect.getdoc(info.callback), hidden=info.hidden)

    def __getitem__(self, name: str) -> Any:
        if name not in self.converted:
            if name not in COMMAND_MODULES:
                raise KeyError(name)
            single = typer.Typer(rich_markup_mode=None, pretty_exceptions_enable=False, add_completion=False)
            single.registered_commands = [self.info(name)]
            self.converted[name] = _words_for_arguments(typer.main.get_command(single))
        return self.converted[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self.converted[name] = command

    def __delitem__(self, name: str) -> None:
        raise TypeError("the command table is fixed")

    def __iter__(self) -> Iterator[str]:
        return iter(COMMAND_MODULES)

    def __len__(self) -> int:
        return len(COMMAND_MODULES)

    def __contains__(self, name: object) -> bool:
        return name in COMMAND_MODULES


def _words_for_arguments(command: Any) -> Any:
    """An argument's help shows its word (NAME, FILE) alone: typer 0.29 writes its Python type beside it
    (`name <str>`), which tells a reader nothing."""
    for param in command.params:
        if param.param_type_name == "argument" and param.metavar:
            param.display_type_rich = lambda ctx: None
    return command


class LazyCommands(TyperGroup):
    """The top-level group: its listing (help, completion of names) uses outlines."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = CommandTable()

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)
        if option is not None and option.default is None:
            option.default = False  # a bool, which typer does not coerce (through pydantic) on every Tab
        return option

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMAND_MODULES)  # TyperGroup's reads the table's items, converting every command

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        table = self.commands
        rows = [(name, table.outline(name)) for name in self.list_commands(ctx)]
        rows = [(name, command) for name, command in rows if not command.hidden]
        if rows:
            limit = formatter.width - 6 - max(len(name) for name, _ in rows)
            with formatter.section("Commands"):
                formatter.write_dl([(name, command.get_short_help_str(limit)) for name, command in rows])

    def shell_complete(self, ctx: Any, incomplete: str) -> list[Any]:
        from typer.core import CompletionItem

        table = self.commands
        names = [name for name in self.list_commands(ctx) if name.startswith(incomplete)]
        outlines = [(name, table.outline(name)) for name in names]
        found = [CompletionItem(name, help=c.get_short_help_str()) for name, c in outlines if not c.hidden]
        return found + TyperCommand.shell_complete(self, ctx, incomplete)


app = typer.Typer(
    name="openssl-recipes",
    cls=LazyCommands,
    help="Certificates for one-way and two-way (mutual) TLS on MQTT brokers, from one recipes.yaml: "
    "plan shows the openssl commands, build runs them.",
    add_completion=False,  # typer's own pair defaults to None, which costs a pydantic import per Tab: see below
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


completion_init()  # the shells typer completes for (what add_completion=True would register)


def _version(value: bool) -> None:
    if value:
        from . import __version__

        typer.echo(f"openssl-recipes {__version__}")
        raise typer.Exit()


@app.callback()
def _top_level(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, expose_value=False, help="Print the version and exit."),
    ] = False,
    install_completion: Annotated[
        bool,
        typer.Option(
            "--install-completion",
            callback=install_callback,
            expose_value=False,
            help="Install completion for the current shell.",
        ),
    ] = False,
    show_completion: Annotated[
        bool,
        typer.Option(
            "--show-completion",
            callback=show_callback,
            expose_value=False,
            help="Show completion for the current shell, to copy it or customize the installation.",
        ),
    ] = False,
) -> None:
    """The commands are in `COMMAND_MODULES`, loaded when used. Typer's completion options, declared
    with a bool default: typer coerces a None through a pydantic adapter, and completion parses these
    on every Tab (measured: 0.40 s → 0.2 s for a command name)."""


def main(argv: list[str] | None = None) -> int:
    """Run the typer app (after `entry.main`, which sets up signals and starts build's head start;
    tests call it in-process)."""
    new_run()
    try:
        app(args=argv, prog_name="openssl-recipes", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if code == EXIT_INTERRUPTED:
            say_interrupted()  # typer exits 130 without a word when Ctrl-C comes before the command runs
        return code
    return 0

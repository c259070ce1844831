"""What every subcommand shares: the options that name the recipe and openssl, and the one place
that turns errors into messages and exit codes (never a traceback for a user's mistake)."""

from __future__ import annotations

import errno
import functools
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Callable, TypeVar

import typer

from ..core import output
from ..core.errors import EXIT_INTERRUPTED, ChildrenStopped, RecipesError
from ..core.interrupt import interrupted_by
from ..core.interrupt import say as say_interrupted
from ..core.names import DEFAULT_RECIPE_FILE

if TYPE_CHECKING:
    from ..core.openssl import Openssl
    from ..recipe.model import Recipe

RecipeOption = Annotated[Path, typer.Option("--recipe", "-r", metavar="FILE", help="The recipe file.", show_default=True)]
OutOption = Annotated[  # text, not a Path: typer would read '' as '.', the current folder
    str | None,
    typer.Option("--out", "-o", metavar="DIR", help="Output folder (default: the recipe's `output`, relative to the recipe)."),
]
OpensslOption = Annotated[
    str | None, typer.Option("--openssl", metavar="PATH", help="The openssl to run (default: $OPENSSL, else `openssl` on PATH).")
]
TemplatesOption = Annotated[
    Path | None, typer.Option("--templates", metavar="DIR", help="A folder of templates that override the built-in ones.")
]
DEFAULT_RECIPE = Path(DEFAULT_RECIPE_FILE)

F = TypeVar("F", bound=Callable[..., Any])


def err(line: str) -> None:
    print(line, file=sys.stderr)


def say(text: str, nl: bool = True) -> bool:
    """Print to stdout; False once it cannot take more (`core.output`: a reader that went away, a full
    disk): the work goes on (a command whose only work is printing, such as `plan`, may stop there)."""
    sys.stdout.write(text + ("\n" if nl else ""))
    sys.stdout.flush()
    return not output.reader_left()


_BAD_PATH = {errno.ENAMETOOLONG, errno.ENOTDIR, errno.ELOOP, errno.EISDIR, errno.ENOENT, errno.EEXIST, errno.EINVAL}


def handle_errors(command: F) -> F:
    """Run a command body; map our errors to their exit codes, Ctrl-C to 130, bugs to 3."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            code = command(*args, **kwargs)
            sys.stdout.flush()  # a failure of standard output is known before the exit code
        except RecipesError as exc:
            for line in exc.lines():
                err(line if line.startswith("  ") else f"error: {line}")
            raise typer.Exit(exc.exit_code) from None
        except (KeyboardInterrupt, ChildrenStopped) as exc:
            say_interrupted(str(exc))
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except typer.Exit:
            raise
        except OSError as exc:  # the file system said no, to a path a user gave or a disk's state
            if os.environ.get("OPENSSL_RECIPES_DEBUG"):
                raise
            where = f": {exc.filename}" if exc.filename else ""
            err(f"error: {exc.strerror or exc}{where}; nothing more was done")
            raise typer.Exit(2 if exc.errno in _BAD_PATH else 1) from None
        except Exception as exc:  # a bug: say so in one line, the traceback only on request
            if interrupted_by(exc):  # an interrupt while a class was being made (Python 3.11 wraps it)
                say_interrupted()
                raise typer.Exit(EXIT_INTERRUPTED) from None
            if os.environ.get("OPENSSL_RECIPES_DEBUG"):
                raise
            err(f"internal error (a bug in openssl-recipes, please report it): {type(exc).__name__}: {exc}")
            err("  set OPENSSL_RECIPES_DEBUG=1 to see the traceback")
            raise typer.Exit(3) from None
        raise typer.Exit(code or (1 if output.failed() else 0))

    return wrapper  # type: ignore[return-value]


def load(recipe_file: Path, out: str | Path | None = None, warn: bool = True) -> Recipe:
    from ..core.errors import UsageError
    from ..recipe.load import load_recipe

    if out is not None and not str(out).strip():
        raise UsageError("--out: give a folder (an empty one would mean the current folder)")
    recipe = load_recipe(recipe_file, Path(out) if out is not None else None)
    os.environ.update(recipe.environment)  # what `plan` exports first (a token's module): the tool and every child
    if warn:
        for warning in recipe.warnings:
            err(f"warning: {warning}")
    return recipe


def find_openssl(explicit: str | None, recipe: Recipe, probe: bool = True, hidden: frozenset[str] = frozenset()) -> Openssl:
    """The openssl to run, probed (`openssl version`) without any of the recipe's password variables
    (nor the `hidden` ones a command adds, e.g. export's --password-env)."""
    from ..core.openssl import Openssl, command_name
    from ..core.openssl import probe as run_probe

    name = command_name(explicit)
    return run_probe(name, {*recipe.secret_names(), *hidden}) if probe else Openssl(name)


def entry_names(ctx: typer.Context, incomplete: str) -> list[str]:
    """Shell completion: the names of the recipe's entries (the --recipe given so far, else recipes.yaml),
    read without validating it (startup.peek); the CAs only for the commands that take them (show)."""
    from ..startup.completion import SHOWS_AUTHORITIES
    from ..startup.peek import entry_names as read_names

    try:
        names = read_names(Path(ctx.params.get("recipe_file") or DEFAULT_RECIPE), ctx.info_name in SHOWS_AUTHORITIES)
    except Exception:  # noqa: BLE001 - completion never prints an error into the user's shell
        return []
    return [name for name in names if name.startswith(incomplete)]

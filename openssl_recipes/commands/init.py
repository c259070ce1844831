"""`openssl-recipes init`: a commented recipes.yaml for a scenario, from the facts a user knows."""

from __future__ import annotations

import shlex
import sys
from typing import Annotated

import typer

from .common import DEFAULT_RECIPE, RecipeOption, err, handle_errors, say


def register(app: typer.Typer) -> None:
    @app.command(
        "init",
        epilog="Examples: `openssl-recipes init two-way --server broker.local --server 10.0.0.5 --client sensor-1`; `openssl-recipes init bridge --remote cloud.example.com:8883`.",
    )
    @handle_errors
    def init_command(
        scenario: Annotated[
            str | None,
            typer.Argument(
                metavar="SCENARIO", help="two-way, one-way, fleet, bridge or sites (asked on a terminal when left out)."
            ),
        ] = None,
        recipe_file: RecipeOption = DEFAULT_RECIPE,
        server: Annotated[
            list[str] | None,
            typer.Option(
                "--server",
                metavar="NAME",
                help="A name or address clients use to reach the broker (repeat; the first is the CN).",
            ),
        ] = None,
        client: Annotated[list[str] | None, typer.Option("--client", metavar="NAME", help="A client's name (repeat).")] = None,
        count: Annotated[int, typer.Option("--count", metavar="N", help="fleet, sites: how many devices or sites.")] = 10,
        pattern: Annotated[
            str | None,
            typer.Option(
                "--pattern",
                metavar="PATTERN",
                help="fleet, sites: their names, with the number (default: device-{n:04d}, site-{n:03d}).",
            ),
        ] = None,
        remote: Annotated[
            str | None,
            typer.Option("--remote", metavar="HOST[:PORT]", help="bridge, sites: the remote (cloud) broker, HOST[:PORT]."),
        ] = None,
        key_type: Annotated[
            str | None,
            typer.Option("--key-type", metavar="TYPE", help="rsa or ec (default: ec for a fleet or sites, else rsa)."),
        ] = None,
        password_env: Annotated[
            str | None,
            typer.Option("--password-env", metavar="VAR", help="Encrypt the CA key with the password in this variable."),
        ] = None,
        hsm: Annotated[
            str | None,
            typer.Option(
                "--hsm",
                metavar="URI",
                help="The CA key in a PKCS#11 token, e.g. 'pkcs11:token=ca;object=root' (its PIN: --password-env, default CA_PIN).",
            ),
        ] = None,
        force: Annotated[bool, typer.Option("--force", help="Replace an existing recipe (kept as FILE.<time>.bak).")] = False,
    ) -> int:
        """Write a commented recipes.yaml for a scenario; it passes plan, build, verify and handshake as
        written, and tells editors where its JSON Schema is."""
        from ..core.errors import UsageError
        from ..render.init import SCENARIOS, Facts, check, recipe_text
        from ..run.init import write_recipe

        if scenario is None:
            if not sys.stdin.isatty():
                raise UsageError(f"give a scenario ({', '.join(SCENARIOS)}) and its options; only a terminal is asked")
            scenario, server, client, count, pattern, remote = _ask(server, client, count, pattern, remote)
        kind = key_type or ("ec" if scenario in ("fleet", "sites") else "rsa")
        facts = Facts(scenario, list(server or []), list(client or []), count, pattern, remote, kind, password_env, hsm)
        text = recipe_text(facts)
        check(text, recipe_file.resolve())
        write_recipe(recipe_file, text, force, say, err)
        given = "" if recipe_file == DEFAULT_RECIPE else f" --recipe {shlex.quote(str(recipe_file))}"
        after = f"`openssl-recipes bundle{given}`" if scenario == "sites" else f"`openssl-recipes conf nanomq{given}`"
        say(f"next: `openssl-recipes build{given}`, then {after}")
        return 0


def _ask(
    server: list[str] | None, client: list[str] | None, count: int, pattern: str | None, remote: str | None
) -> tuple[str, list[str], list[str], int, str | None, str | None]:
    """The scenario and its facts, asked one by one on the terminal."""
    from ..render.init import SCENARIOS

    scenario = ""
    while scenario not in SCENARIOS:
        scenario = typer.prompt(f"Scenario ({', '.join(SCENARIOS)})", default="two-way").strip()
    if scenario in ("bridge", "sites"):
        remote = typer.prompt("Remote broker (HOST[:PORT])", default=remote or "broker.example.com:8883")
    words = lambda text: [word for word in text.replace(",", " ").split() if word]  # noqa: E731
    default_servers = " ".join(server or ([remote.rsplit(":", 1)[0]] if remote else ["localhost", "127.0.0.1"]))
    server = words(typer.prompt("Names and addresses clients use for the broker", default=default_servers))
    if scenario in ("two-way", "bridge"):
        client = words(typer.prompt("Client names", default=" ".join(client or (["bridge"] if remote else ["client"]))))
    if scenario in ("fleet", "sites"):
        from ..render.init import DEFAULT_PATTERNS

        count = typer.prompt("How many devices" if scenario == "fleet" else "How many sites", default=count, type=int)
        pattern = typer.prompt(
            "Device names" if scenario == "fleet" else "Site names", default=pattern or DEFAULT_PATTERNS[scenario]
        )
    return scenario, server, client or [], count, pattern, remote

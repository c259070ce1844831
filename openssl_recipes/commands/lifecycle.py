"""Life after day one: `show`, `export`, `issue`, `renew`, `revoke`, `crl`. Each command that runs
openssl takes `--dry-run`, which prints exactly the commands it would run."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from ..core.keys import MAX_DAYS
from .common import (
    DEFAULT_RECIPE,
    OpensslOption,
    OutOption,
    RecipeOption,
    entry_names,
    err,
    find_openssl,
    handle_errors,
    load,
    say,
)

DryRun = Annotated[bool, typer.Option("--dry-run", help="Print the commands instead of running them.")]


class Role(StrEnum):
    client = "client"
    server = "server"


class Reason(StrEnum):
    unspecified = "unspecified"
    keyCompromise = "keyCompromise"
    superseded = "superseded"
    cessationOfOperation = "cessationOfOperation"
    affiliationChanged = "affiliationChanged"


def _perform(work, dry_run: bool) -> None:  # noqa: ANN001 - lifecycle.Work, imported lazily
    if dry_run:
        for line in work.lines():
            say(line)
    else:
        from ..run.execute import run_work

        run_work(work)


def register(app: typer.Typer) -> None:
    @app.command("show", epilog="Examples: `openssl-recipes show`; `openssl-recipes show server`; `openssl-recipes show --tree`.")
    @handle_errors
    def show_command(
        names: Annotated[
            list[str] | None, typer.Argument(metavar="NAME", help="Entries to show (default: all).", autocompletion=entry_names)
        ] = None,
        recipe_file: RecipeOption = DEFAULT_RECIPE,
        out: OutOption = None,
        openssl: OpensslOption = None,
        tree: Annotated[bool, typer.Option("--tree", help="The PKI as a tree: CA → intermediate → servers and clients.")] = False,
        show_all: Annotated[bool, typer.Option("--all", help="With --tree: every member of a fleet, not one node.")] = False,
    ) -> int:
        """A readable summary of each certificate on disk: subject, issuer, SANs, key, serial, validity
        and days left, SHA-256 fingerprint; or (--tree) the PKI as a tree with each certificate's key,
        days left and whether it verifies against its CA."""
        if tree and names:
            from ..core.errors import UsageError

            raise UsageError(f"show --tree draws the whole PKI: give {' '.join(names)} without --tree")
        recipe = load(recipe_file, out, warn=False)
        if tree:
            import sys

            from rich.console import Console

            from ..check.tree import pki_tree

            wide = None if sys.stdout.isatty() else 1000  # a pipe or a file: whole lines, no colour
            console = Console(width=wide, soft_wrap=True)
            with console.capture() as captured:  # then printed as every line is: a failed stdout is no crash
                console.print(pki_tree(recipe, find_openssl(openssl, recipe).command, show_all))
            say(captured.get(), nl=False)
            return 0
        from ..check.show import show

        say(show(recipe, names or []), nl=False)
        return 0

    @app.command("export", epilog="Examples: `P12_PASS=… openssl-recipes export client --password-env P12_PASS --fullchain`.")
    @handle_errors
    def export_command(
        name: Annotated[str, typer.Argument(metavar="NAME", help="The server or client to export.", autocompletion=entry_names)],
        recipe_file: RecipeOption = DEFAULT_RECIPE,
        out: OutOption = None,
        openssl: OpensslOption = None,
        p12: Annotated[bool, typer.Option("--p12/--no-p12", help="Write NAME.p12 (PKCS#12: key, certificate, CA).")] = True,
        fullchain: Annotated[
            bool, typer.Option("--fullchain", help="Write NAME-fullchain.pem (leaf, intermediate, root).")
        ] = False,
        password_env: Annotated[
            str | None,
            typer.Option(
                "--password-env",
                metavar="VAR",
                help="Environment variable holding the PKCS#12 password (default: the key's own password).",
            ),
        ] = None,
        legacy: Annotated[bool, typer.Option("--legacy", help="Old PKCS#12 algorithms (RC2/3DES) for old consumers.")] = False,
        dry_run: DryRun = False,
    ) -> int:
        """Bundle a certificate for software that wants PKCS#12 or a full-chain PEM."""
        from ..core.errors import UsageError
        from ..plan.lifecycle import export
        from ..recipe.entries import Secret
        from ..recipe.schema import ENV_NAME
        from ..recipe.secrets import resolve

        if password_env is not None and not ENV_NAME.match(password_env):
            raise UsageError(f"--password-env {password_env!r}: not an environment variable name")
        if not p12 and not fullchain:
            raise UsageError("--no-p12 without --fullchain: nothing to export (give --fullchain, or leave --p12 on)")
        recipe = load(recipe_file, out, warn=False)
        leaf = recipe.leaf(name)
        password = Secret("env", password_env, password_env) if password_env else leaf.password
        wanted = [s for s in (password, leaf.password) if s]
        values = {} if dry_run else resolve(wanted)
        from ..run.signers import signer

        found = find_openssl(openssl, recipe, hidden=frozenset({password_env} if password_env else ()))
        old = recipe.rotation is not None and signer(recipe, found.command, leaf.cert_file) is recipe.rotation.issuer
        chain = recipe.rotation.chain if old and recipe.rotation else recipe.chain
        work = export(recipe, found.command, leaf, password, legacy, fullchain, p12, values, chain)
        _perform(work, dry_run)
        if not dry_run:
            modes = {"p12": " (0600: it holds the key)", "bundle": ""}
            say("wrote " + " and ".join(f"{step.artifact}{modes[step.kind]}" for step in work.steps))
        return 0

    @app.command("issue", epilog="Examples: `openssl-recipes issue client device-7` (after adding device-7 under clients:).")
    @handle_errors
    def issue_command(
        role: Annotated[Role, typer.Argument(metavar="ROLE", help="client or server.")],
        name: Annotated[str, typer.Argument(metavar="NAME", help="The entry's name in the recipe.", autocompletion=entry_names)],
        recipe_file: RecipeOption = DEFAULT_RECIPE,
        out: OutOption = None,
        openssl: OpensslOption = None,
        dry_run: DryRun = False,
    ) -> int:
        """Sign one new device (declared in the recipe) with the existing CA, touching nothing else."""
        from ..run.lifecycle import issue

        recipe = load(recipe_file, out)
        issue(recipe, find_openssl(openssl, recipe), role.value, name, dry_run, say)
        return 0

    @app.command("renew", epilog="Examples: `openssl-recipes renew --within 30`; `openssl-recipes renew client --rekey`.")
    @handle_errors
    def renew_command(
        names: Annotated[
            list[str] | None,
            typer.Argument(
                metavar="NAME",
                help="Entries to renew: names, or shell-style patterns such as 'device-0[0-4]*' (default: every server and client).",
                autocompletion=entry_names,
            ),
        ] = None,
        recipe_file: RecipeOption = DEFAULT_RECIPE,
        out: OutOption = None,
        openssl: OpensslOption = None,
        within: Annotated[
            int,
            typer.Option(
                "--within", metavar="DAYS", min=0, max=MAX_DAYS, help="Renew certificates that expire within this many days."
            ),
        ] = 30,
        rekey: Annotated[bool, typer.Option("--rekey", help="Make a new key too (default: keep the key).")] = False,
        dry_run: DryRun = False,
    ) -> int:
        """Re-issue the named certificates, or without names those that expire within --within days
        and, during a CA rotation, those the old CA signed (same key unless --rekey); the previous certificate (and key) is kept beside it as FILE.<time>.bak
        (client.pem.20261201-120000.bak)."""
        from ..run.lifecycle import renew

        recipe = load(recipe_file, out)
        renew(recipe, find_openssl(openssl, recipe), names or [], within, rekey, dry_run, say, err)
        return 0

    @app.command("revoke", epilog="Examples: `openssl-recipes revoke device-7 --reason keyCompromise`.")
    @handle_errors
    def revoke_command(
        name: Annotated[
            str,
            typer.Argument(metavar="NAME", help="The server or client whose certificate is revoked.", autocompletion=entry_names),
        ],
        recipe_file: RecipeOption = DEFAULT_RECIPE,
        out: OutOption = None,
        openssl: OpensslOption = None,
        reason: Annotated[Reason, typer.Option("--reason", help="The CRL reason code.")] = Reason.unspecified,
        crl_days: Annotated[
            int, typer.Option("--crl-days", metavar="DAYS", min=1, max=MAX_DAYS, help="Days until the CRL's nextUpdate.")
        ] = 30,
        dry_run: DryRun = False,
    ) -> int:
        """Record the revocation in the tool's CA database and write a fresh crl.pem."""
        from ..core.errors import RunError, UsageError
        from ..plan.lifecycle import revoke
        from ..recipe.secrets import resolve
        from ..run.signers import signer

        recipe = load(recipe_file, out, warn=False)
        values = {} if dry_run else resolve([s for ca in recipe.issuers if (s := ca.password)])
        found, leaf = find_openssl(openssl, recipe), recipe.leaf(name)
        try:
            by = signer(recipe, found.command, leaf.cert_file)  # while rotating: the old CA for a leaf not yet renewed
            _perform(revoke(recipe, found.command, leaf, reason.value, crl_days, values, by), dry_run)
        except RunError as exc:
            if any("Already revoked" in line for line in exc.details):
                raise UsageError(
                    f"{recipe.leaf(name).cert_file} is already revoked; crl.pem lists it (run `crl` to refresh it)"
                ) from None
            raise
        if not dry_run:
            say(f"revoked {recipe.leaf(name).cert_file}; wrote crl.pem (give it to the brokers: mosquitto `crlfile`)")
        return 0

    @app.command("crl", epilog="Examples: `openssl-recipes crl --crl-days 7`.")
    @handle_errors
    def crl_command(
        recipe_file: RecipeOption = DEFAULT_RECIPE,
        out: OutOption = None,
        openssl: OpensslOption = None,
        crl_days: Annotated[
            int, typer.Option("--crl-days", metavar="DAYS", min=1, max=MAX_DAYS, help="Days until the CRL's nextUpdate.")
        ] = 30,
        dry_run: DryRun = False,
    ) -> int:
        """Write crl.pem from the tool's CA database (an empty CRL when nothing is revoked)."""
        from ..plan.lifecycle import crl
        from ..recipe.secrets import resolve

        recipe = load(recipe_file, out, warn=False)
        values = {} if dry_run else resolve([s for ca in recipe.issuers if (s := ca.password)])
        _perform(crl(recipe, find_openssl(openssl, recipe).command, crl_days, values), dry_run)
        if not dry_run:
            say("wrote crl.pem")
        return 0

"""`openssl-recipes schema`: the JSON Schema of recipes.yaml, for editors and other tools."""

from __future__ import annotations

import typer

from .common import handle_errors, say


def register(app: typer.Typer) -> None:
    @app.command("schema", epilog="Example: `openssl-recipes schema > recipes.schema.json`.")
    @handle_errors
    def schema_command() -> int:
        """Print the JSON Schema of recipes.yaml (each field's description, default and allowed values).

        The package ships the same file; `# yaml-language-server: $schema=PATH` at the top of a recipe lets
        VS Code (YAML extension) and other editors complete and check it as you type."""
        from ..recipe.json_schema import schema_text

        say(schema_text(), nl=False)
        return 0

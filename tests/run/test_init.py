"""init's files: the recipe and its JSON Schema beside it; a schema file that is not the tool's is kept."""

from __future__ import annotations

import json

from openssl_recipes.recipe.json_schema import SHIPPED

from ..helpers import cli


def test_init_writes_the_schema_beside_the_recipe_and_never_over_a_file_of_the_users(tmp_path):
    made = cli("init", "one-way", "--recipe", "edge.yaml", cwd=tmp_path)
    assert made.code == 0 and "wrote edge.yaml and recipes.schema.json beside it" in made.stdout, made
    assert "`openssl-recipes build --recipe edge.yaml`" in made.stdout, made
    assert json.loads((tmp_path / "recipes.schema.json").read_text()) == json.loads(SHIPPED.read_text())
    again = cli("init", "two-way", "--recipe", "other.yaml", cwd=tmp_path)  # the tool's own schema: written again
    assert again.code == 0, again
    (tmp_path / "recipes.schema.json").write_text('{"title": "my own schema"}\n')
    refused = cli("init", "two-way", "--recipe", "third.yaml", cwd=tmp_path)
    assert refused.code == 2 and "recipes.schema.json exists and is not openssl-recipes' JSON Schema" in refused.stderr
    assert not (tmp_path / "third.yaml").exists() and "my own schema" in (tmp_path / "recipes.schema.json").read_text()

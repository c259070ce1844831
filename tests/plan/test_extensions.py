"""The extension file: written in Python, the same as the shipped template renders; a --templates copy
rendered by Jinja2."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openssl_recipes.core.errors import UsageError
from openssl_recipes.core.openssl import probe
from openssl_recipes.plan.planner import build_plan
from openssl_recipes.recipe.load import parse_recipe

from ..helpers import SMALL_RECIPE, examples, require

_section = st.from_regex(r"[A-Za-z0-9._-]{1,20}_ext", fullmatch=True)


_leaf_context = st.fixed_dictionaries(
    {
        "section": _section,
        "key_usage": st.sampled_from(["digitalSignature, keyEncipherment", "digitalSignature"]),
        "extended_key_usage": st.sampled_from(["serverAuth", "clientAuth"]),
        "sans": st.lists(st.from_regex(r"(DNS|IP|email|URI):[!-~]{1,20}", fullmatch=True), max_size=4),
    }
)


_extension_context = st.fixed_dictionaries(
    {
        "recipe_name": st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), min_size=1),
        "ca": st.fixed_dictionaries({"section": _section}),
        "intermediate": st.none() | st.fixed_dictionaries({"section": _section}),
        "leaves": st.lists(_leaf_context, max_size=5),
    }
)


@settings(max_examples=examples(300))
@given(_extension_context)
def test_the_extension_file_is_what_the_shipped_template_renders(context):
    """The built-in file is written in Python; templates/openssl-extensions.cnf.j2, the starting point of a
    user's copy, must render the very same file."""
    from openssl_recipes.plan.extensions import TEMPLATE, written
    from openssl_recipes.render.jinja import render

    assert written(context) == render(TEMPLATE, context)


def test_a_templates_folder_with_its_own_extension_template_is_rendered_by_jinja2(tmp_path):
    from openssl_recipes.plan.extensions import TEMPLATE

    recipe = parse_recipe(SMALL_RECIPE, tmp_path / "recipes.yaml")
    openssl = probe(require("openssl"))
    builtin = build_plan(recipe, openssl).files["openssl-recipes.cnf"]
    assert build_plan(recipe, openssl, tmp_path).files["openssl-recipes.cnf"] == builtin  # a folder without it
    (tmp_path / TEMPLATE).write_text("# mine for {{ recipe_name }}\n")
    assert build_plan(recipe, openssl, tmp_path).files["openssl-recipes.cnf"] == "# mine for recipes.yaml\n"
    with pytest.raises(UsageError, match="no such folder"):
        build_plan(recipe, openssl, tmp_path / "missing")

"""YAML locations: a field path leads to its line and column."""

from __future__ import annotations

from openssl_recipes.recipe.yaml_source import parse


def test_a_field_path_leads_to_its_line_and_column_or_the_deepest_part_that_exists():
    text = "output: certs\nclients:\n  - name: a\n    san: [x, 'y']\n  - {name: b, days: 3}\n"
    _data, locate = parse(text, "r.yaml")
    assert locate(["clients", 0, "san", 1]) == (4, 14)
    assert locate(["clients", 1, "days"]) == (5, 21)
    assert locate(["clients", 1, "nothing", 3]) == (5, 5)  # the entry, when the key is not there
    assert locate(["output"]) == (1, 9)
    assert locate([]) is None

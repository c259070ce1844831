"""The recipe's JSON Schema: what editors check is what the loader checks. Every recipe in the repository
and in the tests validates; the schema and the loader refuse the same bad recipes; the shipped file is
what `openssl-recipes schema` prints."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from openssl_recipes.core.errors import RecipeError
from openssl_recipes.recipe.json_schema import SHIPPED, recipe_json_schema
from openssl_recipes.recipe.load import parse_recipe

from ..helpers import ROOT, cli, make_device_requests

VALIDATOR = jsonschema.Draft202012Validator(recipe_json_schema())


def repository_recipes() -> dict[str, str]:
    found = {str(path.relative_to(ROOT)): path.read_text() for path in ROOT.glob("**/*.yaml") if ".venv" not in path.parts}
    found = {name: text for name, text in found.items() if not name.startswith(".") and "pre-commit" not in name}
    import importlib
    import pkgutil

    import tests

    modules = [importlib.import_module(info.name) for info in pkgutil.walk_packages(tests.__path__, "tests.")]
    for module in modules:  # every recipe a test module holds as a constant
        for attribute, value in vars(module).items():
            # (a text with {{ is a str.format template of recipes, not a recipe)
            if isinstance(value, str) and value.startswith("output:") and attribute.isupper() and "{{" not in value:
                found[f"{module.__name__}.{attribute}"] = value
    from ..brokers import test_nanomq

    for case in test_nanomq.CASES:  # the NanoMQ matrix's recipes, nanomq: section included
        found[f"nanomq {case}"] = test_nanomq.recipe_text(case, 8883, 8884)
    return found


def test_the_shipped_schema_is_what_the_command_prints():
    printed = cli("schema")
    assert printed.code == 0
    assert json.loads(printed.stdout) == json.loads(SHIPPED.read_text()) == recipe_json_schema()


def test_the_schema_is_a_valid_json_schema_with_a_description_for_every_field():
    jsonschema.Draft202012Validator.check_schema(recipe_json_schema())
    for name, model in recipe_json_schema()["$defs"].items():
        for field, spec in model.get("properties", {}).items():
            assert spec.get("description"), f"{name}.{field} has no description"


@pytest.mark.parametrize("name, text", sorted(repository_recipes().items()))
def test_every_recipe_in_the_repository_and_the_tests_validates(tmp_path, name, text):
    document = yaml.safe_load(text) or {}
    errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(document)]
    assert not errors, (name, errors)
    make_device_requests(document, tmp_path)
    parse_recipe(text, tmp_path / "recipes.yaml")  # and the loader takes it


BASE = "ca: {subject: {CN: R}}\nclients:\n  - {name: c, subject: {CN: c}"
BAD = {
    "unknown top-level key": "outptu: certs\n" + BASE + "}\n",
    "unknown entry key": BASE + ", sans: [x]}\n",
    "a password literal": BASE + ", password: hunter2}\n",
    "two password sources": BASE + ", password: {env: A, file: b}}\n",
    "a bad variable name": BASE + ", password: {env: '1A'}}\n",
    "key type": BASE + ", key_type: dsa}\n",
    "short RSA key": BASE + ", key_size: 1024}\n",
    "odd RSA key": BASE + ", key_size: 2049}\n",
    "days zero": BASE + ", days: 0}\n",
    "days true": BASE + ", days: true}\n",
    "days too many": BASE + ", days: 36501}\n",
    "weak digest": BASE + ", digest: sha1}\n",
    "curve": BASE + ", curve: P-192}\n",
    "count zero": BASE + ", count: 0}\n",
    "style": "style: fancy\n" + BASE + "}\n",
    "san a number list": BASE + ", san: [[1]]}\n",
    "bridge port": BASE + "}\nnanomq: {bridge: {host: h, port: 70000}}\n",
    "keepalive": BASE + "}\nnanomq: {bridge: {keepalive: soon}}\n",
    "proto_ver": BASE + "}\nnanomq: {bridge: {proto_ver: 3}}\n",
    "qos": BASE + "}\nnanomq: {bridge: {forwards: [{remote_topic: a, local_topic: b, qos: 3}]}}\n",
}


@pytest.mark.parametrize("label", sorted(BAD))
def test_the_schema_and_the_loader_refuse_the_same_bad_recipes(tmp_path, label):
    text = BAD[label]
    assert not VALIDATOR.is_valid(yaml.safe_load(text)), f"the schema takes: {label}"
    with pytest.raises(RecipeError):
        parse_recipe(text, tmp_path / "recipes.yaml")


GOOD_SHORTHANDS = {
    "password: prompt": BASE + ", password: prompt}\n",
    "one SAN as a word": "ca: {subject: {CN: R}}\nservers:\n  - {name: s, subject: {CN: s}, san: broker.local}\n",
    "keepalive as text": BASE + "}\nnanomq: {bridge: {keepalive: 1 minute}}\n",
    "a digest written SHA-384": BASE + ", digest: SHA-384}\n",
    "a number as a subject value": "ca: {subject: {CN: R, O: 1234}}\n",
}


@pytest.mark.parametrize("label", sorted(GOOD_SHORTHANDS))
def test_the_schema_and_the_loader_take_the_same_shorthands(tmp_path, label):
    text = GOOD_SHORTHANDS[label]
    errors = [e.message for e in VALIDATOR.iter_errors(yaml.safe_load(text))]
    assert not errors, (label, errors)
    parse_recipe(text, tmp_path / "recipes.yaml")

"""A CA key in a PKCS#11 token as the recipe declares it: each mistake named by its field (with line and
column), the module found or named, and `init --hsm` writing a recipe that loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from openssl_recipes.core.errors import RecipeError
from openssl_recipes.recipe.load import parse_recipe

from ..helpers import cli

MODULE = "module.so"  # any file: the loader checks that the module is one, openssl's engine loads it


def recipe(ca: str, rest: str = "", style: str = "strict") -> str:
    return f"output: certs\nstyle: {style}\nca:\n  subject: {{CN: Token CA}}\n{ca}{rest}"


def problems(text: str, tmp_path: Path) -> str:
    (tmp_path / MODULE).write_bytes(b"\x7fELF")
    with pytest.raises(RecipeError) as caught:
        parse_recipe(text, tmp_path / "recipes.yaml")
    return "\n".join(caught.value.lines())


KEY = f"  key: {{pkcs11: 'pkcs11:token=ca;object=root', module: {MODULE}}}\n"
PIN = "  password: {env: CA_PIN}\n"


@pytest.mark.parametrize(
    ("ca", "said"),
    [
        (KEY, "ca.password: a key in a token needs its PIN: password: {env: VAR}, {file: PATH} or prompt (line 4, column 3)"),
        (
            KEY + PIN + "  key_file: ca.key\n",
            "ca.key_file: give key_file (a key file) or key (a key in a token), not both (line 7",
        ),
        (
            PIN + "  key: {pkcs11: 'pkcs11:token=ca;object=root?pin-value=1234'}\n",
            "ca.key.pkcs11: no query (pin-value, pin-source, module-path) in the URI: the PIN is the entry's password",
        ),
        (PIN + "  key: {pkcs11: 'pkcs11:token=ca;object=root;type=private'}\n", "'type=private' is not a path attribute"),
        (
            PIN + "  key: {pkcs11: 'pkcs11:token=ca'}\n",
            "ca.key.pkcs11: give object= (the key's label): pkcs11:token=ca;object=root",
        ),
        (PIN + "  key: {pkcs11: 'token=ca;object=root'}\n", "ca.key.pkcs11: "),
        (
            PIN + "  key: {pkcs11: 'pkcs11:token=ca;object=root', module: /nowhere/p11.so}\n",
            "ca.key.module: /nowhere/p11.so is not a file",
        ),
        (KEY + PIN + "  key_type: ed25519\n", "ca.key_type: OpenSSL 3.0's pkcs11 engine signs with RSA and EC keys"),
        (KEY + PIN + "  pkcs11: x\n", "ca.pkcs11: unknown key 'pkcs11'"),
    ],
)
def test_a_token_key_declared_wrong_is_named_by_its_field(tmp_path, ca, said):
    assert said in problems(recipe(ca), tmp_path)


def test_the_document_style_and_two_modules_are_refused(tmp_path):
    assert "ca.key: a key in a token needs style: strict" in problems(recipe(KEY + PIN, style="document"), tmp_path)
    (tmp_path / "other.so").write_bytes(b"\x7fELF")
    other = "intermediate:\n  subject: {CN: I}\n  key: {pkcs11: 'pkcs11:token=ca;object=i', module: other.so}\n" + PIN
    assert "intermediate.key.module: the root's key is behind " in problems(recipe(KEY + PIN, other), tmp_path)


def test_a_token_key_resolves_to_its_uri_and_module_and_one_step_is_off(tmp_path):
    (tmp_path / MODULE).write_bytes(b"\x7fELF")
    text = recipe(KEY + PIN, "defaults: {one_step: true}\nclients:\n  - {name: 'd-{n}', count: 3}\n")
    loaded = parse_recipe(text, tmp_path / "recipes.yaml")
    token = loaded.ca.token
    assert (token.uri, token.token, token.label, token.module) == (
        "pkcs11:token=ca;object=root",
        "ca",
        "root",
        str(tmp_path / MODULE),
    )
    assert loaded.ca.key_file == "pkcs11:token=ca;object=root;type=private" and loaded.ca.files == ("ca.pem",)
    assert loaded.environment == {"PKCS11_MODULE_PATH": str(tmp_path / MODULE)}
    assert not any(leaf.one_step for leaf in loaded.leaves)
    assert any("one_step is off" in warning for warning in loaded.warnings)


def test_percent_encoded_labels_reach_pkcs11_tool_decoded(tmp_path):
    (tmp_path / MODULE).write_bytes(b"\x7fELF")
    key = f"  key: {{pkcs11: 'pkcs11:token=my%20hsm;object=root%3Bca', module: {MODULE}}}\n"
    token = parse_recipe(recipe(key + PIN), tmp_path / "recipes.yaml").ca.token
    assert (token.token, token.label) == ("my hsm", "root;ca")


def test_init_hsm_writes_a_recipe_whose_ca_key_is_in_the_token(tmp_path):
    (tmp_path / MODULE).write_bytes(b"\x7fELF")
    made = cli(
        "init",
        "fleet",
        "--count",
        "3",
        "--hsm",
        "pkcs11:token=ca;object=root",
        cwd=tmp_path,
        env={"PKCS11_MODULE_PATH": str(tmp_path / MODULE)},
    )
    assert made.code == 0, made
    text = (tmp_path / "recipes.yaml").read_text()
    assert 'key: {pkcs11: "pkcs11:token=ca;object=root"}' in text and "password: {env: CA_PIN}" in text
    refused = cli("init", "two-way", "--hsm", "token=ca", "--recipe", "other.yaml", cwd=tmp_path)
    assert refused.code == 2 and "--hsm token=ca: a PKCS#11 URI" in refused.stderr, refused


def test_one_step_is_said_off_only_when_the_token_ca_signs_the_leaves(tmp_path):
    (tmp_path / MODULE).write_bytes(b"\x7fELF")
    fleet = "defaults: {one_step: true}\nclients:\n  - {name: 'd-{n}', count: 3}\n"
    under_file = parse_recipe(recipe(KEY + PIN, "intermediate: {subject: {CN: I}}\n" + fleet), tmp_path / "recipes.yaml")
    assert all(leaf.one_step for leaf in under_file.leaves)  # the intermediate, a key file, signs them
    assert not any("one_step is off" in warning for warning in under_file.warnings)
    key = f"  key: {{pkcs11: 'pkcs11:token=ca;object=i', module: {MODULE}}}\n"
    under_token = parse_recipe(
        recipe(KEY + PIN, "intermediate:\n  subject: {CN: I}\n" + key + PIN + fleet), tmp_path / "recipes.yaml"
    )
    assert not any(leaf.one_step for leaf in under_token.leaves)
    assert [w for w in under_token.warnings if "one_step is off" in w] == [
        "intermediate: one_step is off: OpenSSL 3.0's `req -x509 -CA` cannot sign with a key in a token; each leaf is signed with `x509 -req`"
    ]

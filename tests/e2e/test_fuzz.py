"""Hostile and broken input (hypothesis): any YAML, any mutation of a valid recipe, any subject value
gives a valid plan or one clean error (exit 2) — never a traceback, never a write outside the output folder."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path

import yaml
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from ..helpers import DEFAULT_RECIPE, cli, examples, load_cert, tree, write_recipe

FAST = settings(max_examples=examples(60))
VALID = yaml.safe_load(DEFAULT_RECIPE.read_text())

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True),
    st.text(max_size=40),
    st.sampled_from(["../x", "/etc/passwd", "..", "", "sha1", "md5", "300.1.1.1", "{n}", "ca.pem"]),
)
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8
)


def plan_of(tmp_path, text: str):
    recipe = tmp_path / "recipes.yaml"
    recipe.write_text(text, encoding="utf-8")
    return cli("plan", "--recipe", str(recipe), "--assume-openssl3")


def assert_clean(result) -> None:
    assert result.code in (0, 2), result
    assert "Traceback" not in result.output and "internal error" not in result.output, result
    if result.code == 2:
        assert result.stderr.startswith("error: "), result


@FAST
@given(text=st.text(max_size=200))
def test_any_text_is_a_plan_or_one_clean_error(tmp_path, text):
    assert_clean(plan_of(tmp_path, text))


def paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, child in node.items():
            yield from paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from paths(child, (*prefix, index))


ALL_PATHS = [p for p in paths(VALID) if p]


@FAST
@given(where=st.sampled_from(ALL_PATHS), action=st.sampled_from(["replace", "delete", "add"]), value=values)
def test_any_mutation_of_a_valid_recipe_is_a_plan_or_one_clean_error(tmp_path, where, action, value):
    recipe = copy.deepcopy(VALID)
    parent = recipe
    for part in where[:-1]:
        parent = parent[part]
    last = where[-1]
    if action == "replace":
        parent[last] = value
    elif action == "delete":
        del parent[last]
    elif isinstance(parent[last], dict):
        parent[last]["unexpected_key"] = value
    else:
        parent[last] = [parent[last], value]
    before = tree(tmp_path)
    result = plan_of(tmp_path, yaml.safe_dump(recipe, allow_unicode=True))
    assert_clean(result)
    after = tree(tmp_path)
    assert set(after) - set(before) <= {"recipes.yaml"}  # plan writes nothing


def test_deep_nesting_and_bombs_are_bounded(tmp_path):
    started = time.monotonic()
    assert_clean(plan_of(tmp_path, "a: " + "[" * 5000 + "]" * 5000))
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n" for p, c in zip("abcdefgh", "bcdefghi")
    )
    result = plan_of(tmp_path, bomb)
    assert result.code == 2 and "anchors and aliases" in result.stderr, result
    huge = DEFAULT_RECIPE.read_text() + "# padding\n" * 300_000  # 3 MB of comments: parsed, fine
    assert plan_of(tmp_path, huge).code == 0
    too_big = "# x\n" * 2_500_000  # 10 MB: refused before parsing
    result = plan_of(tmp_path, too_big)
    assert result.code == 2 and "too large for a recipe" in result.stderr, result
    assert time.monotonic() - started < 120  # bounded, generously (not a performance assertion)


printable = st.text(
    alphabet=st.characters(codec="utf-8", categories=("L", "M", "N", "P", "S", "Zs")),
    min_size=1,
    max_size=64,
)


@settings(max_examples=examples(15))
@given(value=printable)
def test_any_subject_value_round_trips_or_is_refused_clearly(tmp_path, value):
    out = tmp_path / "certs"
    for stale in out.glob("*") if out.exists() else []:
        stale.unlink()
    recipe = write_recipe(
        tmp_path,
        (
            "defaults: {key_type: ec}\n"
            "ca: {subject: {CN: Root}}\n"
            f"clients:\n  - {{name: c, subject: {{CN: {json.dumps(value, ensure_ascii=False)}, O: {json.dumps(value[:64], ensure_ascii=False)}}}}}\n"
        ),
    )
    result = cli("build", "--recipe", str(recipe), "--jobs", "2")
    assert_clean(result)
    if result.code == 0:
        cert = load_cert(out / "c.pem")
        assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == value
        assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == value[:64]
    else:
        assert "clients[0].subject" in result.stderr, result


SMALL_EC = {
    "output": "certs",
    "defaults": {"key_type": "ec"},
    "ca": {"subject": {"CN": "Root"}},
    "servers": [{"name": "server", "subject": {"CN": "localhost"}, "san": ["localhost"]}],
    "clients": [{"name": "client", "subject": {"CN": "client"}}],
}
FILE_FIELDS = [
    ("ca", "key_file"),
    ("ca", "cert_file"),
    ("servers", 0, "name"),
    ("clients", 0, "name"),
    ("clients", 0, "key_file"),
    ("clients", 0, "csr_file"),
    ("clients", 0, "cert_file"),
]
hostile_names = st.one_of(
    st.sampled_from(
        [
            "../x.key",
            "../../x.pem",
            "/tmp/openssl-recipes-fuzz.key",
            "..",
            ".",
            "a/b.pem",
            "~/x.key",
            "",
            "x\0y",
            "ca.key",
            "server.pem",
            ".openssl-recipes.lock",
            ".openssl-recipes.tmp.1.x",
            "-out",
            "-passout",
            "x" * 300,
            "ä.key",
            " ",
            "a\\b",
            "c:\\x.key",
            "\n",
            "*.pem",
            "$HOME",
        ]
    ),
    st.text(max_size=12),
)


@settings(max_examples=examples(25))
@given(where=st.sampled_from(FILE_FIELDS), value=hostile_names)
def test_hostile_file_names_are_refused_or_stay_inside_the_output_folder(tmp_path, where, value):
    """A real build: whatever the name, every file it writes is inside the output folder."""
    import shutil

    work = tmp_path / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    recipe = copy.deepcopy(SMALL_EC)
    parent = recipe
    for part in where[:-1]:
        parent = parent[part]
    parent[where[-1]] = value
    (work / "recipes.yaml").write_text(yaml.safe_dump(recipe, allow_unicode=True), encoding="utf-8")
    before = tree(tmp_path)
    result = cli("build", "--recipe", str(work / "recipes.yaml"), "--jobs", "2")
    assert_clean(result)
    outside = {name for name in set(tree(tmp_path)) - set(before) if not name.startswith("work/certs/")}
    assert not outside, (outside, str(result))
    assert not Path("/tmp/openssl-recipes-fuzz.key").exists()
    if result.code == 2:
        assert ".".join(map(str, where)).replace(".0.", "[0].") in result.stderr or "name" in result.stderr, result

"""The pieces on their own: the executor's order, what the runner keeps or remakes, `--into`'s block
replacement, the workspace, YAML locations. Real processes and real files; nothing mocked."""

from __future__ import annotations

import os
import stat
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openssl_recipes.core.children import child_environment
from openssl_recipes.core.errors import RunError, UsageError
from openssl_recipes.core.openssl import probe
from openssl_recipes.plan.planner import build_plan
from openssl_recipes.plan.steps import Step
from openssl_recipes.recipe.entries import Secret
from openssl_recipes.recipe.load import parse_recipe
from openssl_recipes.recipe.yaml_source import parse
from openssl_recipes.render.conf import insert_blocks
from openssl_recipes.run.execute import _dependencies, execute
from openssl_recipes.run.inspect import Inspector
from openssl_recipes.run.runner import BuildOptions, build, decide
from openssl_recipes.run.workspace import restore, set_aside, write_atomically

from .helpers import SMALL_RECIPE, require

# -- the executor ----------------------------------------------------------------------------------


def shell_step(name: str, inputs: tuple[str, ...] = (), seconds: float = 0.0, kind: str = "cert") -> Step:
    """A step that records when it starts and ends, then writes `name`."""
    script = (
        f'echo "start {name} $(date +%s.%N)" >> log; sleep {seconds}; echo done > {name}; echo "end {name} $(date +%s.%N)" >> log'
    )
    return Step(("sh", "-c", script), kind, name, inputs, (name,))  # type: ignore[arg-type]


def test_the_dependency_graph_follows_the_files_steps_read_and_write():
    steps = [shell_step("a"), shell_step("b", ("a",)), shell_step("c"), shell_step("d", ("b", "c"))]
    assert _dependencies(steps, range(4)) == {0: set(), 1: {0}, 2: set(), 3: {1, 2}}
    assert _dependencies(steps, [1, 3]) == {1: set(), 3: {1}}  # a kept step is nobody's dependency


def test_a_step_starts_only_after_what_it_reads_is_written_and_independent_steps_overlap(tmp_path):
    steps = [shell_step("slow", seconds=0.6), shell_step("quick"), shell_step("after", ("slow", "quick"))]
    execute(tmp_path, steps, range(3), child_environment(), {}, jobs=2)
    events = {}
    for line in (tmp_path / "log").read_text().splitlines():
        what, name, when = line.split()
        events[(what, name)] = float(when)
    assert events[("start", "after")] >= max(events[("end", "slow")], events[("end", "quick")])
    assert events[("start", "quick")] < events[("end", "slow")]  # two at once
    assert {p.name for p in tmp_path.iterdir()} == {"log", "slow", "quick", "after"}


def test_a_failed_step_stops_what_depends_on_it_and_is_reported_masked(tmp_path):
    secret = Secret("env", "UNIT_SECRET", "UNIT_SECRET")
    failing = Step(
        ("sh", "-c", 'echo partial > bad; echo "no good: $UNIT_SECRET" >&2; exit 3'), "cert", "bad", (), ("bad",), (secret,)
    )
    steps = [failing, shell_step("next", ("bad",))]
    with pytest.raises(RunError) as caught:
        execute(tmp_path, steps, range(2), child_environment(), {"UNIT_SECRET": "hunter2-unit"}, jobs=2)
    text = "\n".join(caught.value.lines())
    assert "exit code 3" in text and "no good: ***" in text and "hunter2-unit" not in text
    assert not (tmp_path / "bad").exists() and not (tmp_path / "next").exists()  # partial output gone, dependant never ran


def test_a_prestarted_step_is_finished_not_started_and_takes_no_slot_of_jobs(tmp_path):
    """build's head start: the adopted step's function stands for it; with --jobs 1 plan order holds."""
    import subprocess

    from openssl_recipes.core import process

    steps = [shell_step("key", seconds=1.0, kind="key"), shell_step("other"), shell_step("cert", ("key",))]
    running = subprocess.Popen(list(steps[0].argv), cwd=tmp_path)  # as the head start would have started it
    finished = []

    def finish() -> process.Result:
        running.wait()
        finished.append("key")
        return process.Result(steps[0].argv, 0, b"", b"")

    execute(tmp_path, steps, range(3), child_environment(), {}, jobs=1, prestarted={0: finish})
    events = [line.split()[:2] for line in (tmp_path / "log").read_text().splitlines()]
    assert finished == ["key"] and events.count(["start", "key"]) == 1  # finished, never started again
    assert events.index(["start", "other"]) > events.index(["end", "key"])  # --jobs 1: in plan order
    (tmp_path / "log").unlink()
    steps = [steps[0], shell_step("one", seconds=0.2), shell_step("two", seconds=0.2)]
    running = subprocess.Popen(list(steps[0].argv), cwd=tmp_path)
    execute(tmp_path, steps, range(3), child_environment(), {}, jobs=2, prestarted={0: finish})
    events = [line.split()[:2] for line in (tmp_path / "log").read_text().splitlines()]
    # both slots of --jobs 2 went to the others while the adopted key ran
    assert events.index(["start", "two"]) < events.index(["end", "one"]) < events.index(["end", "key"])


# -- what the runner keeps -------------------------------------------------------------------------


def test_decide_remakes_exactly_what_is_damaged_and_what_depends_on_it(tmp_path):
    recipe = parse_recipe(
        SMALL_RECIPE.replace("subject: {C: DE, O: Test}", "subject: {C: DE, O: Test}\n  key_type: ec"), tmp_path / "r.yaml"
    )
    plan = build_plan(recipe, probe(require("openssl")))
    build(plan, {}, BuildOptions(jobs=2, quiet=True), say=lambda _line: None)
    folder = recipe.output_dir
    inspector = lambda: Inspector(plan.openssl.command, folder, child_environment())  # noqa: E731 - fresh cache each time
    remade = lambda: {(s.entry, s.kind) for s, run in zip(plan.steps, decide(plan, inspector(), BuildOptions())) if run}  # noqa: E731
    assert remade() == set()
    (folder / "client.pem").write_text((folder / "client.pem").read_text()[:100])  # cut short
    assert remade() == {("client", "csr"), ("client", "cert")}  # the key is sound: kept
    (folder / "server.key").write_text("")
    assert remade() == {("client", "csr"), ("client", "cert"), ("server", "key"), ("server", "csr"), ("server", "cert")}
    forced = {(s.entry, s.kind) for s, run in zip(plan.steps, decide(plan, inspector(), BuildOptions(force=True))) if run}
    assert {entry for entry, _ in forced} == {"server", "client"}  # --force: every leaf, never the CA


# -- --into ----------------------------------------------------------------------------------------

BLOCK = '# BEGIN openssl-recipes listener\nlisteners.ssl {{ bind = "{bind}" }}\n# END openssl-recipes listener\n'
user_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), max_size=200).filter(
    lambda text: "openssl-recipes" not in text
)


@settings(max_examples=150, deadline=None)
@given(before=user_text, after=user_text)
def test_into_replaces_its_block_and_keeps_every_other_byte(before, after):
    first = insert_blocks(before, BLOCK.format(bind="0.0.0.0:8883"))
    assert first.startswith(before) and BLOCK.format(bind="0.0.0.0:8883") in first
    surrounded = first + after
    second = insert_blocks(surrounded, BLOCK.format(bind="127.0.0.1:9883"))
    assert second == surrounded.replace(BLOCK.format(bind="0.0.0.0:8883"), BLOCK.format(bind="127.0.0.1:9883"))
    assert insert_blocks(second, BLOCK.format(bind="127.0.0.1:9883")) == second  # idempotent


# -- the workspace ---------------------------------------------------------------------------------


def test_write_atomically_never_leaves_a_wider_mode_and_skips_identical_content(tmp_path):
    target = tmp_path / "nanomq.conf"
    target.write_text("key_password = x\n")
    os.chmod(target, 0o644)
    assert write_atomically(target, "key_password = x\n", 0o600) is False  # identical: not rewritten…
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # …but made private all the same
    assert write_atomically(target, "other\n", 0o600) is True and target.read_text() == "other\n"
    assert [p.name for p in tmp_path.iterdir()] == ["nanomq.conf"]  # no temporary file left


def test_set_aside_and_restore_never_lose_an_earlier_backup(tmp_path):
    (tmp_path / "ca.key").write_text("first")
    first = set_aside(tmp_path, ["ca.key", "missing.pem"])
    (tmp_path / "ca.key").write_text("second")
    second = set_aside(tmp_path, ["ca.key"])
    assert first.keys() == {"ca.key"} and first["ca.key"] != second["ca.key"]  # same second, distinct names
    assert (tmp_path / first["ca.key"]).read_text() == "first" and (tmp_path / second["ca.key"]).read_text() == "second"
    assert restore(tmp_path, second) == ["ca.key"] and (tmp_path / "ca.key").read_text() == "second"


# -- YAML locations --------------------------------------------------------------------------------


def test_a_field_path_leads_to_its_line_and_column_or_the_deepest_part_that_exists():
    text = "output: certs\nclients:\n  - name: a\n    san: [x, 'y']\n  - {name: b, days: 3}\n"
    _data, locate = parse(text, "r.yaml")
    assert locate(["clients", 0, "san", 1]) == (4, 14)
    assert locate(["clients", 1, "days"]) == (5, 21)
    assert locate(["clients", 1, "nothing", 3]) == (5, 5)  # the entry, when the key is not there
    assert locate(["output"]) == (1, 9)
    assert locate([]) is None


def test_time_is_real_in_the_executor_test():
    """The executor test relies on `date +%s.%N`; a shell without it would make it pass vacuously."""
    import subprocess

    value = float(subprocess.run(["sh", "-c", "date +%s.%N"], capture_output=True, text=True).stdout)
    assert abs(value - time.time()) < 60


# -- the extension file: the built-in template compiled to Python renders exactly like Jinja2 ----------

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


@settings(max_examples=300, deadline=None)
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


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.text(st.characters(blacklist_categories=("Cs",)), max_size=12) | st.sampled_from(["", "-out", "a b", "é", "x'y"]))
)
def test_command_lines_are_shlex_join(argv):
    import shlex

    from openssl_recipes.plan.script import command_line

    assert command_line(argv) == shlex.join(argv)

"""The printed commands and the standalone script: shlex-quoted lines, the same modes as build."""

from __future__ import annotations

import stat
import subprocess

from hypothesis import given, settings
from hypothesis import strategies as st

from ..helpers import SMALL_RECIPE, cli, examples, write_recipe


@settings(max_examples=examples(500))
@given(
    st.lists(st.text(st.characters(blacklist_categories=("Cs",)), max_size=12) | st.sampled_from(["", "-out", "a b", "é", "x'y"]))
)
def test_command_lines_are_shlex_join(argv):
    import shlex

    from openssl_recipes.plan.script import command_line

    assert command_line(argv) == shlex.join(argv)


def test_the_script_leaves_the_same_modes_as_build(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE)
    script = cli("plan", "--script", "--recipe", str(recipe))
    assert script.code == 0, script
    (tmp_path / "build.sh").write_text(script.stdout)
    ran = subprocess.run(["bash", str(tmp_path / "build.sh")], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    by_script = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "certs").iterdir()}
    other = tmp_path / "by-build"
    other.mkdir()
    built_recipe = write_recipe(other, SMALL_RECIPE)
    assert cli("build", "--recipe", str(built_recipe)).code == 0
    by_build = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (other / "certs").iterdir() if p.name != ".openssl-recipes.lock"}
    assert by_script == by_build and by_build["client.key"] == 0o600 and by_build["client.pem"] == 0o644

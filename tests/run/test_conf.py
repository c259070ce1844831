"""conf --out: the file written, 0600 when it holds a password."""

from __future__ import annotations

import stat

from ..helpers import SMALL_RECIPE, cli, write_recipe


def test_conf_out_makes_an_identical_file_that_holds_a_password_0600(tmp_path):
    recipe = write_recipe(
        tmp_path, SMALL_RECIPE + "    password: {env: CLIENT_PASS}\nnanomq: {bridge: {host: broker.example.com}}\n"
    )
    env = {"CLIENT_PASS": "client-password"}
    target = tmp_path / "bridge.conf"
    assert cli("conf", "nanomq", "--recipe", str(recipe), "--out", str(target), env=env).code == 0
    target.chmod(0o644)
    again = cli("conf", "nanomq", "--recipe", str(recipe), "--out", str(target), env=env)
    assert again.code == 0 and "mode 0600" in again.stdout, again
    assert stat.S_IMODE(target.stat().st_mode) == 0o600

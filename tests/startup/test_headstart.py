"""`build`'s head start: its first keys start before the recipe is validated, are adopted only when the
plan has exactly those steps, and leave nothing behind otherwise."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from openssl_recipes.startup import headstart

from ..helpers import SMALL_RECIPE, logging_openssl, read_calls, run, write_recipe


def key_calls(log: Path) -> list[dict]:
    return [call for call in read_calls(log) if call["argv"].split()[1] in ("genrsa", "genpkey")]


def processes_working_in(folder: Path) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and str(Path(os.readlink(proc / "cwd"))).startswith(str(folder)):
                found.append((int(proc.name), (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()))
        except OSError:
            continue
    return found


def test_the_first_keys_start_early_and_are_adopted_not_made_twice(tmp_path):
    write_recipe(tmp_path, SMALL_RECIPE)
    env, log = logging_openssl(tmp_path)
    result = run("build", "--jobs", "2", cwd=tmp_path, env=env)
    assert result.code == 0, result
    certs = tmp_path / "certs"
    calls = key_calls(log)
    # one key generation per key: the three head-started ones (jobs + 1) were adopted, none was run again
    assert sorted(c["argv"].split()[-2] for c in calls) == ["ca.key", "client.key", "server.key"]
    assert all(c["cwd"].startswith(str(certs / headstart.PRIVATE_PREFIX)) for c in calls), calls
    assert not list(certs.glob(f"{headstart.PRIVATE_PREFIX}*"))
    for name in ("server", "client"):
        key = serialization.load_pem_private_key((certs / f"{name}.key").read_bytes(), None)
        cert = x509.load_pem_x509_certificate((certs / f"{name}.pem").read_bytes())
        assert cert.public_key().public_numbers() == key.public_key().public_numbers()
        assert (certs / f"{name}.key").stat().st_mode & 0o777 == 0o600


def test_an_invalid_recipe_leaves_nothing_behind_and_stops_the_keys_it_started(tmp_path):
    """The guess starts keys (a 16384-bit CA key: minutes of work) before the schema refuses the recipe."""
    bad = SMALL_RECIPE.replace("ca:\n", "ca:\n  key_size: 16384\n").replace(
        "    san: [localhost, 127.0.0.1]\n", "    sans: [localhost]\n"
    )
    write_recipe(tmp_path, bad)
    env, log = logging_openssl(tmp_path)
    result = run("build", cwd=tmp_path, env=env, timeout=60)
    assert result.code == 2, result
    assert "sans" in result.stderr and "Traceback" not in result.output
    assert key_calls(log), "the head start did not start: this test would prove nothing"
    assert not (tmp_path / "certs").exists()  # the folder the head start created is gone too
    assert processes_working_in(tmp_path) == []


def test_a_guess_that_does_not_fit_the_plan_is_stopped_and_removed(tmp_path):
    path = write_recipe(tmp_path, SMALL_RECIPE.replace("output: certs", "output: out/pki"))
    with headstart.begun(["build", "--recipe", str(path), "-j", "1"]) as head:
        assert head is not None and len(head.running) == 1  # --jobs 1: one key at a time
        (argv,) = head.running
        assert argv == ("openssl", "genrsa", "-out", "ca.key", "2048")
        assert head.private.parent == tmp_path / "out" / "pki"
        env = dict(head.env)
        assert head.adopt(argv, tmp_path / "elsewhere", env) is None  # another folder
        assert head.adopt(argv, head.folder, {**env, "EXTRA": "1"}) is None  # another environment
        assert head.adopt(("openssl", "genrsa", "-out", "ca.key", "4096"), head.folder, env) is None
    assert not (tmp_path / "out").exists()  # made for the head start, empty: removed


def test_folders_the_head_start_makes_have_the_modes_build_gives_them(tmp_path):
    path = write_recipe(tmp_path, SMALL_RECIPE.replace("output: certs", "output: out/pki"))
    with headstart.begun(["build", "--recipe", str(path)]) as head:
        assert head is not None
        assert (tmp_path / "out" / "pki").stat().st_mode & 0o777 == 0o700
        assert (tmp_path / "out").stat().st_mode & 0o777 == 0o777 & ~current_umask()


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_no_head_start_where_the_guess_could_be_wrong(tmp_path):
    for recipe, options in [
        (SMALL_RECIPE.replace("ca:\n", "ca:\n  password: {env: CA_PASSWORD}\n"), []),  # passwords: the executor's
        (SMALL_RECIPE.replace("ca:\n", 'ca:\n  "passw\\x6Frd": {env: CA_PASSWORD}\n'), []),  # however YAML spells it
        ("password_note: x\n" + SMALL_RECIPE, ["--out", ""]),  # an empty --out: refused by build itself
        (SMALL_RECIPE, ["--help"]),
        (SMALL_RECIPE, ["--unknown-option"]),
    ]:
        path = write_recipe(tmp_path, recipe)
        with headstart.begun(["build", "--recipe", str(path), *options]) as head:
            assert head is None
    assert not (tmp_path / "certs").exists()
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    with headstart.begun(["build", "--recipe", str(path)]) as head:  # a CA certificate without its key:
        assert head is not None and all("ca.key" not in argv for argv in head.running)  # build decides


def test_the_private_folder_of_a_killed_build_is_removed_by_the_next(tmp_path):
    write_recipe(tmp_path, SMALL_RECIPE)
    stale = tmp_path / "certs" / f"{headstart.PRIVATE_PREFIX}999999999"
    stale.mkdir(parents=True)
    (stale / "ca.key").write_text("half a key")
    result = run("build", cwd=tmp_path)
    assert result.code == 0, result
    assert not stale.exists()


def test_the_head_start_names_its_folder_as_the_tool_names_its_own_files():
    from openssl_recipes.core.names import PRIVATE_PREFIX, file_name_problem

    assert headstart.PRIVATE_PREFIX is PRIVATE_PREFIX  # the one the next build cleans up after a killed one
    assert file_name_problem(f"{PRIVATE_PREFIX}123") is not None  # never a recipe's file


@pytest.mark.parametrize("moment", ["starting", "adopted"])
def test_ctrl_c_while_a_head_started_key_runs_stops_it_and_removes_the_private_folder(tmp_path, moment):
    """Stopped as the head start begins, or once the build adopted its keys (the CA's still running)."""
    import signal
    import subprocess
    import sys
    import time

    write_recipe(tmp_path, SMALL_RECIPE.replace("ca:\n", "ca:\n  key_size: 16384\n"))  # minutes of work
    proc = subprocess.Popen(
        [sys.executable, "-m", "openssl_recipes", "build"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    certs = tmp_path / "certs"
    deadline = time.monotonic() + 60

    def reached() -> bool:
        if moment == "starting":
            return bool(list(certs.glob(f"{headstart.PRIVATE_PREFIX}*")))
        return (certs / "client.key").exists()  # adopted and moved in: the executor runs

    while not reached() and time.monotonic() < deadline:
        time.sleep(0.01)  # waiting for the condition, not for a time
    assert reached(), f"never reached {moment}"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert "interrupted" in err and "Traceback" not in err
    assert not list(certs.glob(f"{headstart.PRIVATE_PREFIX}*")) and not (certs / "ca.key").exists()
    assert processes_working_in(tmp_path) == []


def test_the_guess_names_keys_as_the_recipe_does_and_never_starts_one_twice(tmp_path):
    intermediate = SMALL_RECIPE.replace("servers:", "intermediate:\n  subject: {CN: Issuing CA}\nservers:")
    path = write_recipe(tmp_path, intermediate)
    with headstart.begun(["build", "--recipe", str(path), "--jobs", "3"]) as head:
        assert head is not None
        assert [argv[3] for argv in head.running] == ["ca.key", "intermediate.key", "server.key", "client.key"]
    shared = SMALL_RECIPE.replace("name: client\n", "name: client\n    key_file: server.key\n")
    path = write_recipe(tmp_path, shared)
    with headstart.begun(["build", "--recipe", str(path), "--jobs", "3"]) as head:  # refused later: one key file
        assert head is not None and [argv[3] for argv in head.running] == ["ca.key", "server.key"]


def test_the_head_start_knows_every_option_of_build_and_no_other():
    """Its own reading of `build`'s argv (a value option, a flag, anything else: no head start) is a
    copy of build's options: a new option of build must be added there too, or the guess would read a
    value as the recipe's name."""
    from openssl_recipes.cli import CommandTable

    build = CommandTable()["build"]  # as typer converted it
    options = [param for param in build.params if param.param_type_name == "option" and param.name != "help"]
    flags = {name for option in options if option.is_flag for name in option.opts}
    values = {name for option in options if not option.is_flag for name in option.opts}
    assert flags == headstart.FLAGS
    assert values == set(headstart.VALUE_OPTIONS)

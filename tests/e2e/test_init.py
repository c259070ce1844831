"""`init`: from an empty folder to a verified PKI and a rendered nanomq.conf, for every scenario, with
the real openssl; and what it refuses."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time

import jsonschema
import pytest
import yaml

from openssl_recipes.recipe.json_schema import SHIPPED, recipe_json_schema

from ..helpers import cli, tree

SCENARIOS = {
    "two-way": ["two-way", "--server", "broker.local", "--server", "127.0.0.1", "--client", "sensor-1", "--client", "sensor-2"],
    "one-way": ["one-way", "--server", "localhost"],
    "fleet": ["fleet", "--count", "4", "--pattern", "dev-{n:02d}"],
    "bridge": ["bridge", "--remote", "cloud.example.com:8884", "--password-env", "INIT_CA_PASS"],
    "sites": ["sites", "--remote", "cloud.example.com", "--count", "3"],
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_each_scenario_reaches_a_verified_pki_and_a_nanomq_conf_in_three_commands(tmp_path, scenario):
    env = {"INIT_CA_PASS": "init-ca-secret"}
    made = cli("init", *SCENARIOS[scenario], cwd=tmp_path)
    assert made.code == 0 and "wrote recipes.yaml" in made.stdout, made
    text = (tmp_path / "recipes.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=recipes.schema.json\n")  # beside it: a path that lasts
    assert json.loads((tmp_path / "recipes.schema.json").read_text()) == json.loads(SHIPPED.read_text())
    jsonschema.validate(yaml.safe_load(text), recipe_json_schema())
    for command in (["plan"], ["build"], ["verify"], ["handshake"]):
        result = cli(*command, cwd=tmp_path, env=env)
        assert result.code == 0, (command, result)
    conf = cli("conf", "nanomq", cwd=tmp_path, env=env)
    assert conf.code == 0, conf
    if scenario == "sites":  # the first site's blocks, said so; then one bundle per site
        assert 'clientid = "site-001"' in conf.stdout and "site site-001: the first of 3" in conf.stderr
        assert cli("bundle", cwd=tmp_path).code == 0
        assert sorted(p.name for p in (tmp_path / "bundles").iterdir() if not p.name.startswith(".")) == [
            "site-001",
            "site-002",
            "site-003",
        ]
    elif scenario == "bridge":
        assert 'server = "tls+mqtt-tcp://cloud.example.com:8884"' in conf.stdout
        assert (tmp_path / "certs" / "ca.key").read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    else:
        assert "listeners.ssl {" in conf.stdout
        assert ("verify_peer = true" in conf.stdout) == (scenario != "one-way")
    if scenario == "fleet":
        assert {f"dev-{n:02d}.pem" for n in range(1, 5)} <= {p.name for p in (tmp_path / "certs").iterdir()}


def test_an_existing_recipe_is_kept_unless_force_which_keeps_a_backup(tmp_path):
    (tmp_path / "recipes.yaml").write_text("mine: true\n")
    refused = cli("init", "two-way", cwd=tmp_path)
    assert refused.code == 2 and "recipes.yaml exists" in refused.stderr, refused
    assert tree(tmp_path) == {"recipes.yaml": b"mine: true\n"}
    forced = cli("init", "two-way", "--force", cwd=tmp_path)
    assert forced.code == 0 and "kept the previous recipe as recipes.yaml." in forced.stderr, forced
    backups = [p for p in tmp_path.iterdir() if p.name.endswith(".bak")]
    assert len(backups) == 1 and backups[0].read_text() == "mine: true\n"


@pytest.mark.parametrize(
    "args, reason",
    [
        (["bridge"], "needs --remote HOST[:PORT]"),
        (["two-way", "--server", "not a name"], "--server not a name"),
        (["two-way", "--client", "-x"], "--client -x"),
        (["fleet", "--pattern", "device"], "must hold the number"),
        (["fleet", "--count", "0"], "--count 0"),
        (["bridge", "--remote", "cloud.example.com:99999"], "is not a TCP port"),
        (["two-way", "--key-type", "dsa"], "--key-type dsa"),
        (["two-way", "--password-env", "1X"], "not an environment variable name"),
        (["mesh"], "unknown scenario 'mesh'"),
        ([], "give a scenario"),  # off a terminal
    ],
)
def test_bad_facts_are_refused_with_the_option_and_nothing_is_written(tmp_path, args, reason):
    result = cli("init", *args, cwd=tmp_path)
    assert result.code == 2 and reason in result.stderr, result
    assert tree(tmp_path) == {}


def test_on_a_terminal_without_a_scenario_it_asks_for_each_fact(tmp_path):
    """A real pseudo-terminal: the prompts appear, the answers make the recipe."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the tool, on the terminal
        os.chdir(tmp_path)
        os.execv(sys.executable, [sys.executable, "-m", "openssl_recipes", "init"])
    answers = [("Scenario", "fleet"), ("Names and addresses", "mqtt.local"), ("How many devices", "3"), ("Device names", "")]
    seen = b""
    try:
        for prompt, answer in answers:
            deadline = time.monotonic() + 30
            while prompt.encode() not in seen and time.monotonic() < deadline:
                if select.select([fd], [], [], 0.5)[0]:
                    seen += os.read(fd, 4096)
            assert prompt.encode() in seen, seen.decode(errors="replace")
            seen = b""
            os.write(fd, answer.encode() + b"\r")
        deadline = time.monotonic() + 30
        while b"wrote recipes.yaml" not in seen and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.5)[0]:
                try:
                    seen += os.read(fd, 4096)
                except OSError:
                    break
    finally:
        deadline = time.monotonic() + 30
        while (done := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        if done[0] == 0:  # still asking (a prompt the test did not expect): it must not hang the suite
            os.kill(pid, signal.SIGKILL)
            done = os.waitpid(pid, 0)
        status = done[1]
    assert os.waitstatus_to_exitcode(status) == 0, seen.decode(errors="replace")
    recipe = yaml.safe_load((tmp_path / "recipes.yaml").read_text())
    assert recipe["servers"][0]["san"] == ["mqtt.local"] and recipe["clients"][0]["count"] == 3
    assert recipe["defaults"]["key_type"] == "ec"  # a fleet's default
    assert subprocess.run([sys.executable, "-m", "openssl_recipes", "plan"], cwd=tmp_path, capture_output=True).returncode == 0

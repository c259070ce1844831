"""The executor: steps in dependency order and in parallel, each child with only its own secrets,
keys private from their first byte, failures reported masked."""

from __future__ import annotations

import stat
import subprocess
import sys
import time

import pytest

from openssl_recipes.core.children import child_environment
from openssl_recipes.core.errors import RunError
from openssl_recipes.plan.steps import Step
from openssl_recipes.recipe.entries import Secret
from openssl_recipes.run.execute import _dependencies, execute

from ..helpers import (
    SMALL_RECIPE,
    fake_openssl,
    logging_openssl,
    read_calls,
    require,
    run,
    write_recipe,
)


def _made() -> dict[str, str]:
    """A real key and certificate, what a shell step writes: the executor reads each output back."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "step")])
    now = dt.datetime.now(dt.UTC)
    builder = x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
    cert = builder.serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256())
    pem = serialization.Encoding.PEM
    return {
        "key": key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode(),
        "cert": cert.public_bytes(pem).decode(),
    }


MADE = _made()


def shell_step(name: str, inputs: tuple[str, ...] = (), seconds: float = 0.0, kind: str = "cert") -> Step:
    """A step that records when it starts and ends, then writes `name` (a real key or certificate)."""
    script = (
        f'echo "start {name} $(date +%s.%N)" >> log; sleep {seconds}; printf %s "{MADE[kind]}" > {name}; '
        f'echo "end {name} $(date +%s.%N)" >> log'
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


def test_time_is_real_in_the_executor_test():
    """The executor test relies on `date +%s.%N`; a shell without it would make it pass vacuously."""

    value = float(subprocess.run(["sh", "-c", "date +%s.%N"], capture_output=True, text=True).stdout)
    assert abs(value - time.time()) < 60


SECRET = 'Tr0ub4dor&3 "quoted" $HOME #1'


@pytest.mark.parametrize("source", ["file", "env"])
def test_a_password_reaches_openssl_only_through_the_environment(tmp_path, source):
    (tmp_path / "client.pass").write_text(SECRET + "\nsecond line is ignored\n")
    given = "{file: client.pass}" if source == "file" else "{env: CLIENT_PASS}"
    recipe = write_recipe(tmp_path, SMALL_RECIPE + f"    password: {given}\n")
    env, log = logging_openssl(tmp_path)
    env["CLIENT_PASS"] = SECRET
    outputs = [run(command, "--recipe", str(recipe), env=env) for command in ("plan", "build", "verify")]
    ours = len(read_calls(log))
    outputs.append(run("handshake", "--recipe", str(recipe), env=env))
    for result in outputs:
        assert result.code == 0, result
        assert SECRET not in result.output and "Tr0ub4dor" not in result.output
    calls = read_calls(log)
    if source == "file":  # the entry's own variable: its readable name and a digest of the entry's name
        variable = next(name for call in calls for name in call["env"] if name.startswith("OPENSSL_RECIPES_PASSWORD_CLIENT_"))
    else:
        variable = "CLIENT_PASS"
    assert any(variable in call["env"] for call in calls)
    for call in calls:
        assert "Tr0ub4dor" not in call["argv"] and "pass:" not in call["argv"]
    # plan, build and verify: only the commands that open that key see the variable (the version probe
    # runs before the recipe's passwords are known; handshake builds a throwaway PKI of its own)
    for call in calls[:ours]:
        if variable in call["env"] and call["argv"] != "openssl version":
            assert "client.key" in call["argv"] or "client.csr" in call["argv"], call["argv"]
    from ..helpers import load_key

    load_key(tmp_path / "certs" / "client.key", SECRET.encode())  # the first line, exactly


def test_a_failing_run_does_not_leak_the_password(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE + "    password: {env: CLIENT_PASS}\n")
    real = require("openssl")
    # an openssl that fails loudly, echoing the password it can see to stderr
    env = fake_openssl(
        tmp_path,
        f'#!/bin/sh\ncase "$1 $*" in "req "*client.key*) echo "bad: $CLIENT_PASS" >&2; exit 1;; esac\nexec {real} "$@"\n',
    )
    result = run("build", "--recipe", str(recipe), "--jobs", "1", env={**env, "CLIENT_PASS": SECRET})
    assert result.code == 1, result
    assert SECRET not in result.output and "stderr: bad: ***" in result.stderr


def test_keys_are_private_from_the_first_byte(tmp_path):
    """The children run with umask 077, so a key is never readable by others, not even for an instant."""
    recipe = write_recipe(tmp_path, SMALL_RECIPE)
    log = tmp_path / "umasks"
    env = fake_openssl(
        tmp_path,
        f"#!{sys.executable}\nimport os, sys\nmask = os.umask(0); os.umask(mask)\n"
        f"open({str(log)!r}, 'a').write(f'{{mask:o}}\\n')\nos.execv({require('openssl')!r}, ['openssl', *sys.argv[1:]])\n",
    )
    assert run("build", "--recipe", str(recipe), env=env).code == 0
    masks = set(log.read_text().split())
    assert masks == {"77"}, masks
    assert stat.S_IMODE((tmp_path / "certs").stat().st_mode) == 0o700


def test_no_command_gives_openssl_a_password_on_its_command_line(tmp_path):
    """Every command that opens or writes an encrypted key — build, export, renew, revoke, crl, sign —
    hands openssl each password as `env:NAME`, never `pass:` or the value, as the logging openssl saw."""
    secrets = {"CA_PASS": "ca-" + SECRET, "CLIENT_PASS": "client-" + SECRET, "P12_PASS": "p12-" + SECRET}
    text = SMALL_RECIPE.replace("  subject: {CN: Test CA}\n", "  subject: {CN: Test CA}\n  password: {env: CA_PASS}\n")
    recipe = write_recipe(tmp_path, text + "    password: {env: CLIENT_PASS}\n")
    env, log = logging_openssl(tmp_path)
    env |= secrets
    device = tmp_path / "sensor.csr"
    made = subprocess.run(
        ["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        + ["-keyout", str(tmp_path / "sensor.key"), "-subj", "/CN=sensor", "-out", str(device)],
        capture_output=True,
    )
    assert made.returncode == 0, made
    commands = [
        ["build"],
        ["export", "client", "--password-env", "P12_PASS", "--fullchain"],
        ["renew", "client"],
        ["sign", "--csr", str(device), "--as", "client"],
        ["revoke", "client"],
        ["crl"],
    ]
    for command in commands:
        result = run(*command, "--recipe", str(recipe), env=env)
        assert result.code == 0, (command, result)
    argvs = [call["argv"].split() for call in read_calls(log)]
    for option in ("-passin", "-passout", "-pass"):  # (-pass: an encrypted EC key's; none here)
        given = [argv[argv.index(option) + 1] for argv in argvs if option in argv]
        assert all(value.startswith("env:") for value in given), (option, given)
        assert given or option == "-pass"
    for argv in argvs:
        assert not any(arg.startswith("pass:") or "Tr0ub4dor" in arg for arg in argv), argv

"""Parallel builds: the same results and the same report as one at a time, dependencies respected."""

from __future__ import annotations

import json
import sys

from ..helpers import cli, fake_openssl, load_cert, require, run, write_recipe

FLEET = """\
output: certs
defaults: {key_type: ec, one_step: false, subject: {O: Fleet}}  # key, request, signature: three steps a device
ca: {subject: {CN: Fleet CA}}
servers:
  - {name: gateway, subject: {CN: gateway.local}, san: [gateway.local, 192.0.2.7]}
clients:
  - {name: 'device-{n:03d}', count: 20, subject: {CN: 'device {n}'}, san: ['DNS:device-{n}.fleet.local']}
"""


def test_parallel_and_sequential_builds_report_the_same_lines(tmp_path):
    outputs = []
    for jobs in ("1", "2", "4"):
        work = tmp_path / f"jobs{jobs}"
        work.mkdir()
        recipe = write_recipe(work, FLEET.replace("count: 20", "count: 12"))  # 41 files: listed one per line
        result = cli("build", "--recipe", str(recipe), "--jobs", jobs)
        assert result.code == 0, result
        lines = result.stdout.splitlines()
        assert lines[-1].startswith("made 42, kept 0 in ")  # + the trust file
        outputs.append(lines[:-1])
        folder = work / "certs"
        serials = {load_cert(folder / f"device-{n:03d}.pem").serial_number for n in range(1, 13)}
        assert len(serials) == 12
        device = load_cert(folder / "device-007.pem")
        assert device.subject.rfc4514_string() == "CN=device 7,O=Fleet"
    assert outputs[0] == outputs[1] == outputs[2]
    assert outputs[0][:3] == ["made ca.key", "made ca.pem", "made gateway.key"]


def test_a_certificate_never_starts_before_its_request_and_its_ca(tmp_path):
    recipe = write_recipe(tmp_path, FLEET)
    real = require("openssl")
    log = tmp_path / "events.jsonl"
    env = fake_openssl(
        tmp_path,
        f"#!{sys.executable}\nimport json, os, subprocess, sys, time\n"
        f"log = open({str(log)!r}, 'a')\n"
        "log.write(json.dumps(['start', time.monotonic(), sys.argv[1:]]) + '\\n'); log.flush()\n"
        f"code = subprocess.call([{real!r}, *sys.argv[1:]])\n"
        "log.write(json.dumps(['end', time.monotonic(), sys.argv[1:]]) + '\\n'); log.flush()\nsys.exit(code)\n",
    )
    result = run("build", "--recipe", str(recipe), "--jobs", "3", env=env)
    assert result.code == 0, result
    events = [json.loads(line) for line in log.read_text().splitlines()]

    def when(kind: str, predicate) -> float:
        (found,) = [t for k, t, argv in events if k == kind and predicate(argv)]
        return found

    ca_done = when("end", lambda a: a[:2] == ["req", "-x509"])
    starts = 0
    for n in range(1, 21):
        name = f"device-{n:03d}"
        csr_done = when("end", lambda a, name=name: a[:2] == ["req", "-new"] and f"{name}.csr" in a)
        sign_start = when("start", lambda a, name=name: a[0] == "x509" and f"{name}.pem" in a)
        assert sign_start >= csr_done and sign_start >= ca_done
        starts += 1
    assert starts == 20
    running, peak = 0, 0
    for kind, _, argv in sorted(events, key=lambda e: e[1]):
        if argv != ["version"]:
            running += 1 if kind == "start" else -1
            peak = max(peak, running)
    assert peak <= 3


def test_no_progress_bar_when_not_a_terminal_or_quiet(tmp_path):
    recipe = write_recipe(tmp_path, FLEET)
    result = run("build", "--recipe", str(recipe))
    assert result.code == 0, result
    assert result.stderr == ""  # no bar, no escape codes on a pipe
    assert result.stdout.startswith("made 66, kept 0")  # above 60 files: the summary only
    quiet = run("build", "--recipe", str(recipe), "--quiet", "--force")
    assert quiet.code == 0 and quiet.stderr == "" and quiet.stdout.startswith("made 63, kept 3"), quiet

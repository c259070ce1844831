"""Builds stopped anywhere (SIGINT, SIGTERM, SIGKILL, Ctrl-C during start-up) or run twice at once end in
a PKI that verifies, and never keep a half-written file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..helpers import (
    fake_openssl,
    load_cert,
    require,
    run,
    write_recipe,
)

FLEET = """\
output: certs
defaults: {subject: {O: Test}}
ca: {subject: {CN: Test CA}}
servers:
  - {name: server, subject: {CN: localhost}, san: [localhost, 127.0.0.1]}
clients:
  - {name: 'device-{n}', count: 6, subject: {CN: 'device {n}'}}
"""


def openssl_verify_all(folder: Path, names: list[str], strict: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["openssl", "verify", *(["-x509_strict"] if strict else []), "-CAfile", "ca.pem", *names],
        cwd=folder,
        capture_output=True,
        text=True,
    )


def leaf_certs(folder: Path) -> list[str]:
    return ["server.pem", *(f"device-{n}.pem" for n in range(1, 7))]


def processes_in(folder: Path) -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if os.readlink(f"/proc/{pid}/cwd") == str(folder):
                    found.append(int(pid))
            except OSError:
                pass
    return found


def start_build(recipe: Path, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "openssl_recipes", "build", "--recipe", str(recipe), "--jobs", "2"],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


HOLDING_OPENSSL = """#!{python}
# openssl that holds the step writing {target!r} until the test releases it (so a signal lands mid-build)
import os, sys, time
if "{target}" in sys.argv:
    open({held!r}, "w").close()
    deadline = time.monotonic() + 120
    while not os.path.exists({release!r}) and time.monotonic() < deadline:
        time.sleep(0.01)
os.execv({real!r}, ["openssl", *sys.argv[1:]])
"""


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT, signal.SIGTERM], ids=["SIGKILL", "SIGINT", "SIGTERM"])
@pytest.mark.parametrize("target", ["ca.key", "device-3.key", "device-6.pem"])  # first, middle, late
def test_a_build_interrupted_anywhere_completes_on_the_next_run(tmp_path, sig, target):
    """The build is held at the step writing `target` (its openssl waits for a release file), so the
    signal always arrives mid-build; then the next build completes a sound PKI."""
    recipe = write_recipe(tmp_path, FLEET)
    held, release = tmp_path / "held", tmp_path / "release"
    program = HOLDING_OPENSSL.format(
        python=sys.executable, target=target, held=str(held), release=str(release), real=require("openssl")
    )
    proc = start_build(recipe, fake_openssl(tmp_path, program))
    deadline = time.monotonic() + 60
    while not held.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert held.exists() and proc.poll() is None, proc.communicate()  # the build is mid-flight
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
    else:
        assert proc.returncode == 130, (proc.returncode, err)
        assert err.count("\n") == 1 and err.startswith("interrupted") and "Traceback" not in err, err
    release.touch()  # a held orphan of the SIGKILL goes on (it holds the lock until it exits)
    folder = tmp_path / "certs"
    again = run("build", "--recipe", str(recipe))  # with the real openssl
    assert again.code == 0, again
    proc = openssl_verify_all(folder, leaf_certs(folder))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not [p.name for p in folder.iterdir() if ".tmp." in p.name]
    assert run("verify", "--recipe", str(recipe)).code == 0


@pytest.mark.parametrize("style", ["strict", "document"])
def test_two_builds_at_once_make_one_consistent_pki(tmp_path, style):
    recipe = write_recipe(tmp_path, f"style: {style}\n" + FLEET)
    first, second = start_build(recipe, {}), start_build(recipe, {})
    results = [p.communicate(timeout=120) + (p.returncode,) for p in (first, second)]
    for _out, err, code in results:
        assert code == 0, err
    folder = tmp_path / "certs"
    assert (
        openssl_verify_all(folder, leaf_certs(folder), strict=style == "strict").returncode == 0
    )  # the document's CA has no keyUsage
    serials = [load_cert(folder / name).serial_number for name in ["ca.pem", *leaf_certs(folder)]]
    assert len(set(serials)) == len(serials)
    made = [line for out, _, _ in results for line in out.splitlines() if line == "made ca.key"]
    assert len(made) == 1  # one CA, made by whichever build went first


def test_a_rerun_right_after_sigkill_stops_the_orphaned_openssl_and_goes_on(tmp_path):
    """kill -9 of the tool leaves its openssl children running, holding the folder's lock (on purpose: an
    orphan finishing device-2.key after a re-run signed device-2.pem would leave a key that does not
    match its certificate). The re-run says which processes hold the lock; they are the tool's own
    children of a build that no longer exists, so it stops them and goes on (it said "another build is
    running" and waited for as long as the orphan lived)."""
    recipe = write_recipe(tmp_path, FLEET)
    started = tmp_path / "orphan-started"
    real = require("openssl")
    env = fake_openssl(
        tmp_path,
        f"#!{sys.executable}\nimport os, sys, time\n"
        "if 'device-2.key' in sys.argv:  # (its key and certificate: one openssl req)\n"
        f"    open({str(started)!r}, 'w').close()\n"
        "    time.sleep(600)  # an openssl that would finish long after the re-run\n"
        f"os.execv({real!r}, ['openssl', *sys.argv[1:]])\n",
    )
    proc = start_build(recipe, env)
    deadline = time.monotonic() + 60
    while not started.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert started.exists(), proc.communicate()
    proc.kill()  # the tool only: its children live on, as after `kill -9 <pid>`
    proc.communicate(timeout=30)
    folder = tmp_path / "certs"
    orphans = processes_in(folder)
    assert orphans, "the orphaned openssl should still be running"
    rerun = subprocess.run(  # at once, with the real openssl
        [sys.executable, "-m", "openssl_recipes", "build", "--recipe", str(recipe)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert f"openssl children of openssl-recipes {proc.pid}, which no longer runs: stopped" in rerun.stderr, rerun.stderr
    assert "another build is running" not in rerun.stderr, rerun.stderr
    assert not processes_in(folder)
    from ..helpers import cert_public_bytes, load_key, public_bytes

    for n in range(1, 7):
        assert public_bytes(load_key(folder / f"device-{n}.key")) == cert_public_bytes(load_cert(folder / f"device-{n}.pem")), n
    assert openssl_verify_all(folder, leaf_certs(folder)).returncode == 0


HALF_WRITTEN = {  # what openssl killed mid-write leaves: a PEM that stops in its middle
    "device-3.key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n",
    "device-3.pem": "-----BEGIN CERTIFICATE-----\nMIIDETCCAfmgAwIBAgIUU",
    "server.csr": "",
}  # (a fleet's device is one openssl: its key is -keyout, its certificate -out)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT, signal.SIGTERM], ids=["SIGKILL", "SIGINT", "SIGTERM"])
@pytest.mark.parametrize("artifact", sorted(HALF_WRITTEN))
def test_a_half_written_file_is_never_kept(tmp_path, sig, artifact):
    """An openssl that has written half of `artifact` when the build is stopped. SIGINT/SIGTERM: the build
    stops it, removes the half file and exits 130 with one line. SIGKILL: the half file stays (and its
    openssl dies too, as on a power cut); the next build sees it is incomplete and makes it again."""
    recipe = write_recipe(tmp_path, FLEET)
    pid_file = tmp_path / "writer.pid"
    real = require("openssl")
    env = fake_openssl(
        tmp_path,
        f"#!{sys.executable}\nimport os, sys, time\n"
        "outs = [sys.argv[i + 1] for i, arg in enumerate(sys.argv[:-1]) if arg in ('-out', '-keyout')]\n"
        f"if {artifact!r} in outs:\n"
        f"    open({artifact!r}, 'w').write({HALF_WRITTEN[artifact]!r})\n"
        f"    open({str(pid_file) + '.tmp'!r}, 'w').write(str(os.getpid()))\n"
        f"    os.replace({str(pid_file) + '.tmp'!r}, {str(pid_file)!r})\n    time.sleep(60)\n"
        f"os.execv({real!r}, ['openssl', *sys.argv[1:]])\n",
    )
    proc = start_build(recipe, env)
    deadline = time.monotonic() + 60
    while not pid_file.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert pid_file.exists(), proc.communicate()  # written (atomically) after the half file
    folder = tmp_path / "certs"
    proc.send_signal(sig)
    _out, err = proc.communicate(timeout=60)
    if sig == signal.SIGKILL:
        os.kill(int(pid_file.read_text()), signal.SIGKILL)  # the writer dies mid-file too
        assert (folder / artifact).read_text() == HALF_WRITTEN[artifact]
    else:
        assert proc.returncode == 130 and err.count("\n") == 1 and err.startswith("interrupted"), (proc.returncode, err)
        assert not (folder / artifact).exists()
    again = run("build", "--recipe", str(recipe))
    assert again.code == 0 and f"made {artifact}" in again.stdout, again
    assert openssl_verify_all(folder, leaf_certs(folder)).returncode == 0
    from ..helpers import cert_public_bytes, load_key, public_bytes

    assert public_bytes(load_key(folder / "device-3.key")) == cert_public_bytes(load_cert(folder / "device-3.pem"))


def test_ctrl_c_anywhere_in_start_up_says_interrupted_once_and_exits_130(tmp_path):
    """SIGINT at 24 moments of start-up (imports, option parsing, loading, planning), the head start
    holding the CA key. Found: Python 3.11 made the process die by SIGINT after the tool had handled the
    interrupt (when it landed in a dataclass's or namedtuple's exec'd code), and typer turned one during
    its option parsing into a silent 130."""
    recipe = write_recipe(tmp_path, FLEET)
    held, release = tmp_path / "held", tmp_path / "release"
    program = HOLDING_OPENSSL.format(
        python=sys.executable, target="ca.key", held=str(held), release=str(release), real=require("openssl")
    )
    env = fake_openssl(tmp_path, program)
    outcomes, errors = [], []
    for step in range(24):
        held.unlink(missing_ok=True)
        proc = start_build(recipe, env)
        deadline = time.monotonic() + 60
        while not held.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        time.sleep(step * 0.025)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
        outcomes.append((proc.returncode, err.count("\n"), err.startswith("interrupted"), "Traceback" in err))
        errors.append(err)
    wrong = {step: errors[step] for step, outcome in enumerate(outcomes) if outcome != (130, 1, True, False)}
    assert not wrong, (outcomes, wrong)
    leftovers = [
        p.name for p in (tmp_path / "certs").glob("*") if ".tmp." in p.name or p.name.startswith(".openssl-recipes.headstart")
    ]
    assert not leftovers  # (keys finished before the interrupt are kept: the next build uses them)

"""Safe under faults: secrets stay secret, interrupted and concurrent builds end in a PKI that verifies,
a full or read-only disk and hostile file names get clear errors and lose nothing."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .helpers import (
    IN_CI,
    ROOT,
    SMALL_RECIPE,
    cli,
    fake_openssl,
    load_cert,
    logging_openssl,
    read_calls,
    require,
    run,
    tree,
    write_recipe,
)

pytestmark = pytest.mark.slow  # real brokers, many builds or killed builds: `make test-fast` skips it

SECRET = 'Tr0ub4dor&3 "quoted" $HOME #1'

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


# -- secrets ---------------------------------------------------------------------------------------


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
    from .helpers import load_key

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


def test_an_empty_password_is_refused(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE + "    password: {env: CLIENT_PASS}\n")
    result = cli("build", "--recipe", str(recipe), env={"CLIENT_PASS": ""})
    assert result.code == 2 and "is empty" in result.stderr, result
    assert not (tmp_path / "certs").exists()


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


# -- interruptions ---------------------------------------------------------------------------------


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
@pytest.mark.parametrize("target", ["ca.key", "device-3.csr", "device-6.pem"])  # first, middle, late
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


# -- concurrency -----------------------------------------------------------------------------------


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


# -- disks and file names ------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount_point)], capture_output=True, text=True)
    if proc.returncode != 0:
        if IN_CI:  # CI runs as root on a machine that can: a missing check is a failure there, not a skip
            pytest.fail(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


def test_a_read_only_disk_gets_a_clear_error_and_keeps_its_files(small_disk):
    recipe = write_recipe(small_disk, SMALL_RECIPE)
    assert cli("build", "--recipe", str(recipe)).code == 0
    before = tree(small_disk / "certs")
    assert subprocess.run(["mount", "-o", "remount,ro", str(small_disk)]).returncode == 0
    result = cli("build", "--recipe", str(recipe), "--force")
    assert result.code == 2 and "is not writable" in result.stderr and "Traceback" not in result.output, result
    assert tree(small_disk / "certs") == before


def test_a_full_disk_gets_a_clear_error_and_keeps_its_files(small_disk):
    recipe = write_recipe(small_disk, SMALL_RECIPE)
    assert cli("build", "--recipe", str(recipe)).code == 0
    (small_disk / "filler").write_bytes(b"\0" * 450_000)
    before = tree(small_disk / "certs")
    result = cli("build", "--recipe", str(recipe), "--force")
    assert result.code == 2 and "KiB free" in result.stderr, result
    assert tree(small_disk / "certs") == before


def test_a_symlink_in_the_output_folder_is_refused(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE)
    folder = tmp_path / "certs"
    folder.mkdir()
    elsewhere = tmp_path / "elsewhere.key"
    (folder / "client.key").symlink_to(elsewhere)
    result = cli("build", "--recipe", str(recipe))
    assert result.code == 2 and "is a symbolic link" in result.stderr, result
    assert not elsewhere.exists()
    assert [p.name for p in folder.iterdir()] == ["client.key"]


# -- the openssl found ---------------------------------------------------------------------------------


@pytest.mark.parametrize("banner", ["OpenSSL 1.0.2k-fips  26 Jan 2017", "LibreSSL 2.8.3", "Garbage 1.0"])
def test_an_unusable_openssl_is_one_clear_line(tmp_path, banner):
    fake = tmp_path / "openssl"
    fake.write_text(f"#!/bin/sh\necho '{banner}'\n")
    fake.chmod(0o755)
    recipe = write_recipe(tmp_path, SMALL_RECIPE)
    result = cli("build", "--recipe", str(recipe), "--openssl", str(fake))
    assert result.code == 1 and result.stderr.count("\n") == 1, result
    assert banner.split()[0] in result.stderr


def test_a_non_executable_openssl_is_one_clear_line(tmp_path):
    fake = tmp_path / "openssl"
    fake.write_text("not a program")
    recipe = write_recipe(tmp_path, SMALL_RECIPE)
    result = cli("build", "--recipe", str(recipe), "--openssl", str(fake))
    assert result.code == 1 and result.stderr.count("\n") == 1 and "not found" in result.stderr, result


def test_the_package_never_builds_a_pass_argument():
    sources = "\n".join(p.read_text() for p in (ROOT / "openssl_recipes").rglob("*.py"))
    assert '"pass:' not in sources and "'pass:" not in sources


def test_a_prompted_password_is_asked_on_the_terminal_and_never_echoed(tmp_path):
    """`password: prompt`: asked twice, hidden, on a real pseudo-terminal."""
    import pty

    from .helpers import load_key

    recipe = write_recipe(tmp_path, SMALL_RECIPE + "    password: prompt\n")
    pid, fd = pty.fork()
    if pid == 0:  # the child: the tool, with the pty as its terminal
        os.execv(sys.executable, [sys.executable, "-m", "openssl_recipes", "build", "--recipe", str(recipe)])
    seen = b""

    def read_until(marker: bytes) -> None:
        nonlocal seen
        deadline = time.monotonic() + 60
        while marker not in seen and time.monotonic() < deadline:
            try:
                seen += os.read(fd, 1024)
            except OSError:
                break

    read_until(b"Password for client's key: ")
    os.write(fd, b"typed secret\n")
    read_until(b"Again: ")
    os.write(fd, b"typed secret\n")
    read_until(b"made ")
    while True:
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, seen.decode(errors="replace")
    assert b"typed secret" not in seen  # getpass turned echo off
    load_key(tmp_path / "certs" / "client.key", b"typed secret")


def test_a_rerun_right_after_sigkill_waits_for_the_orphaned_openssl(tmp_path):
    """kill -9 of the tool leaves its openssl children running; a build started at once must not race them
    (an orphan finishing device-2.key after the re-run signed device-2.pem would leave a key that does not
    match its certificate). The children hold the folder's lock until they exit, so the re-run waits."""
    recipe = write_recipe(tmp_path, FLEET)
    started, release = tmp_path / "orphan-started", tmp_path / "release"
    real = require("openssl")
    env = fake_openssl(
        tmp_path,
        f"#!{sys.executable}\nimport os, sys, time\n"
        "if sys.argv[1] in ('genrsa', 'genpkey') and 'device-2.key' in sys.argv:\n"
        f"    open({str(started)!r}, 'w').close()\n"
        f"    deadline = time.monotonic() + 120\n"
        f"    while not os.path.exists({str(release)!r}) and time.monotonic() < deadline:\n"
        "        time.sleep(0.01)\n"
        f"os.execv({real!r}, ['openssl', *sys.argv[1:]])\n",
    )
    proc = start_build(recipe, env)
    deadline = time.monotonic() + 60
    while not started.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert started.exists(), proc.communicate()
    proc.kill()  # the tool only: its children live on, as after `kill -9 <pid>`
    proc.communicate(timeout=30)
    rerun_err = tmp_path / "rerun.err"
    with rerun_err.open("w") as err_file:  # at once, with the real openssl: it must wait for the orphan
        rerun = subprocess.Popen(
            [sys.executable, "-m", "openssl_recipes", "build", "--recipe", str(recipe)],
            stdout=subprocess.PIPE,
            stderr=err_file,
            text=True,
        )
        deadline = time.monotonic() + 60
        while "another build is running" not in rerun_err.read_text() and rerun.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert "another build is running" in rerun_err.read_text() and rerun.poll() is None, rerun_err.read_text()
        release.touch()  # the orphan finishes its key; then the waiting build goes on
        rerun.communicate(timeout=120)
    assert rerun.returncode == 0, rerun_err.read_text()
    folder = tmp_path / "certs"
    deadline = time.monotonic() + 30
    while processes_in(folder) and time.monotonic() < deadline:
        time.sleep(0.05)
    from .helpers import cert_public_bytes, load_key, public_bytes

    for n in range(1, 7):
        assert public_bytes(load_key(folder / f"device-{n}.key")) == cert_public_bytes(load_cert(folder / f"device-{n}.pem")), n
    assert openssl_verify_all(folder, leaf_certs(folder)).returncode == 0


HALF_WRITTEN = {  # what openssl killed mid-write leaves: a PEM that stops in its middle
    "device-3.key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n",
    "device-3.pem": "-----BEGIN CERTIFICATE-----\nMIIDETCCAfmgAwIBAgIUU",
    "device-3.csr": "",
}


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
        "out = sys.argv[sys.argv.index('-out') + 1] if '-out' in sys.argv else None\n"
        f"if out == {artifact!r}:\n"
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
    from .helpers import cert_public_bytes, load_key, public_bytes

    assert public_bytes(load_key(folder / "device-3.key")) == cert_public_bytes(load_cert(folder / "device-3.pem"))


@pytest.mark.parametrize(
    "field, value, reason",
    [
        ("key_file", "../client.key", "must be a plain file name"),
        ("cert_file", "/tmp/openssl-recipes-outside.pem", "must be a plain file name"),
        ("csr_file", "sub/client.csr", "must be a plain file name"),
        ("key_file", "-passout", "no leading '-'"),  # openssl (and the printed shell script) would read an option
        ("cert_file", "x" * 300 + ".pem", "characters long"),  # the file system's limit: a clean error, not a crash
        ("key_file", ".openssl-recipes.lock", "must be a plain file name"),  # the lock; hidden names are refused
    ],
)
def test_file_names_that_leave_the_output_folder_are_refused(tmp_path, field, value, reason):
    recipe = write_recipe(tmp_path, SMALL_RECIPE + f"    {field}: '{value}'\n")
    before = tree(tmp_path)
    result = cli("build", "--recipe", str(recipe))
    assert result.code == 2 and f"clients[0].{field}" in result.stderr and reason in result.stderr, result
    assert tree(tmp_path) == before and not (tmp_path / "certs").exists()
    assert not Path("/tmp/openssl-recipes-outside.pem").exists()


@pytest.mark.slow
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
    outcomes = []
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
    assert outcomes == [(130, 1, True, False)] * 24, outcomes
    leftovers = [
        p.name for p in (tmp_path / "certs").glob("*") if ".tmp." in p.name or p.name.startswith(".openssl-recipes.headstart")
    ]
    assert not leftovers  # (keys finished before the interrupt are kept: the next build uses them)


def test_an_interrupt_wrapped_while_a_class_was_made_is_still_an_interrupt():
    from openssl_recipes.core.interrupt import Interrupt, interrupted_by

    class Descriptor:
        def __set_name__(self, owner, name):
            raise Interrupt

    with pytest.raises(BaseException) as caught:
        type("Made", (), {"field": Descriptor()})
    assert interrupted_by(caught.value)  # Python 3.11: a RuntimeError caused by it; 3.12+: the interrupt
    assert not interrupted_by(RuntimeError("a bug")) and not interrupted_by(SystemExit(130))
    try:
        try:
            raise Interrupt
        except Interrupt:
            raise SystemExit(3) from None
    except SystemExit as exc:
        assert not interrupted_by(exc)

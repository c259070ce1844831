"""The real peers the tests start on 127.0.0.1: mosquitto (from a configuration text, stopped by itself)
and NanoMQ (found through $NANOMQ or ../shared/tools/nanomq-0.25.5, required in CI)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from .helpers import IN_CI, ROOT, require


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, log: Path, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"mosquitto exited with {proc.returncode}: {log.read_text(errors='replace')}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"mosquitto did not listen on {port} within {timeout} s")


@dataclass
class Mosquitto:
    proc: subprocess.Popen
    log: Path  # everything it logs (log_type all), to read the reason of a refusal

    def wait_for_log(self, text: str, timeout: float = 10) -> str | None:
        """The first line of its log holding `text`, waited for (None when it does not come)."""
        deadline = time.monotonic() + timeout
        while True:
            found = next((line for line in self.log.read_text(errors="replace").splitlines() if text in line), None)
            if found is not None or time.monotonic() > deadline:
                return found
            time.sleep(0.05)


def root_user_line() -> str:
    """mosquitto started as root drops to the `mosquitto` user, which cannot read a 0600 key owned by
    root; `user root` keeps it as root (the option is ignored when not started as root)."""
    return "user root\n" if os.geteuid() == 0 else ""


@contextlib.contextmanager
def mosquitto(conf_text: str, folder: Path, ports: list[int]) -> Iterator[Mosquitto]:
    """Run `mosquitto -c` with `conf_text` (plus `user root` when needed) until the block ends; its log
    goes to a file beside the configuration (a pipe nobody reads would stop it once full)."""
    binary = require("mosquitto")
    conf, log = folder / f"mosquitto-{ports[0]}.conf", folder / f"mosquitto-{ports[0]}.log"
    conf.write_text(root_user_line() + "persistence false\nlog_dest stderr\nlog_type all\n" + conf_text)
    with log.open("wb") as log_file:
        proc = subprocess.Popen([binary, "-c", str(conf)], stdout=log_file, stderr=subprocess.STDOUT)
        try:
            for port in ports:
                wait_for_port(port, proc, log)
            yield Mosquitto(proc, log)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def listener_conf(port: int, ca: Path, cert: Path, key: Path, require_certificate: bool = True) -> str:
    return (
        f"listener {port} 127.0.0.1\n"
        f"cafile {ca}\ncertfile {cert}\nkeyfile {key}\n"
        f"require_certificate {'true' if require_certificate else 'false'}\n"
        "allow_anonymous true\n"
    )


NANOMQ_SHIPPED = ROOT.parent / "shared" / "tools" / "nanomq-0.25.5" / "nanomq"


def nanomq_binary() -> str:
    """The broker's path; skip without one (with the reason), but fail in CI."""
    candidate = os.environ.get("NANOMQ") or str(NANOMQ_SHIPPED)
    problem = None
    if not Path(candidate).is_file():
        problem = f"no NanoMQ at {candidate} (set NANOMQ)"
    else:
        # It takes no --version; `ldd` tells a missing mbedTLS runtime apart from a missing file.
        libraries = subprocess.run(["ldd", candidate], capture_output=True, text=True)
        missing = [line.split()[0] for line in libraries.stdout.splitlines() if "not found" in line]
        if missing:
            problem = f"{candidate} cannot run: {', '.join(missing)} not found (apt-get install libmbedtls14 libmbedx509-1 libmbedcrypto7)"
    if problem:
        if IN_CI:
            pytest.fail(f"{problem} (CI=true: a missing peer is a failure; .ci/run installs it)")
        pytest.skip(problem)
    return candidate


def listening_addresses(pid: int) -> set[str]:
    """The IPv4 addresses (hex, as /proc/net/tcp writes them) a process's listening TCP sockets bind."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "0A" and fields[9] in inodes:  # LISTEN
            found.add(fields[1].split(":")[0])
    return found


LOOPBACK = "0100007F"  # 127.0.0.1 in /proc/net/tcp's byte order

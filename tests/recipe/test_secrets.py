"""Passwords by reference: an empty one is refused, a prompted one is asked on the terminal and never echoed."""

from __future__ import annotations

import os
import sys
import time

from ..helpers import (
    SMALL_RECIPE,
    cli,
    write_recipe,
)


def test_an_empty_password_is_refused(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE + "    password: {env: CLIENT_PASS}\n")
    result = cli("build", "--recipe", str(recipe), env={"CLIENT_PASS": ""})
    assert result.code == 2 and "is empty" in result.stderr, result
    assert not (tmp_path / "certs").exists()


def test_a_prompted_password_is_asked_on_the_terminal_and_never_echoed(tmp_path):
    """`password: prompt`: asked twice, hidden, on a real pseudo-terminal."""
    import pty

    from ..helpers import load_key

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

"""A disk that fills during a step (a real tmpfs filled just before the chosen openssl runs, and the
kernel's file-size limit on openssl itself; the limit alone where no tmpfs can be mounted): OpenSSL
3.0 may exit 0 and leave a 0-byte file. The step fails (exit 1) naming the file, the partial file is
gone, what was there before is there still, and once space is back the same command finishes."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from ..helpers import SMALL_RECIPE, cli, fake_openssl, require, write_recipe

FILLING_OPENSSL = """#!/bin/sh
# just before the step whose arguments hold $FILL_BEFORE: fill the disk, and let no file of openssl's
# grow (the kernel's file-size limit, its signal ignored: each write fails as on a full disk) — for
# `openssl ca` frees a page of its own (crlnumber.old) just before it writes the CRL
for word in "$@"; do
  if [ -n "$FILL_BEFORE" ] && [ "$word" = "$FILL_BEFORE" ]; then
    [ -z "$MOUNTED" ] || cat /dev/zero > "$DISK/filler" 2>/dev/null
    trap '' XFSZ
    ulimit -f 0
  fi
done
exec {real} "$@"
"""


@pytest.fixture
def disk(tmp_path):
    """A 4 MiB tmpfs at tmp_path/disk, filled before the step; where no tmpfs can be mounted (not root,
    no CAP_SYS_ADMIN) a plain folder, and the file-size limit alone makes openssl's writes fail."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(mount)], capture_output=True, text=True
    )
    try:
        yield mount, done.returncode == 0
    finally:
        if done.returncode == 0:
            subprocess.run(["umount", "-l", str(mount)], check=False)


def _recipe(tmp_path: Path, disk: tuple[Path, bool]) -> Path:
    return write_recipe(tmp_path, SMALL_RECIPE.replace("output: certs", f"output: {disk[0] / 'certs'}"))


def _filling(tmp_path: Path, disk: tuple[Path, bool], before: str) -> dict[str, str]:
    folder, mounted = disk
    wrapper = FILLING_OPENSSL.format(real=require("openssl"))
    return {**fake_openssl(tmp_path, wrapper), "DISK": str(folder), "FILL_BEFORE": before, "MOUNTED": "1" if mounted else ""}


def test_a_key_cut_short_by_a_full_disk_fails_the_build_and_is_not_kept(tmp_path, disk):
    """The CA is made first; the disk fills as the leaves' keys are made: exit 1 naming the step, no
    key cut short left behind, the CA as it was; with space again the same build finishes."""
    leaves = SMALL_RECIPE[SMALL_RECIPE.index("servers:") :]
    recipe = write_recipe(tmp_path, SMALL_RECIPE.replace(leaves, "").replace("output: certs", f"output: {disk[0] / 'certs'}"))
    assert cli("build", "--recipe", str(recipe)).code == 0
    certs = disk[0] / "certs"
    ca = {name: (certs / name).read_bytes() for name in ("ca.key", "ca.pem")}
    recipe.write_text(recipe.read_text() + leaves)
    full = cli("build", "--recipe", str(recipe), env=_filling(tmp_path, disk, "client.key"))
    assert full.code == 1 and ("does not read back" in full.stderr or "openssl failed" in full.stderr), full
    assert "made client.key" not in full.stdout, full
    assert all(path.stat().st_size > 0 for path in certs.iterdir() if path.suffix in (".key", ".pem")), list(certs.iterdir())
    assert {name: (certs / name).read_bytes() for name in ca} == ca
    (disk[0] / "filler").unlink(missing_ok=True)
    again = cli("build", "--recipe", str(recipe))
    assert again.code == 0, again
    assert {name: (certs / name).read_bytes() for name in ca} == ca
    assert cli("verify", "--recipe", str(recipe)).code == 0


@pytest.mark.parametrize(
    ("command", "output", "word"), [(["crl"], "crl.pem", "-gencrl"), (["export", "client"], "client.p12", "pkcs12")]
)
def test_a_crl_or_pkcs12_cut_short_fails_and_the_earlier_one_stays(tmp_path, disk, command, output, word):
    recipe = _recipe(tmp_path, disk)
    env = {"P12_PASS": "export-password"}
    args = [*command, "--recipe", str(recipe), *(["--password-env", "P12_PASS"] if command[0] == "export" else [])]
    assert cli("build", "--recipe", str(recipe)).code == 0
    assert cli(*args, env=env).code == 0
    earlier = (disk[0] / "certs" / output).read_bytes()
    full = cli(*args, env={**env, **_filling(tmp_path, disk, word)})
    assert full.code == 1 and output in full.stderr and "wrote" not in full.stdout, full
    assert (disk[0] / "certs" / output).read_bytes() == earlier  # the one there before is there still
    leftovers = [p.name for p in (disk[0] / "certs").rglob("*.bak")]
    assert leftovers == [], leftovers  # the backups the step kept went back into place
    (disk[0] / "filler").unlink(missing_ok=True)
    assert cli(*args, env=env).code == 0
    assert os.path.getsize(disk[0] / "certs" / output) > 0

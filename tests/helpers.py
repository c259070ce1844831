"""Shared test helpers: the tool run for real (in-process or as a process), recipes in tmp folders,
one default PKI per session, and the rule that in CI a missing peer fails instead of skipping."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RECIPE = ROOT / "recipes.yaml"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
FULL_HYPOTHESIS = IN_CI or os.environ.get("HYPOTHESIS_PROFILE") == "full"  # the profile conftest.py loads


def examples(full: int) -> int:
    """A property test's number of examples: `full` in the full profile (CI), a tenth (at least 5) else."""
    return full if FULL_HYPOTHESIS else max(5, full // 10)


def require(binary: str) -> str:
    """The path of `binary`; skip without it, but fail in CI, where every peer must be present."""
    path = shutil.which(binary)
    if path is None:
        message = f"{binary} is not installed"
        if IN_CI:
            pytest.fail(f"{message} (CI=true: a missing peer is a failure; .ci/run installs it)")
        pytest.skip(message)
    return path


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def __str__(self) -> str:  # so `assert r.code == 0, r` explains itself
        return f"exit {self.code}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Outcome:
    """Run the CLI in-process (fast); the current folder is switched for the call."""
    from openssl_recipes.cli import app

    old = Path.cwd()
    if cwd:
        os.chdir(cwd)
    try:
        result = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    finally:
        os.chdir(old)
    return Outcome(result.exit_code, result.stdout, result.stderr)


def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 300) -> Outcome:
    """Run `python -m openssl_recipes` as a real process."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "openssl_recipes", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    return Outcome(proc.returncode, proc.stdout, proc.stderr)


def write_recipe(folder: Path, text: str, name: str = "recipes.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


SMALL_RECIPE = """\
output: certs
defaults:
  subject: {C: DE, O: Test}
ca:
  subject: {CN: Test CA}
servers:
  - name: server
    subject: {CN: localhost}
    san: [localhost, 127.0.0.1]
clients:
  - name: client
    subject: {CN: client}
"""

TWO_CLIENTS = SMALL_RECIPE + "  - name: short\n    subject: {CN: short}\n    days: 10\n"  # one expires soon


def foreign_pki(tmp_path: Path) -> Path:
    """The small recipe built under another CA, in its own folder: returns that certs folder."""
    other = tmp_path / "foreign"
    other.mkdir()
    recipe = write_recipe(other, SMALL_RECIPE.replace("Test CA", "Foreign CA"))
    result = cli("build", "--recipe", str(recipe))
    assert result.code == 0, result
    return other / "certs"


@pytest.fixture
def small_recipe(tmp_path: Path) -> Path:
    return write_recipe(tmp_path, SMALL_RECIPE)


@pytest.fixture(scope="session")
def built_pkis(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each recipe text the tests ask for, built once for the session: text → its folder."""
    return {}


@pytest.fixture
def copy_pki(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, built_pkis: dict[str, Path]):
    """A function: the PKI of a recipe text, built once for the session, copied into this test's folder
    (modes kept) for the test to change as it likes."""

    def copy(text: str = SMALL_RECIPE) -> Pki:
        if text not in built_pkis:
            work = tmp_path_factory.mktemp("pki")
            result = cli("build", "--recipe", str(write_recipe(work, text)))
            assert result.code == 0, result
            built_pkis[text] = work
        shutil.copytree(built_pkis[text], tmp_path, symlinks=True, dirs_exist_ok=True)
        return Pki(tmp_path / "certs", tmp_path / "recipes.yaml")

    return copy


@pytest.fixture
def small_pki(copy_pki) -> Pki:
    """The small recipe's PKI (CA, server, client), this test's own copy."""
    return copy_pki()


@dataclass
class Pki:
    folder: Path
    recipe: Path

    def __truediv__(self, name: str) -> Path:
        return self.folder / name


@pytest.fixture(scope="session")
def default_pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """The top-level recipes.yaml built once for the session (read-only for the tests that use it)."""
    require("openssl")
    work = tmp_path_factory.mktemp("default")
    recipe = work / "recipes.yaml"
    shutil.copy(DEFAULT_RECIPE, recipe)
    result = run("build", "--recipe", str(recipe))
    assert result.code == 0, result
    return Pki(work / "certs", recipe)


def load_cert(path: Path):
    from cryptography import x509

    return x509.load_pem_x509_certificate(path.read_bytes())


def load_key(path: Path, password: bytes | None = None):
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(path.read_bytes(), password=password)


def public_bytes(key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def cert_public_bytes(cert) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` with its bytes, to prove nothing changed."""
    return (
        {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()} if folder.exists() else {}
    )


WRAPPER = """#!{python}
# A logging openssl: records argv and the names of the environment variables, then runs the real one.
import json, os, shlex, sys
with open({log!r}, "a") as log:
    log.write(json.dumps({{"argv": shlex.join(["openssl", *sys.argv[1:]]), "env": sorted(os.environ), "cwd": os.getcwd()}}) + "\\n")
os.execv({real!r}, [{real!r}, *sys.argv[1:]])
"""


def fake_openssl(folder: Path, program: str) -> dict[str, str]:
    """Put an executable `openssl` with this text in a new folder; return the env that puts it first on PATH."""
    import stat

    bin_dir = folder / "wrapper-bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "openssl"
    wrapper.write_text(program)
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


def logging_openssl(folder: Path) -> tuple[dict[str, str], Path]:
    """An `openssl` first on PATH that logs each call (argv, environment names); the env and the log."""
    log = folder / "openssl-calls.jsonl"
    env = fake_openssl(folder, WRAPPER.format(python=sys.executable, log=str(log), real=require("openssl")))
    return env, log


def read_calls(log: Path) -> list[dict]:
    import json

    if not log.exists():
        return []
    calls = []
    for line in log.read_text().splitlines():
        try:
            calls.append(json.loads(line))
        except json.JSONDecodeError:  # the last line, still being written by a running openssl wrapper
            break
    return calls


def make_device_requests(document: dict, folder: Path) -> None:
    """The request of each `csr:` entry of a recipe (every member of a fleet's), made in `folder` as a
    device would make it."""
    from openssl_recipes.core.numbering import fill_number

    for entry in (document.get("servers") or []) + (document.get("clients") or []):
        for n in range(1, entry.get("count", 1) + 1) if "csr" in entry else ():
            request = folder / fill_number(entry["csr"], n)
            request.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                ["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
                + ["-keyout", str(folder / "device.key"), "-subj", "/CN=device", "-out", str(request)],
                check=True,
                capture_output=True,
            )

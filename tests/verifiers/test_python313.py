"""Python 3.13's default SSL context (VERIFY_X509_STRICT on by default) as a verifier, both directions."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from ..helpers import DEFAULT_RECIPE, IN_CI, cli, write_recipe

SCRIPT = Path(__file__).parent / "py313" / "default_context.py"
CANDIDATES = ("/root/.pyenv/versions/3.13.0/bin/python3.13", "python3.13")


@pytest.fixture(scope="module")
def python313() -> str:
    for candidate in CANDIDATES:
        found = shutil.which(candidate)
        if found and subprocess.run([found, "-c", "import ssl"], capture_output=True).returncode == 0:
            return found
    if IN_CI:
        pytest.fail("Python 3.13 is not installed (this machine kind ships it under pyenv)")
    pytest.skip("Python 3.13 is not installed")


def run313(python: str, folder: Path, name: str, client_cert="client.pem", client_key="client-key.pem"):
    return subprocess.run(
        [python, str(SCRIPT), str(folder), name, client_cert, client_key], capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("name", ["localhost", "127.0.0.1"])
def test_python313_default_context_accepts_the_strict_pki(python313, default_pki, name):
    proc = run313(python313, default_pki.folder, name)
    assert proc.returncode == 0 and proc.stdout.startswith("ok 3.13"), proc.stdout + proc.stderr


@pytest.mark.parametrize("name", ["localhost", "127.0.0.1"])
def test_python313_default_context_accepts_a_pki_whose_ca_key_is_in_a_token(python313, token_pki, name):
    proc = run313(python313, token_pki, name)
    assert proc.returncode == 0 and proc.stdout.startswith("ok 3.13"), proc.stdout + proc.stderr


def test_python313_refuses_the_documents_certificates_as_measured(python313, tmp_path):
    recipe = write_recipe(tmp_path, DEFAULT_RECIPE.read_text().replace("style: strict", "style: document"))
    assert (result := cli("build", "--recipe", str(recipe))).code == 0, result
    proc = run313(python313, tmp_path / "certs", "localhost")
    assert proc.returncode == 1 and "FAIL" in proc.stdout, proc.stdout + proc.stderr

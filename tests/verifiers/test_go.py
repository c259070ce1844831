"""Go's crypto/x509 and crypto/tls as an independent strict verifier (tests/go/verify_tls.go)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from ..helpers import DEFAULT_RECIPE, cli, require, write_recipe

GO_SOURCE = Path(__file__).parent / "go" / "verify_tls.go"


@pytest.fixture(scope="module")
def go_verifier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    go = require("go")
    out = tmp_path_factory.mktemp("go") / "verify_tls"
    env = {**os.environ, "GOCACHE": str(out.parent / "cache"), "GOPATH": str(out.parent / "path"), "GO111MODULE": "off"}
    proc = subprocess.run([go, "build", "-o", str(out), str(GO_SOURCE)], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return out


def go_verify(verifier: Path, folder: Path, names: str, client_key: str = "client-key.pem") -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(verifier), "-names", names, "-client-key", client_key], cwd=folder, capture_output=True, text=True, timeout=60
    )


def test_go_accepts_the_default_pki_by_name_and_ip_with_mutual_tls(go_verifier, default_pki):
    proc = go_verify(go_verifier, default_pki.folder, "localhost,127.0.0.1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ok mutual TLS handshake" in proc.stdout


def test_go_accepts_a_pki_whose_ca_key_is_in_a_token(go_verifier, token_pki):
    proc = go_verify(go_verifier, token_pki, "localhost,127.0.0.1")
    assert proc.returncode == 0 and "ok mutual TLS handshake" in proc.stdout, proc.stdout + proc.stderr


def test_go_accepts_ec_keys(go_verifier, tmp_path):
    text = DEFAULT_RECIPE.read_text().replace("key_type: rsa", "key_type: ec")
    recipe = write_recipe(tmp_path, text)
    assert (result := cli("build", "--recipe", str(recipe))).code == 0, result
    proc = go_verify(go_verifier, tmp_path / "certs", "localhost,127.0.0.1")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_go_refuses_the_documents_certificates_as_measured(go_verifier, tmp_path):
    """The reason for the strict style: the document's commands make a CN-only server certificate."""
    recipe = write_recipe(tmp_path, DEFAULT_RECIPE.read_text().replace("style: strict", "style: document"))
    assert (result := cli("build", "--recipe", str(recipe))).code == 0, result
    proc = go_verify(go_verifier, tmp_path / "certs", "localhost")
    assert proc.returncode == 1
    assert "legacy Common Name" in proc.stdout

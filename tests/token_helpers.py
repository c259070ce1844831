"""A real SoftHSM2 token for the tests of a CA key in a token: initialised in a temporary folder (its own
SOFTHSM2_CONF), reached through the same module the tool finds, read independently with pkcs11-tool."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from .helpers import DEFAULT_RECIPE, IN_CI, require

PIN = "pin-Zq8w4"  # distinctive: a test finds it wherever it leaks
SO_PIN = "so-Kx2m9a1"


def require_engine() -> None:
    """openssl's pkcs11 engine (Debian's libengine-pkcs11-openssl); skip without it, fail in CI."""
    proc = subprocess.run(["openssl", "engine", "pkcs11"], capture_output=True, text=True)
    if proc.returncode != 0:
        if IN_CI:
            pytest.fail("openssl has no pkcs11 engine (CI=true: .ci/run installs libengine-pkcs11-openssl)")
        pytest.skip("openssl has no pkcs11 engine")


@dataclass
class Token:
    folder: Path
    label: str
    env: dict[str, str]  # SOFTHSM2_CONF and CA_PIN: what a user exports before `build`

    def module(self) -> str:
        from openssl_recipes.recipe.token import find_module

        found, why = find_module(None, Path("."))
        assert found, why
        return found

    def public_key(self, label: str) -> bytes:
        """The token key's public key (DER SubjectPublicKeyInfo), read by pkcs11-tool, not by openssl."""
        proc = subprocess.run(
            ["pkcs11-tool", "--module", self.module(), "--token-label", self.label, "--read-object", "--type", "pubkey"]
            + ["--label", label],
            capture_output=True,
            env={**os.environ, **self.env},
            timeout=60,
        )
        assert proc.returncode == 0 and proc.stdout, proc.stderr
        return proc.stdout

    def labels(self) -> list[str]:
        proc = subprocess.run(
            ["pkcs11-tool", "--module", self.module(), "--token-label", self.label, "--login", "--pin", "env:CA_PIN"]
            + ["--list-objects", "--type", "privkey"],
            capture_output=True,
            text=True,
            env={**os.environ, **self.env},
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        return [line.split(":", 1)[1].strip() for line in proc.stdout.splitlines() if line.strip().startswith("label:")]


def new_token(folder: Path, label: str = "ca") -> Token:
    util = require("softhsm2-util")
    require("pkcs11-tool")
    require_engine()
    (folder / "tokens").mkdir(parents=True)
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    env = {"SOFTHSM2_CONF": str(conf), "CA_PIN": PIN}
    proc = subprocess.run(
        [util, "--init-token", "--free", "--label", label, "--so-pin", SO_PIN, "--pin", PIN],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return Token(folder, label, env)


def token_recipe(text: str = "", root: str = "root", token: str = "ca") -> str:
    """The default recipe (or `text`) with the root CA's key in the token."""
    text = text or DEFAULT_RECIPE.read_text()
    return text.replace(
        "  key_file: ca.key\n", f"  key: {{pkcs11: 'pkcs11:token={token};object={root}'}}\n  password: {{env: CA_PIN}}\n"
    )


@pytest.fixture(scope="module")
def token_pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default recipe with its CA key in a new SoftHSM2 token, built: its certs folder."""
    from .helpers import run, write_recipe

    work = tmp_path_factory.mktemp("token")
    token = new_token(work / "hsm")
    built = run("build", "--recipe", str(write_recipe(work, token_recipe())), env=token.env)
    assert built.code == 0, built
    return work / "certs"

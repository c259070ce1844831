"""A CA key made in its PKCS#11 token: `pkcs11-tool --keypairgen`, the token's job, not openssl's.

`build` runs it only when the token has no such object (`run.token`), so a key is never made twice
under one label and never leaves the token. OpenSC's pkcs11-tool reads the PIN as `--pin env:NAME`
(from the variable the executor sets for this step alone), never from its argv.
"""

from __future__ import annotations

import hashlib

from ..recipe.entries import CertificateAuthority
from .steps import Step

# pkcs11-tool's names of the recipe's curves
CURVES = {"P-256": "prime256v1", "P-384": "secp384r1", "P-521": "secp521r1"}


def key_id(label: str) -> str:
    """The key's CKA_ID (hex), from its label. libp11 pairs a private key with its public key by ID:
    keys made without one (measured: pkcs11-tool then sets none) all pair with the first, and a request
    made with the second key carried the first one's public key."""
    return hashlib.sha256(label.encode("utf-8")).hexdigest()[:16]


def token_key_step(ca: CertificateAuthority) -> Step:
    token, key = ca.token, ca.key
    assert token is not None and ca.password is not None  # (the recipe requires a PIN with a token key)
    key_type = f"rsa:{key.size}" if key.type == "rsa" else f"EC:{CURVES[key.curve]}"
    argv = (
        "pkcs11-tool",
        "--module",
        token.module,
        "--token-label",
        token.token,
        "--login",
        "--pin",
        f"env:{ca.password.env_name}",
    )
    argv += ("--keypairgen", "--key-type", key_type, "--label", token.label, "--id", key_id(token.label), "--usage-sign")
    return Step(argv, "tokenkey", ca.name, (), (ca.key_file,), (ca.password,), is_ca=True, token=token)

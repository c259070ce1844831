"""A CA key in a PKCS#11 token, as the runner and `verify` see it: its public key (read without the PIN),
and what a failed openssl or pkcs11-tool said about the token, in one line.

Measured with OpenSSL 3.0.19 and libp11 0.4.12 (Debian's libengine-pkcs11-openssl): when the engine
cannot load a key (a wrong PIN, no such token or object) openssl prints the reason, then crashes on its
way out (SIGSEGV, exit -11 here) instead of exiting 1; the reason on stderr is what counts.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from ..core import process
from ..core.errors import RunError, UsageError
from ..core.pem import first as pem_first
from ..core.x509 import KeySpec, key_spec_of
from ..recipe.entries import CertificateAuthority, Secret, TokenKey
from .inspect import Inspector

# what the engine or pkcs11-tool writes → the reason, said once
_SAID = (
    ("CKR_PIN_INCORRECT", "pin"),
    ("PIN incorrect", "pin"),
    ("CKR_PIN_LOCKED", "locked"),
    ("PIN locked", "locked"),
    ("No matching initialized token", "token"),
    ("No slot with token named", "token"),
    ("Unable to load module", "module"),
    ("Failed to load pkcs11 module", "module"),
    ('Invalid engine "pkcs11"', "engine"),
    ("object not found", "object"),
    ("key was not found at", "object"),  # (a public key looked for without the PIN)
    ("self-signature did not match", "pair"),  # a request signed by one key, carrying another's public key
)


def token_failure(stderr: str, token: TokenKey, pins: tuple[Secret, ...] = ()) -> str | None:
    """Why a step that uses `token` failed, in one line (naming where its PIN came from: `pins`); None
    when stderr says nothing known."""
    for words, kind in _SAID:
        if words in stderr:
            return _reason(kind, token, pins[0].describe() if pins else None)
    return None


def _reason(kind: str, token: TokenKey, pin: str | None) -> str:
    name = f"the token {token.token!r}"
    return {
        "pin": f"{name} refused the PIN" + (f" from {pin}" if pin else ""),
        "locked": f"{name} has locked its PIN (too many wrong ones): its security officer must unlock it",
        "token": f"no token labelled {token.token!r} is reachable through {token.module}",
        "module": f"the PKCS#11 module {token.module} does not load",
        "engine": "this openssl has no pkcs11 engine (Debian: apt-get install libengine-pkcs11-openssl)",
        "object": f"{name} has no key labelled {token.label!r}",
        "pair": f"{name}'s key {token.label!r} pairs with another key's public key: give each key its own ID (pkcs11-tool --id)",
    }[kind]


@dataclass(frozen=True)
class TokenState:
    """The token's key: `public` (its SubjectPublicKeyInfo, DER) when there, else None and `reason`
    ("absent": the token is reachable and has no such key)."""

    public: bytes | None
    reason: str = ""

    @property
    def absent(self) -> bool:
        return self.public is None and self.reason == "absent"


def public_key(openssl: str, ca: CertificateAuthority, env: dict[str, str]) -> TokenState:
    """The token key's public key, read through the engine without the PIN (public objects need no login)."""
    assert ca.token is not None
    argv = (openssl, "pkey", "-engine", "pkcs11", "-pubin", "-inform", "engine", "-in", ca.token.public, "-pubout")
    result = process.run(argv, env=env)
    found = pem_first(result.stdout, "PUBLIC KEY") if result.ok else None
    if found is not None:
        return TokenState(base64.b64decode(b"".join(found.body.split())))
    why = token_failure(result.stderr_text(), ca.token)
    if why is None or why.endswith(f"has no key labelled {ca.token.label!r}"):
        return TokenState(None, "absent") if why else TokenState(None, _last_line(result.stderr_text()))
    return TokenState(None, why)


def carried_problem(openssl: str, ca: CertificateAuthority, env: dict[str, str], certificate_key: bytes | None) -> str | None:
    """Why `ca`'s certificate (its public key: `certificate_key`) does not carry its token's key, or the
    token cannot say; None when it does."""
    assert ca.token is not None
    state = public_key(openssl, ca, env)
    if state.public is None:
        return f"{ca.token.uri}: " + ("the token has no such key" if state.absent else state.reason)
    if certificate_key != state.public:
        return f"{ca.cert_file} does not carry the token's key {ca.token.uri} (public keys differ)"
    return None


def key_type_problem(ca: CertificateAuthority, public: bytes) -> str | None:
    """Why the token's key is not the key the recipe declares (key_type, curve, key_size), or None."""
    found = key_spec_of(public)
    wanted: KeySpec = ca.key
    if found is not None and found.type == wanted.type and (found.type != "ec" or found.curve == wanted.curve):
        if found.type != "rsa" or found.size == wanted.size:
            return None
    have = found.describe() if found else "a key of a kind this tool does not read"
    assert ca.token is not None
    return f"the token's key {ca.token.uri} is {have}, the recipe's {ca.name} says {wanted.describe()}: make them agree"


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "openssl could not read the token's key"


CA_HINT = "restore it, or run build --new-ca to start a new CA (every certificate it signed stops working)"


def decide_token_authority(ca: CertificateAuthority, inspector: Inspector, new_ca: bool) -> tuple[bool, bool, bool]:
    """(make the key in the token?, make the certificate?, check the certificate's signature by its
    parent?) for a CA whose key is in a token (`inspector`: the build's `Inspector`). The key is made
    only when the token has none under its label (never a second one, never replaced: `--new-ca` is
    refused once it exists); the token's key must be the recipe's kind and the certificate's. Raises,
    with the reason in one line, when the token cannot be read."""
    assert ca.token is not None
    state = public_key(inspector.openssl, ca, inspector.env)
    if state.public is None and not state.absent:
        raise RunError(f"{ca.name}'s key: {state.reason}; nothing was changed")
    cert_state = inspector.complete_pem(ca.cert_file).state
    if state.public is None:
        if cert_state != "missing" and not new_ca:
            raise RunError(
                f"{ca.cert_file} exists but the token has no key {ca.token.uri}; refusing to replace the CA", [CA_HINT]
            )
        return True, True, False
    if problem := key_type_problem(ca, state.public):
        raise RunError(problem)
    if new_ca:  # a new certificate of the same key and name: what the old one signed would still chain to it
        raise UsageError(
            f"--new-ca: {ca.name}'s key is in a token and stays there; a new CA needs a new key: name a new object "
            "in the recipe's URI (build makes it), or `openssl-recipes rotate start`; nothing was changed"
        )
    if cert_state != "good" or (have := inspector.public_key_of_certificate(ca.cert_file)) is None:
        return False, True, False
    if have != state.public:
        hint = "restore it, or name in the recipe the token key it carries"
        raise RunError(f"{ca.cert_file} does not match the token's key {ca.token.uri}; refusing to replace the CA", [hint])
    return False, False, True

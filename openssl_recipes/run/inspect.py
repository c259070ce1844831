"""Is an existing file good enough to keep? Asked of openssl itself, so no extra dependency.

A build keeps what exists only when it passes these checks; a truncated or empty file left by an
interrupted run fails them and is made again. A key that is complete but will not open (a wrong
password, most likely) is never replaced silently.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..core import process
from ..core.key_files import public_key_info
from ..core.pem import blocks as pem_blocks
from ..core.pem import first as pem_first
from ..core.reading import MAX_REQUEST_BYTES, TooLarge, read_bounded
from ..core.x509 import CertificateFacts, Unreadable, read_certificate, read_request
from ..recipe.entries import Secret

NO_PASSWORD = "OPENSSL_RECIPES_NO_PASSWORD"  # set to "" in the checks' environment
MAX_KEY_BYTES = 1024 * 1024  # a 16384-bit key's PEM is ~13 KiB; a certificate chain less than this


# good: keep it; missing; damaged: incomplete or unreadable, made again; mismatch: not the key's (or the
# request's); unopenable: a complete key that does not open, never replaced silently
State = Literal["missing", "good", "damaged", "mismatch", "unopenable"]


@dataclass(frozen=True)
class Verdict:
    state: State
    reason: str = ""

    @property
    def good(self) -> bool:
        return self.state == "good"


class Inspector:
    """Runs the read-only openssl checks; results are cached per file for one build."""

    def __init__(self, openssl: str, folder: Path, env: dict[str, str], secret_values: dict[str, str] | None = None) -> None:
        self.openssl = openssl
        self.folder = folder
        self.env = {**env, NO_PASSWORD: ""}
        self.secret_values = secret_values or {}
        self._public: dict[str, bytes | None] = {}
        self._certificates: dict[str, CertificateFacts | None] = {}  # each certificate parsed once a run

    def _run(self, *args: str, secret: str | None = None) -> process.Result:
        """Run openssl; a password variable is added to this one child's environment only."""
        env = self.env if secret is None else {**self.env, secret: self.secret_values.get(secret, os.environ.get(secret, ""))}
        return process.run((self.openssl, *args), cwd=self.folder, env=env)

    def complete_pem(self, name: str) -> Verdict:
        path = self.folder / name
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return Verdict("missing")
        except OSError as exc:
            return Verdict("damaged", f"cannot read: {exc.strerror}")
        if not any(block.body.strip() for block in pem_blocks(data)):
            return Verdict("damaged", "empty or truncated (no complete PEM block)")
        return Verdict("good")

    def key(self, name: str, password: Secret | None) -> Verdict:
        verdict = self.complete_pem(name)
        if not verdict.good:
            return verdict
        if self.public_key_of_key(name, password) is None:
            return Verdict("unopenable", "a complete key that openssl cannot open (wrong password?)")
        return verdict

    def public_key_of_key(self, name: str, password: Secret | None) -> bytes | None:
        """The key's SubjectPublicKeyInfo (DER), or None when it does not open. An unencrypted key is
        read here (`core.key_files`); openssl opens the others (and any form that reader does not know)."""
        if name not in self._public:
            try:
                found = public_key_info(read_bounded(self.folder / name, MAX_KEY_BYTES))
            except (OSError, TooLarge):
                found = None
            if found is None:  # An unencrypted key gets an empty password variable: openssl never asks on the terminal.
                variable = password.env_name if password else None
                passin = f"env:{variable or NO_PASSWORD}"
                result = self._run("pkey", "-in", name, "-pubout", "-outform", "DER", "-passin", passin, secret=variable)
                found = result.stdout if result.ok and result.stdout else None
            self._public[name] = found
        return self._public[name]

    def public_key_of_certificate(self, name: str) -> bytes | None:
        """The certificate's SubjectPublicKeyInfo (DER), read here; openssl parses what this reader cannot."""
        facts = self.certificate_facts(name)
        return facts.public_key_info if facts is not None else self._public_key_of(name, read_certificate, MAX_KEY_BYTES, "x509")

    def certificate_facts(self, name: str) -> CertificateFacts | None:
        """What the DER reader reads of the certificate (its first, in a chain), once a run; None when it
        cannot be read."""
        if name not in self._certificates:
            try:
                self._certificates[name] = read_certificate(read_bounded(self.folder / name, MAX_KEY_BYTES))
            except (OSError, TooLarge, Unreadable):
                self._certificates[name] = None
        return self._certificates[name]

    def public_key_of_request(self, request: str) -> bytes | None:
        """A request's SubjectPublicKeyInfo (DER), as `public_key_of_certificate`."""
        return self._public_key_of(request, read_request, MAX_REQUEST_BYTES, "req")

    def _public_key_of(self, name: str, read, limit: int, command: str) -> bytes | None:  # noqa: ANN001
        try:
            return read(read_bounded(self.folder / name, limit)).public_key_info
        except (OSError, TooLarge, Unreadable):
            result = self._run(command, "-in", name, "-noout", "-pubkey")
            found = pem_first(result.stdout, "PUBLIC KEY") if result.ok else None
            return base64.b64decode(b"".join(found.body.split())) if found else None

    def certificate(self, name: str, key_name: str, key_password: Secret | None) -> Verdict:
        """Parses and carries the public key of `key_name` (the signature is `signed_by`'s job)."""
        verdict = self.complete_pem(name)
        if not verdict.good:
            return verdict
        public = self.public_key_of_certificate(name)
        if public is None:
            return Verdict("damaged", "the certificate does not parse")
        if public != self.public_key_of_key(key_name, key_password):
            return Verdict("mismatch", f"does not match {key_name}")
        return verdict

    def certificate_of_request(self, name: str, request: str) -> Verdict:
        """Parses and carries the public key of `request` (a device's, whose key is not here): both
        read here, openssl only for what this reader cannot parse."""
        verdict = self.complete_pem(name)
        if not verdict.good:
            return verdict
        have = self.public_key_of_certificate(name)
        if have is None:
            return Verdict("damaged", "the certificate does not parse")
        if have != self.public_key_of_request(request):
            return Verdict("mismatch", f"does not carry the key of {request}")
        return verdict

    def signed_by(self, issuer: str, names: list[str], chunk: int = 400) -> set[str]:
        """The subset of `names` whose signature chains to `issuer`: one openssl per chunk, a chunk a core
        at once (10 000 kept devices: 25 chunks, 5.3 s one after another)."""
        from concurrent.futures import ThreadPoolExecutor

        def verified(part: list[str]) -> set[str]:
            # -partial_chain: the issuer may be an intermediate, trusted here as the anchor
            result = self._run("verify", "-no_check_time", "-partial_chain", "-CAfile", issuer, "--", *part)
            return {line[:-4] for line in result.stdout_text().splitlines() if line.endswith(": OK") and line[:-4] in part}

        parts = [names[start : start + chunk] for start in range(0, len(names), chunk)]
        if len(parts) < 2:
            return set().union(*map(verified, parts))
        with ThreadPoolExecutor(min(len(parts), os.cpu_count() or 1)) as pool:
            return set().union(*pool.map(verified, parts))

    def validity(self, cert: str) -> tuple[dt.datetime, dt.datetime] | None:
        """(notBefore, notAfter) in UTC, or None when the certificate cannot be read."""
        facts = self.certificate_facts(cert)
        return (facts.not_before, facts.not_after) if facts is not None else None


def key_is_encrypted(path: Path) -> bool | None:
    """Is the PEM key at `path` encrypted (PKCS#8 `ENCRYPTED PRIVATE KEY`, or a traditional key with a
    `Proc-Type: 4,ENCRYPTED` header)? None when it cannot be read."""
    try:
        head = path.read_bytes()[:200]
    except OSError:
        return None
    return b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in head or b"Proc-Type: 4,ENCRYPTED" in head


def request_signature_ok(result: process.Result) -> bool:
    """`openssl req -verify`'s verdict. OpenSSL 3.0 exits 0 even when the signature is wrong (measured:
    3.0.19 prints "self-signature verify failure" and exits 0), so its words decide, not only its code."""
    said = result.stdout_text() + result.stderr_text()
    return result.ok and "verify OK" in said and "verify failure" not in said

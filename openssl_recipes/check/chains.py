"""`openssl verify`'s arguments and verdicts for verify's chain column: one certificate, or many in
one process (each named in openssl's output)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..core import process
from .report import Check

CHAIN_CHUNK = 400  # certificates an `openssl verify` is given at once (an argv well under the system's limit)


def verify_args(purpose: str, anchor: str, untrusted: str | None, crl: str | None) -> list[str]:
    args = ["verify", "-x509_strict", "-purpose", purpose, "-CAfile", anchor]
    args += ["-untrusted", untrusted] if untrusted else []
    return args + (["-crl_check", "-CRLfile", crl] if crl else [])


def batch_verdicts(result: process.Result, certs: list[str], how: str) -> Iterator[tuple[str, Check]]:
    """Each certificate's verdict in one `openssl verify` of many: `NAME: OK` on stdout, or on stderr
    `error N at D depth lookup: REASON` then `error NAME: verification failed`. A certificate with
    neither (it did not load) has none here."""
    wanted = set(certs)
    for line in result.stdout_text().splitlines():
        if line.endswith(": OK") and line[:-4] in wanted:
            yield line[:-4], Check("pass")
    reason = None
    for line in result.stderr_text().splitlines():
        if match := re.match(r"error \d+ at \d+ depth lookup: (.+)", line):
            reason = match.group(1).strip()
        elif line.startswith("error ") and line.endswith(": verification failed"):
            name = line[len("error ") : -len(": verification failed")]
            if name in wanted and reason:
                yield name, Check("fail", reason + how)
            reason = None


def verify_error(result: process.Result) -> str:
    text = result.stdout_text() + "\n" + result.stderr_text()
    match = re.search(r"error \d+ at \d+ depth lookup: (.+)", text)
    if match:
        return match.group(1).strip()
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else f"openssl verify exited {result.returncode}"

"""Key passwords: from their references to the child environment openssl reads with `env:NAME`.

The values live only in the dict this module returns; no message here ever includes one.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..core.errors import UsageError
from .entries import Secret

MAX_PASSWORD_BYTES = 1024  # measured with OpenSSL 3.0: 1024 opens again, 1025 is cut when read back


def resolve(secrets: list[Secret], interactive: bool | None = None, confirm: bool = True) -> dict[str, str]:
    """Read every password; return {variable openssl reads: value}. UsageError when one is missing.
    `confirm`: a prompted password is asked twice (it may encrypt a new key); read-only commands ask once."""
    values: dict[str, str] = {}
    problems: list[str] = []
    for secret in secrets:
        try:
            value = _read(secret, sys.stdin.isatty() if interactive is None else interactive, confirm)
        except UsageError as exc:
            problems.append(exc.message)
            continue
        if value == "":
            problems.append(
                f"the password from {secret.describe()} is empty; openssl would accept it silently, this tool does not"
            )
        elif len(value.encode("utf-8")) > MAX_PASSWORD_BYTES:
            problems.append(
                f"the password from {secret.describe()} is {len(value.encode('utf-8'))} bytes; openssl reads at most "
                f"{MAX_PASSWORD_BYTES} (it would write the key with the whole password and then never open it)"
            )
        values[secret.env_name] = value
    if problems:
        raise UsageError("a key password is missing", problems)
    return values


def _read(secret: Secret, interactive: bool, confirm: bool = True) -> str:
    if secret.source == "env":
        value = os.environ.get(secret.where)
        if value is None:
            raise UsageError(f"environment variable {secret.where} is not set (it holds a key password)")
        return value
    if secret.source == "file":
        try:
            text = Path(secret.where).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UsageError(f"password file {secret.where} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(
                f"password file {secret.where} cannot be read: {getattr(exc, 'strerror', None) or 'not UTF-8'}"
            ) from None
        return first_line(text)
    if not interactive:
        raise UsageError(f"the recipe asks to prompt for {secret.where}'s key password, but stdin is not a terminal")
    import getpass

    first = getpass.getpass(f"Password for {secret.where}'s key: ")
    if confirm and first and getpass.getpass("Again: ") != first:
        raise UsageError(f"the two passwords for {secret.where}'s key differ")
    return first


def first_line(text: str) -> str:
    """A password file's password: its first line, without the line end (LF or CRLF). `plan --script`
    reads it the same way."""
    line = text.split("\n", 1)[0]
    return line[:-1] if line.endswith("\r") else line


def mask(text: str, values: dict[str, str]) -> str:
    """Replace every secret value in `text` (e.g. openssl's stderr) with ***."""
    for value in sorted(values.values(), key=len, reverse=True):
        if value:
            text = text.replace(value, "***")
    return text

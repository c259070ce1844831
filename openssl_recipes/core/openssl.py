"""Which openssl runs the plan, and what it can do.

One `openssl version` call tells the family (OpenSSL, LibreSSL) and the version; the planner
adapts to it (random serials and `-traditional` need OpenSSL 3) or the tool says what is missing.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from typing import Iterable

from . import process
from .children import child_environment, command_name  # noqa: F401 - where commands take it from
from .errors import OpensslError


@dataclass(frozen=True)
class Openssl:
    command: str  # argv[0] exactly as the plan prints it: "openssl" (found on PATH) or a path
    family: str = "OpenSSL"  # or "LibreSSL"
    version: tuple[int, int, int] = (3, 0, 0)
    banner: str = "OpenSSL 3.0.0"

    @property
    def is_openssl3(self) -> bool:
        return self.family == "OpenSSL" and self.version >= (3, 0, 0)

    @property
    def random_serial(self) -> bool:
        """`x509 -req -CA` without serial options picks a random serial (OpenSSL 3.0+)."""
        return self.is_openssl3

    @property
    def traditional_flag(self) -> bool:
        """`genrsa -traditional` exists (OpenSSL 3.0+); 1.1.1's genrsa writes PKCS#1 anyway."""
        return self.is_openssl3


ASSUMED = Openssl("openssl")  # what `plan` assumes when asked not to look


def probe(command: str, hidden: Iterable[str] = ()) -> Openssl:
    """Run `openssl version` (without the `hidden` password variables); a one-line error when it is
    missing, broken or too old."""
    path = shutil.which(command)
    if path is None:
        raise OpensslError(
            f"openssl not found: {command!r} is not an executable on PATH (install OpenSSL 3.x, or give --openssl PATH)"
        )
    try:
        result = process.run([command, "version"], env=child_environment(hidden), timeout=30)
    except OSError as exc:
        raise OpensslError(f"cannot run {command}: {exc.strerror}") from None
    stdout = result.stdout_text().strip()
    banner = stdout.splitlines()[0] if stdout else ""
    match = re.match(r"^(OpenSSL|LibreSSL)\s+(\d+)\.(\d+)\.(\d+)", banner)
    if result.returncode != 0 or not match:
        raise OpensslError(
            f"{command} does not look like openssl: `{command} version` printed {banner or result.stderr_text()!r}"
        )
    found = Openssl(command, match.group(1), (int(match.group(2)), int(match.group(3)), int(match.group(4))), banner)
    if found.family == "OpenSSL" and found.version < (1, 1, 1):
        raise OpensslError(f"found {banner}; openssl-recipes needs OpenSSL 3.x (1.1.1 works with fallbacks)")
    if found.family == "LibreSSL" and found.version < (3, 0, 0):
        raise OpensslError(f"found {banner}; LibreSSL 3.0 or newer is needed (OpenSSL 3.x recommended)")
    return found

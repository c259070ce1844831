"""The real NanoMQ for the tests: found through $NANOMQ or ../shared/tools/nanomq-0.25.5, required in CI."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from .helpers import IN_CI, ROOT

SHIPPED = ROOT.parent / "shared" / "tools" / "nanomq-0.25.5" / "nanomq"


def nanomq_binary() -> str:
    """The broker's path; skip without one (with the reason), but fail in CI."""
    candidate = os.environ.get("NANOMQ") or str(SHIPPED)
    problem = None
    if not Path(candidate).is_file():
        problem = f"no NanoMQ at {candidate} (set NANOMQ)"
    else:
        # It takes no --version; `ldd` tells a missing mbedTLS runtime apart from a missing file.
        libraries = subprocess.run(["ldd", candidate], capture_output=True, text=True)
        missing = [line.split()[0] for line in libraries.stdout.splitlines() if "not found" in line]
        if missing:
            problem = f"{candidate} cannot run: {', '.join(missing)} not found (apt-get install libmbedtls14 libmbedx509-1 libmbedcrypto7)"
    if problem:
        if IN_CI:
            pytest.fail(f"{problem} (CI=true: a missing peer is a failure; .ci/run installs it)")
        pytest.skip(problem)
    return candidate

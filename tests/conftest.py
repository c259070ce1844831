"""What every test shares: the markers each folder sets, the hypothesis profile, and the fixtures
(in helpers.py beside the helpers they use; pytest finds them through this import)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from .helpers import IN_CI, built_pkis, copy_pki, default_pki, small_pki, small_recipe  # noqa: F401
from .token_helpers import token_pki  # noqa: F401

# What the tests of a folder need, said once for the folder (`make test-fast` leaves out all three)
FOLDER_MARKERS = {
    "brokers": "broker",  # a real mosquitto or NanoMQ
    "verifiers": "verifier",  # Go's crypto/x509 or Python 3.13 as an independent verifier
    "e2e": "e2e",  # whole PKIs built, killed, fuzzed or checked command by command: many processes each
}
HERE = Path(__file__).parent

# Hypothesis: a few examples by default, the full count in CI (CI=true) or with HYPOTHESIS_PROFILE=full;
# each test says its full count through `helpers.examples`.
settings.register_profile("full", deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
settings.register_profile("small", parent=settings.get_profile("full"))
settings.load_profile("full" if IN_CI else __import__("os").environ.get("HYPOTHESIS_PROFILE", "small"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        folder = Path(item.fspath).relative_to(HERE).parts[0]
        if folder in FOLDER_MARKERS:
            item.add_marker(FOLDER_MARKERS[folder])

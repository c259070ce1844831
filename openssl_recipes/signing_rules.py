"""Which keys a request made on a device may carry: what the recipe itself would make, no weaker."""

from __future__ import annotations

from .recipe import KeySpec

CURVES_ALLOWED = {"P-256", "P-384", "P-521"}


def request_key_problem(key: KeySpec | None) -> str | None:
    """Why a device's request key is refused (RSA under 2048 bits, another curve, an unknown type), or None."""
    if (
        key is not None
        and not (key.type == "rsa" and key.size < 2048)
        and not (key.type == "ec" and key.curve not in CURVES_ALLOWED)
    ):
        return None
    what = key.describe() if key else "a key type the recipe does not allow"
    return f"{what} is weaker than the recipe allows (RSA 2048+, EC P-256/384/521, Ed25519)"

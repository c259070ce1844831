"""What every openssl child starts from: the environment (no system CA store, no password it does not
read) and how many run at once. Builtins only: the head start loads it before the first key."""

from __future__ import annotations

import os
from collections.abc import Iterable

# openssl's children never need the system's trusted CAs (signing does not use them; every check
# names its own -CAfile), yet `x509 -req` loads them: most of its time (21 ms → 6 ms here). The
# printed commands stay runnable as shown; without this environment they are only slower.
NO_SYSTEM_CAS = {"SSL_CERT_FILE": os.devnull, "SSL_CERT_DIR": os.devnull}


MAX_JOBS = 256  # openssl children at once: far past any machine's use, and no thread pool of absurd size


def default_jobs() -> int:
    """How many openssl children run at once by default: one more than the cores, so that a core is not
    idle while the tool starts the next one (1000 EC devices on 2 cores: 23.3 → 21.3 s, busy 85 → 92 %)."""
    return (os.cpu_count() or 1) + 1


def command_name(explicit: str | None) -> str:
    """The openssl every child runs: --openssl, else $OPENSSL, else `openssl` on PATH. A path is made
    absolute once, here: the version probe runs in the current folder, the steps in the output folder."""
    name = explicit or os.environ.get("OPENSSL") or "openssl"
    return os.path.abspath(name) if os.sep in name else name


def child_environment(hidden: Iterable[str] = ()) -> dict[str, str]:
    """The environment every openssl child starts from: ours, without the system CA store and without
    the `hidden` password variables (each command that opens a key gets its own one back)."""
    drop = set(hidden)
    own = {OWNER_VARIABLE: str(os.getpid())}  # whose child it is: a lock held by an orphan is known as such
    return {**{k: v for k, v in os.environ.items() if k not in drop and k != OWNER_VARIABLE}, **NO_SYSTEM_CAS, **own}


OWNER_VARIABLE = "OPENSSL_RECIPES_PARENT"  # the pid of the openssl-recipes process a child was started by

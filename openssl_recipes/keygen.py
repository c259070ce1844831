"""What a new key needs, loaded before anything else (`headstart`): the command that makes it, and the
environment every openssl child starts from. Builtins only: this is on the path to the first key."""

from __future__ import annotations

import os
from collections.abc import Iterable

# openssl's children never need the system's trusted CAs (signing does not use them; every check
# names its own -CAfile), yet `x509 -req` loads them: most of its time (21 ms → 6 ms here). The
# printed commands stay runnable as shown; without this environment they are only slower.
NO_SYSTEM_CAS = {"SSL_CERT_FILE": os.devnull, "SSL_CERT_DIR": os.devnull}


def default_jobs() -> int:
    """How many openssl children run at once by default: one more than the cores, so that a core is not
    idle while the tool starts the next one (1000 EC devices on 2 cores: 23.3 → 21.3 s, busy 85 → 92 %)."""
    return (os.cpu_count() or 1) + 1


def child_environment(hidden: Iterable[str] = ()) -> dict[str, str]:
    """The environment every openssl child starts from: ours, without the system CA store and without
    the `hidden` password variables (each command that opens a key gets its own one back)."""
    drop = set(hidden)
    return {**{k: v for k, v in os.environ.items() if k not in drop}, **NO_SYSTEM_CAS}


def key_argv(
    openssl: str,
    key_type: str,
    size: int,
    curve: str,
    key_file: str,
    password_env: str | None = None,
    nanomq: bool = True,
    traditional: bool = False,
) -> tuple[str, ...]:
    """The command that makes a key (`password_env`: encrypted, the password read as env:NAME)."""
    if key_type == "rsa":
        argv = [openssl, "genrsa"]
        if password_env:
            # NanoMQ's mbedTLS 2.28 reads only PKCS#1 with a DEK-Info header, not OpenSSL 3's PKCS#8.
            if traditional:
                argv.append("-traditional")
            argv += ["-aes256", "-passout", f"env:{password_env}"]
        return (*argv, "-out", key_file, str(size))
    argv = [openssl, "genpkey", "-algorithm"]
    argv += ["EC", "-pkeyopt", f"ec_paramgen_curve:{curve}"] if key_type == "ec" else ["ED25519"]
    if password_env:
        # PKCS#8 with 3DES is the encrypted form mbedTLS 2.28 reads for non-RSA keys.
        argv += ["-des3" if nanomq else "-aes256", "-pass", f"env:{password_env}"]
    return (*argv, "-out", key_file)

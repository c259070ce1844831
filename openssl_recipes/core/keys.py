"""A key: the command that makes it, and which keys a request made on a device may carry. Builtins only:
the head start loads it before the first key."""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: nothing but builtins before the first key starts
if TYPE_CHECKING:
    from .x509 import KeySpec

CURVES_ALLOWED = {"P-256", "P-384", "P-521"}


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

"""The key policy every stage reads — the recipe's schema and its JSON Schema, the head start, the
check of a device's request (`x509.request_key_problem`) — and the command that makes a key. Builtins only: the head start loads it before the first key."""

from __future__ import annotations

KEY_TYPES = ("rsa", "ec", "ed25519")
CURVES = ("P-256", "P-384", "P-521")
DIGESTS = ("sha256", "sha384", "sha512")
RSA_MIN_BITS, RSA_MAX_BITS, RSA_BITS_STEP = 2048, 16384, 8  # below 2048: refused by current verifiers
MIN_DAYS, MAX_DAYS = 1, 36500

# What an entry gets when neither it nor the recipe's defaults say
DEFAULT_KEY_TYPE, DEFAULT_KEY_SIZE, DEFAULT_CURVE = "rsa", 2048, "P-256"
DEFAULT_DIGEST, DEFAULT_DAYS = "sha256", 3650


def key_size_problem(bits: int) -> str | None:
    """Why `bits` is not an RSA key size the tool makes, or None."""
    if bits < RSA_MIN_BITS:
        return f"RSA keys of {bits} bits are refused by current verifiers; use {RSA_MIN_BITS} or more"
    if bits > RSA_MAX_BITS or bits % RSA_BITS_STEP:
        return f"{bits} is not a usable RSA key size (2048, 3072, 4096, …)"
    return None


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


def newkey_options(key_type: str, size: int, curve: str, key_file: str) -> tuple[str, ...]:
    """The options of `openssl req` that make an unencrypted key as it signs (`-newkey … -keyout`): the
    same key, in the same unencrypted PKCS#8 form, that `key_argv` makes with its own process."""
    spec = {"rsa": ("-newkey", f"rsa:{size}"), "ec": ("-newkey", "ec", "-pkeyopt", f"ec_paramgen_curve:{curve}")}
    return (*spec.get(key_type, ("-newkey", "ed25519")), "-nodes", "-keyout", key_file)

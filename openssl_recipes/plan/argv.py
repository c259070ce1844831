"""The pieces of an openssl argv that more than one command writes, each written once: a password read
from the environment, a digest, a subject, and the signature of a request (`x509 -req`)."""

from __future__ import annotations

from pathlib import Path

from ..core.x509 import KeySpec
from ..recipe.entries import CertificateAuthority, Secret
from ..recipe.subject import SUBJECT_FIELDS


def passin(secret: Secret | None) -> list[str]:
    """A key's password, read by openssl from the variable the executor sets for this step alone."""
    return ["-passin", f"env:{secret.env_name}"] if secret else []


# OpenSSL 3.0 reads a key in a PKCS#11 token through libp11's engine: `-engine pkcs11` and the key's
# form `engine`, the key named by its URI (`recipe.token`). The PIN is read as any password (-passin).
ENGINE = ("-engine", "pkcs11")


def key_options(ca: CertificateAuthority, option: str = "-key") -> list[str]:
    """The CA's own key for `req`: its file, or the engine and its token URI."""
    if ca.token is None:
        return [option, ca.key_file]
    return [*ENGINE, f"{option}form", "engine", option, ca.key_file]


def signer_options(issuer: CertificateAuthority) -> list[str]:
    """`-CAkey` of `x509 -req` and `req -x509 -CA`: the issuer's key file, or its token key."""
    return key_options(issuer, "-CAkey")


def ca_engine(issuer: CertificateAuthority) -> list[str]:
    """`openssl ca` names the key in its configuration (`private_key`): for a token key, the engine
    that opens it."""
    return [*ENGINE, "-keyform", "engine"] if issuer.token else []


def digest_option(digest: str, signing_key: KeySpec) -> list[str]:
    """`-sha256` and the like; none for an Ed25519 key, which signs without a separate digest."""
    return [] if signing_key.type == "ed25519" else [f"-{digest}"]


# OpenSSL parses `-subj /K=V/K=V`: a `/` starts the next field, a `+` joins a multi-valued RDN and a `\\`
# escapes the next character. Escaping those three makes any value arrive exactly as written; `-utf8`
# (when a value is not ASCII) keeps non-ASCII intact.
def escape_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace("/", "\\/").replace("+", "\\+")


def subj_argument(fields: dict[str, str]) -> str:
    """Render fields in the canonical order as one `-subj` value, e.g. `/C=CN/O=EMQ/CN=ca`."""
    return "".join(f"/{key}={escape_value(fields[key])}" for key in SUBJECT_FIELDS if key in fields)


def needs_utf8(fields: dict[str, str]) -> bool:
    return any(not value.isascii() for value in fields.values())


def subject_options(fields: dict[str, str]) -> list[str]:
    """`-subj /K=V/…` (and `-utf8` for text that is not ASCII); none for an empty subject, which makes
    openssl prompt for it, as the document describes."""
    if not fields:
        return []
    return ["-subj", subj_argument(fields)] + (["-utf8"] if needs_utf8(fields) else [])


def serial_file(issuer: CertificateAuthority) -> str:
    """The serial file `-CAcreateserial` keeps beside the issuer's certificate (ca.pem → ca.srl)."""
    return f"{Path(issuer.cert_file).stem}.srl"


def sign_request(
    openssl: str,
    request: str,
    issuer: CertificateAuthority,
    cert_file: str,
    days: int,
    digest: str,
    shared_serial: bool,
    extensions: tuple[str, str] | None,
    document_client: bool = False,
) -> list[str]:
    """`x509 -req`: the request signed by `issuer`. `shared_serial`: `-CAcreateserial` (else OpenSSL 3
    picks a random serial); `extensions`: (file, section) of the extensions to write; `document_client`:
    the seed document's argument order for its client (-days first, no digest when it is sha256)."""
    serial = ["-CAcreateserial"] if shared_serial else []
    if document_client:
        argv = [openssl, "x509", "-req", "-days", str(days), "-in", request, "-CA", issuer.cert_file]
        argv += [*signer_options(issuer), *serial, "-out", cert_file]
        argv += digest_option(digest, issuer.key) if digest != "sha256" else []
    else:
        argv = [openssl, "x509", "-req", "-in", request, "-CA", issuer.cert_file, *signer_options(issuer)]
        argv += [*serial, "-out", cert_file, "-days", str(days)]
        argv += digest_option(digest, issuer.key)  # the issuer's key signs
    argv += passin(issuer.password)
    if extensions is not None:
        argv += ["-extfile", extensions[0], "-extensions", extensions[1]]
    return argv

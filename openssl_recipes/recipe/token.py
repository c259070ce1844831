"""A CA key in a PKCS#11 token: the recipe's `key: {pkcs11: URI, module: PATH}` checked and resolved.

OpenSSL 3.0 signs with such a key through libp11's `pkcs11` engine (`-engine pkcs11 -keyform engine
-key 'pkcs11:…;type=private'`), which loads the module named by PKCS11_MODULE_PATH (measured with libp11
0.4.12: the URI's `module-path` attribute is refused as "not a valid PKCS#11 URI"). The PIN is the
entry's password, read by openssl as `-passin env:NAME` like every other secret, never in the URI.
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote, unquote

from ..core.errors import Loc, Problem
from .entries import CertificateAuthority, TokenKey
from .schema import CAIn, IntermediateIn, RecipeIn, TokenKeyIn

MODULE_VARIABLE = "PKCS11_MODULE_PATH"  # where libp11's engine looks for the module
MAX_URI = 1024
# p11-kit's proxy loads every module the system registers (SoftHSM2's package registers itself), so
# openssl's engine and pkcs11-tool see the same tokens without configuration; SoftHSM2's own module next.
MODULE_SEARCH = (
    "/usr/lib/*/p11-kit-proxy.so",
    "/usr/lib/p11-kit-proxy.so",
    "/usr/lib64/p11-kit-proxy.so",
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/*/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
)
_ATTRIBUTE = re.compile(r"^([a-z-]+)=(.*)$")
# RFC 7512's path attributes; `type` is the tool's to add (private to sign, public to check)
PATH_ATTRIBUTES = {"token", "object", "id", "manufacturer", "model", "serial", "slot-description", "slot-id", "slot-manufacturer"}


def authority_token(entry: CAIn, raw: RecipeIn, base: Path, loc: Loc) -> tuple[TokenKey | None, list[Problem], list[str]]:
    """A CA entry's token key (None without `key:`), checked against the entry's other fields: the
    key, the problems, the warnings."""
    if entry.key is None:
        return None, [], []
    token, problems = token_key(entry.key, base, (*loc, "key"))
    if entry.key_file is not None:
        problems.append(Problem((*loc, "key_file"), "give key_file (a key file) or key (a key in a token), not both"))
    if entry.password is None:
        problems.append(
            Problem((*loc, "password"), "a key in a token needs its PIN: password: {env: VAR}, {file: PATH} or prompt")
        )
    if raw.style != "strict":
        problems.append(Problem((*loc, "key"), "a key in a token needs style: strict (the document's commands name key files)"))
    if (entry.key_type or raw.defaults.key_type) == "ed25519":
        problems.append(Problem((*loc, "key_type"), "OpenSSL 3.0's pkcs11 engine signs with RSA and EC keys: key_type rsa or ec"))
    warnings = []
    signs_leaves = isinstance(entry, IntermediateIn) or raw.intermediate is None  # (`fleet_rules.one_step` asks the issuer)
    if signs_leaves and (raw.defaults.one_step or any(leaf.one_step for leaf in (*raw.servers, *raw.clients))):
        warnings.append(
            "one_step is off: OpenSSL 3.0's `req -x509 -CA` cannot sign with a key in a token; each leaf is signed with `x509 -req`"
        )
    return token, problems, warnings


def token_key(entry: TokenKeyIn, base: Path, loc: Loc) -> tuple[TokenKey | None, list[Problem]]:
    """The token key, or None and why (each problem at `loc` + the field)."""
    problems: list[Problem] = []
    uri = entry.pkcs11
    attributes: dict[str, str] = {}
    if len(uri) > MAX_URI or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in uri):
        problems.append(
            Problem((*loc, "pkcs11"), f"a PKCS#11 URI of at most {MAX_URI} characters, without spaces or control characters")
        )
    elif not uri.startswith("pkcs11:"):
        problems.append(Problem((*loc, "pkcs11"), "a PKCS#11 URI starts with pkcs11: (pkcs11:token=ca;object=root)"))
    elif "?" in uri:
        problems.append(
            Problem(
                (*loc, "pkcs11"),
                "no query (pin-value, pin-source, module-path) in the URI: the PIN is the entry's password, the module is module:",
            )
        )
    else:
        for part in uri.removeprefix("pkcs11:").split(";"):
            found = _ATTRIBUTE.match(part)
            if not found or found.group(1) not in PATH_ATTRIBUTES:
                why = (
                    "the tool adds type= itself"
                    if found and found.group(1) == "type"
                    else f"one of {', '.join(sorted(PATH_ATTRIBUTES))}"
                )
                problems.append(Problem((*loc, "pkcs11"), f"{part!r} is not a path attribute the tool takes: {why}"))
            else:
                attributes[found.group(1)] = unquote(found.group(2))
        for needed, what in (("token", "the token's label"), ("object", "the key's label")):
            if not problems and not attributes.get(needed):
                problems.append(Problem((*loc, "pkcs11"), f"give {needed}= ({what}): pkcs11:token=ca;object=root"))
    module, why = find_module(entry.module, base)
    if why:
        problems.append(Problem((*loc, "module"), why))
    if problems or module is None:
        return None, problems
    return TokenKey(uri=uri, token=attributes["token"], label=attributes["object"], module=module), []


def find_module(given: str | None, base: Path) -> tuple[str | None, str | None]:
    """(the module's absolute path, None), or (None, why): the recipe's, else $PKCS11_MODULE_PATH, else
    p11-kit's proxy or SoftHSM2's where they are installed."""
    if given is not None:
        path = Path(given).expanduser()
        path = path if path.is_absolute() else base / path
        return (str(path), None) if path.is_file() else (None, f"{path} is not a file (the PKCS#11 module, a .so)")
    if from_env := os.environ.get(MODULE_VARIABLE):
        if Path(from_env).is_file():
            return from_env, None
        return None, f"{MODULE_VARIABLE}={from_env} is not a file: give the module here, or fix the variable"
    for pattern in MODULE_SEARCH:
        if found := sorted(glob.glob(pattern)):
            return found[0], None
    return None, "no PKCS#11 module found (p11-kit's proxy, SoftHSM2): give its path, e.g. /usr/lib/softhsm/libsofthsm2.so"


def one_module(ca: CertificateAuthority, intermediate: CertificateAuthority | None) -> list[Problem]:
    """The engine loads one module a process (PKCS11_MODULE_PATH): both CAs' tokens behind the same one."""
    if intermediate and ca.token and intermediate.token and ca.token.module != intermediate.token.module:
        return [
            Problem(
                ("intermediate", "key", "module"),
                f"the root's key is behind {ca.token.module}: one module for both (p11-kit's proxy reaches every token)",
            )
        ]
    return []


def relabelled(token: TokenKey, label: str) -> TokenKey:
    """The same token's key under another label (a CA rotation's next generation): the URI's `object=`."""
    parts = [
        f"object={quote(label, safe='')}" if part.startswith("object=") else part
        for part in token.uri.removeprefix("pkcs11:").split(";")
    ]
    return replace(token, uri="pkcs11:" + ";".join(parts), label=label)

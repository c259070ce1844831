"""Which files the tool writes in an output folder, and which names an entry may use.

Everything a command writes is named here, so the duplicate-file check and `clean` agree with the
commands that write them.
"""

from __future__ import annotations

import re

CONFIG_FILE_NAME = "openssl-recipes.cnf"  # the extension file the strict style writes
RESERVED_PREFIX = ".openssl-recipes"  # lock file and other private files
FILE_NAME = re.compile(r"^[A-Za-z0-9_@+][A-Za-z0-9._@+-]*$")  # no leading "-": openssl and the shell would read an option
MAX_FILE_NAME = 200

# Files the lifecycle commands write in the output folder: no recipe entry may be named like them.
CA_CONFIG = "openssl-recipes-ca.cnf"
CA_DATABASE = "index.txt"
CRL_NUMBER = "crlnumber"
CRL_FILE = "crl.pem"
LIFECYCLE_FILES = (
    CA_CONFIG,
    CRL_FILE,
    CA_DATABASE,
    f"{CA_DATABASE}.attr",
    f"{CA_DATABASE}.old",
    f"{CA_DATABASE}.attr.old",
    CRL_NUMBER,
    f"{CRL_NUMBER}.old",
)


def export_files(name: str) -> tuple[str, str]:
    """What `export NAME` writes: the PKCS#12 file and the full chain."""
    return f"{name}.p12", f"{name}-fullchain.pem"


def file_name_problem(name: str) -> str | None:
    """Why `name` may not be written in the output folder, or None."""
    if not FILE_NAME.match(name) or name in (".", ".."):
        return f"{name!r} must be a plain file name inside the output folder (no '/', no '..', no absolute path, no leading '-')"
    if name.startswith(RESERVED_PREFIX) or name == CONFIG_FILE_NAME:
        return f"{name!r} is reserved for the tool's own files"
    if len(name) > MAX_FILE_NAME:  # file systems stop at 255 bytes; the temporary name adds a prefix
        return f"{name[:20]!r}… is {len(name)} characters long; file names here stop at {MAX_FILE_NAME}"
    return None

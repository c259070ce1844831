"""Which files the tool writes in an output folder, and which names an entry may use.

Everything a command writes is named here, so the duplicate-file check and `clean` agree with the
commands that write them.
"""

from __future__ import annotations

import re

DEFAULT_RECIPE_FILE = "recipes.yaml"  # read from the current folder unless --recipe names another
DEFAULT_OUTPUT = "certs"  # the output folder, relative to the recipe
DEFAULT_CA_NAME, DEFAULT_INTERMEDIATE_NAME = "ca", "intermediate"
CONFIG_FILE_NAME = "openssl-recipes.cnf"  # the extension file the strict style writes
RESERVED_PREFIX = ".openssl-recipes"  # lock file and other private files
PRIVATE_PREFIX = f"{RESERVED_PREFIX}.headstart."  # + the pid: the folder a head start's keys are made in
FILE_NAME = re.compile(r"^[A-Za-z0-9_@+][A-Za-z0-9._@+-]*$")  # no leading "-": openssl and the shell would read an option
MAX_FILE_NAME = 200

# What the revocation commands write: crl.pem beside the certificates (brokers read it), the CA
# database `openssl ca` keeps in a folder of its own. No recipe entry may be named like any of them,
# nor like the files earlier versions kept at the top of the folder (moved into CA_DIR on first use).
CRL_FILE = "crl.pem"
CA_DIR = "ca-database"
CA_CONFIG = f"{CA_DIR}/openssl-recipes-ca.cnf"
CA_DATABASE = f"{CA_DIR}/index.txt"
CRL_NUMBER = f"{CA_DIR}/crlnumber"


def database_files(folder: str) -> tuple[str, str, str]:
    """A CA database's configuration, index and CRL number, in `folder` (CA_DIR, or a new CA's)."""
    return f"{folder}/openssl-recipes-ca.cnf", f"{folder}/index.txt", f"{folder}/crlnumber"


LEGACY_CA_FILES = (
    "openssl-recipes-ca.cnf",
    "index.txt",
    "index.txt.attr",
    "index.txt.old",
    "index.txt.attr.old",
    "crlnumber",
    "crlnumber.old",
)
SIGN_CONFIG = "openssl-recipes-sign.cnf"  # the extension sections `sign` writes for requests made on devices
BATCH_DIR = f"{RESERVED_PREFIX}.batch"  # batches of requests for `openssl ca` (sign, a fleet of csr: devices): their databases, for one run
SIGNED_LIST = f"{RESERVED_PREFIX}.signed"  # the files `sign` wrote, one name a line: its part of the ownership registry
LIFECYCLE_FILES = (CRL_FILE, CA_DIR, SIGN_CONFIG, *LEGACY_CA_FILES)

# A CA rotation (`rotate`): its phase, one small file; the new CA's files while both live, under the
# recipe's own names in a folder of their own; each retired CA, kept in a dated folder of the archive.
ROTATION_STATE = f"{RESERVED_PREFIX}.rotation"
ROTATION_DIR = "rotation"
CA_ARCHIVE = "ca-archive"


def default_file(name: str, kind: str) -> str:
    """An entry's file when the recipe names none: `kind` is key, csr, cert or chain."""
    return {"key": f"{name}.key", "csr": f"{name}.csr", "cert": f"{name}.pem", "chain": f"{name}-chain.pem"}[kind]


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

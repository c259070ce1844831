"""Subject fields → the `-subj` argument of `openssl req`.

OpenSSL parses `-subj /K=V/K=V`: a `/` starts the next field, a `+` joins a multi-valued RDN and a
`\\` escapes the next character. Escaping those three makes any value arrive exactly as written;
`-utf8` (added by the planner when a value is not ASCII) keeps non-ASCII intact.
"""

from __future__ import annotations

# The order of the document's prompt: Country, State, Locality, Organization, Unit, Common Name, Email.
SUBJECT_FIELDS: tuple[str, ...] = ("C", "ST", "L", "O", "OU", "CN", "emailAddress")

# Upper bounds from RFC 5280 (ub-*), in characters.
FIELD_MAX_LENGTH: dict[str, int] = {
    "C": 2,
    "ST": 128,
    "L": 128,
    "O": 64,
    "OU": 64,
    "CN": 64,
    "emailAddress": 128,
}


def escape_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace("/", "\\/").replace("+", "\\+")


def subj_argument(fields: dict[str, str]) -> str:
    """Render fields in the canonical order as one `-subj` value, e.g. `/C=CN/O=EMQ/CN=ca`."""
    return "".join(f"/{key}={escape_value(fields[key])}" for key in SUBJECT_FIELDS if key in fields)


def needs_utf8(fields: dict[str, str]) -> bool:
    return any(not value.isascii() for value in fields.values())

"""Text rules every stage shares, each written once: which characters are control or invisible, and
what a DNS name is."""

from __future__ import annotations

import re
import unicodedata

_C0_DEL_C1 = re.compile("[\x00-\x1f\x7f-\x9f]")  # Unicode's Cc: all an ASCII text can hold of the kinds below
INVISIBLE = ("Cc", "Cf", "Zl", "Zp")  # control, format (zero-width, bidi overrides), line and paragraph separators
DNS_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
MAX_DNS_NAME = 253


def control_characters(value: str) -> list[str]:
    """The control and invisible characters in `value`, as `U+XXXX`: none of them can be written into a
    certificate's subject or a broker's configuration so that a person reading it sees them."""
    if value.isascii():  # one search, not a call per character (a fleet's subjects are checked by the thousand)
        return [f"U+{ord(found.group()):04X}" for found in _C0_DEL_C1.finditer(value)]
    return [f"U+{ord(c):04X}" for c in value if unicodedata.category(c) in INVISIBLE]


def is_dns_name(value: str, wildcard: bool = False) -> bool:
    """A DNS name: ASCII labels of letters, digits and inner '-', at most 253 characters, one trailing
    dot allowed; `wildcard`: a leftmost `*` label too (a SAN, never a host to dial)."""
    if not value.isascii() or not 0 < len(value) <= MAX_DNS_NAME:
        return False
    labels = value.removesuffix(".").split(".")
    if wildcard and labels[0] == "*" and len(labels) > 1:
        labels = labels[1:]
    return all(DNS_LABEL.fullmatch(label) for label in labels)

"""Subject alternative names as a recipe writes them (`localhost`, `IP:10.0.0.1`, …) → `San`."""

from __future__ import annotations

import ipaddress
import re

from ..core.text import is_dns_name
from ..core.x509 import San

LOOKS_LIKE_IPV4 = re.compile(r"^[0-9.]+$")


def san_problem(entry: str) -> str | None:
    try:
        parse_san(entry)
    except ValueError as exc:
        return str(exc)
    return None


def parse_san(entry: str) -> San:
    """`localhost`, `127.0.0.1`, `::1`, or with a prefix: `DNS:x`, `IP:x`, `email:x`, `URI:x`."""
    if not isinstance(entry, str) or not entry:
        raise ValueError("a SAN must be a non-empty name or address")
    prefix, sep, rest = entry.partition(":")
    if sep and prefix in ("DNS", "IP", "email", "URI"):
        kind, value = prefix, rest
    else:
        kind, value = ("IP" if is_ip(entry) or LOOKS_LIKE_IPV4.match(entry) else "DNS"), entry
    if kind == "IP":
        if "%" in value:  # Python reads fe80::1%eth0; openssl's IP: SAN does not, mid-build
            raise ValueError(f"{value!r}: a scoped IPv6 address (with %zone) cannot go into a certificate; drop the zone")
        if not is_ip(value):
            raise ValueError(f"{value!r} is not an IP address")
        return San("IP", str(ipaddress.ip_address(value)))
    if kind == "DNS":
        if not is_dns_name(value, wildcard=True):
            raise ValueError(f"{value!r} is not a DNS name (letters, digits, '-', dots; '*.' only leftmost)")
        return San("DNS", value.lower())
    if kind == "email":
        if not re.fullmatch(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+", value):
            raise ValueError(f"{value!r} is not an e-mail address")
        return San("email", value)
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9._~:/?@!&()*+;=%\[\]-]+", value):
        raise ValueError(f"{value!r} is not a URI")
    return San("URI", value)


def is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True

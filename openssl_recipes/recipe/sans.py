"""Subject alternative names as a recipe writes them (`localhost`, `IP:10.0.0.1`, …) → `San`."""

from __future__ import annotations

import ipaddress
import re

from ..core.errors import Loc, Problem
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


def entry_sans(
    role: str, texts: list[str], cn: str | None, strict: bool, nanomq: bool, loc: Loc
) -> tuple[list[San], list[Problem]]:
    """An entry's SANs and its problems with them: a server without any takes its CN (when it is a host
    name or address); a server NanoMQ uses gets a DNS twin of each IPv4 address (mbedTLS 2.x never
    matches IP SANs)."""
    sans: list[San] = []
    problems: list[Problem] = []
    for index, text in enumerate(texts):
        try:
            sans.append(parse_san(text))
        except ValueError as exc:
            problems.append(Problem((*loc, "san", index), str(exc)))
    if role == "server" and not texts and strict:
        if cn and is_ip(cn):
            sans.append(San("IP", cn))
        elif cn and is_dns_name(cn):
            sans.append(San("DNS", cn.lower()))
        else:
            message = (
                f"no SANs given and CN {cn!r} is not a host name; list the names and addresses clients "
                "connect to, e.g. san: [broker.local, 192.0.2.10]"
            )
            problems.append(Problem((*loc, "san"), message))
    if role == "server" and strict and nanomq:
        present = {str(s) for s in sans}
        sans += [
            San("DNS", s.value) for s in list(sans) if s.kind == "IP" and ":" not in s.value and f"DNS:{s.value}" not in present
        ]
    return sans, problems

"""PEM blocks found in one pass: the markers are found first (a linear scan), then paired in order, so
a file of many `-----BEGIN` lines and no `-----END` costs what its length costs (a lazy regex from
each BEGIN to its END scanned the rest of the file once per BEGIN: quadratic)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_MARKER = re.compile(rb"-----(BEGIN|END) ([A-Z0-9 ]{1,64})-----")


@dataclass(frozen=True)
class Block:
    label: str  # "CERTIFICATE", "PRIVATE KEY", …
    body: bytes  # the base64 text between the markers (whitespace included)
    text: bytes  # the whole block, from -----BEGIN to the end of -----END …-----


def blocks(data: bytes) -> list[Block]:
    """Every complete block, in order; a BEGIN without its END is no block (a later BEGIN restarts)."""
    found: list[Block] = []
    opened: tuple[bytes, int, int] | None = None  # (label, where the BEGIN starts, where its body starts)
    for marker in _MARKER.finditer(data):
        edge, label = marker.groups()
        if edge == b"BEGIN":
            opened = (label, marker.start(), marker.end())
        elif opened is not None and opened[0] == label:
            found.append(Block(label.decode("ascii"), data[opened[2] : marker.start()], data[opened[1] : marker.end()]))
            opened = None
    return found


def first(data: bytes, *labels: str) -> Block | None:
    """The first complete block with one of `labels`."""
    return next((block for block in blocks(data) if block.label in labels), None)

"""Just enough DER (X.690) to read what X.509 certificates, requests and keys say: elements addressed by
the offset where their tag starts, each checked to lie inside its parent. Anything malformed raises
ValueError (or IndexError); `x509` turns that into `Unreadable`."""

from __future__ import annotations

import datetime as dt

SEQUENCE, INTEGER, BIT_STRING, OCTET_STRING, OID = 0x30, 0x02, 0x03, 0x04, 0x06
UTF8_STRING, BMP_STRING = 0x0C, 0x1E
UTC_TIME, GENERALIZED_TIME = 0x17, 0x18
MAX_OID_BYTES = 128  # the longest OIDs in use (UUID arcs, 2.25.…) take about 20


class Reader:
    def __init__(self, der: bytes) -> None:
        self.der = der

    def header(self, at: int) -> tuple[int, int, int]:
        """(tag, content start, content end) of the element at `at`."""
        tag, length, start = self.der[at], self.der[at + 1], at + 2
        if length & 0x80:
            count = length & 0x7F
            if not 1 <= count <= 4:
                raise ValueError("unsupported length")
            length, start = int.from_bytes(self.der[start : start + count], "big"), start + count
        if start + length > len(self.der):
            raise ValueError("truncated")
        return tag, start, start + length

    def tag(self, at: int) -> int:
        return self.der[at]

    def element(self, at: int) -> bytes:
        """The whole element at `at`: its tag, length and content."""
        return self.der[at : self.header(at)[2]]

    def content(self, at: int, tag: int | None = None) -> bytes:
        found, start, end = self.header(at)
        if tag is not None and found != tag:
            raise ValueError(f"expected tag {tag:#x} at {at}, found {found:#x}")
        return self.der[start:end]

    def children(self, at: int, tag: int | None = None) -> list[int]:
        found, position, end = self.header(at)
        if tag is not None and found != tag:
            raise ValueError(f"expected tag {tag:#x} at {at}, found {found:#x}")
        starts = []
        while position < end:
            starts.append(position)
            position = self.header(position)[2]
        if position != end:
            raise ValueError("an element runs past its parent")
        return starts

    def oid(self, at: int) -> str:
        data = self.content(at, OID)
        if len(data) > MAX_OID_BYTES:  # each arc's bytes grow one big number: bounded, or quadratic
            raise ValueError(f"an object identifier of {len(data)} bytes (at most {MAX_OID_BYTES})")
        first = data[0]
        numbers, value = [min(first // 40, 2), first - 40 * min(first // 40, 2)], 0
        for byte in data[1:]:
            value = (value << 7) | (byte & 0x7F)
            if not byte & 0x80:
                numbers.append(value)
                value = 0
        return ".".join(map(str, numbers))

    def text(self, at: int) -> str:
        """A directory string: UTF8String and BMPString as such, the other string types as Latin-1."""
        tag, raw = self.der[at], self.content(at)
        return raw.decode("utf-16-be") if tag == BMP_STRING else raw.decode("utf-8" if tag == UTF8_STRING else "latin-1")

    def time(self, at: int) -> dt.datetime:
        tag = self.der[at]
        text = self.content(at).decode("ascii")
        if tag == UTC_TIME:
            year = int(text[:2])
            text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"  # RFC 5280 4.1.2.5.1
        elif tag != GENERALIZED_TIME:
            raise ValueError("not a time")
        return dt.datetime.strptime(text.rstrip("Z")[:14], "%Y%m%d%H%M%S").replace(tzinfo=dt.UTC)

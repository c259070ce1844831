"""A fleet kept as one template: `count` leaves that differ only in their number, each member made
(stamped) when it is asked for, so a 100 000-device recipe is not 100 000 objects until a command
needs them one by one.

A fleet is kept this way only when stamping is provably what member-by-member resolution gives:
`fleet_rules.whole` validates the members whose numbers start each digit count (validity of a name, a
file name or a subject value depends only on the length of the digits filled in) and compares them
with the stamped ones; anything else (numbered SANs, requests made on devices, a mismatch) is
resolved member by member.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import overload

from ..core.numbering import FLEET_PATTERN, number_format
from .entries import Leaf

NUMBERED_FIELDS = ("name", "key_file", "csr_file", "cert_file", "chain_file")


class Fleet:
    """`count` members of one template leaf (its strings hold `{n}` / `{n:04d}`)."""

    __slots__ = ("template", "count", "_names", "_subject")

    def __init__(self, template: Leaf, count: int) -> None:
        self.template, self.count = template, count
        self._names = {
            attr: number_format(text)
            for attr in NUMBERED_FIELDS
            if (text := getattr(template, attr)) is not None and FLEET_PATTERN.search(text)
        }
        self._subject = {key: number_format(value) for key, value in template.subject.items() if FLEET_PATTERN.search(value)}

    def member(self, n: int) -> Leaf:
        changes: dict[str, object] = {attr: form.format(n) for attr, form in self._names.items()}
        if self._subject:
            changes["subject"] = self.template.subject | {key: form.format(n) for key, form in self._subject.items()}
        return dataclasses.replace(self.template, **changes)

    def named(self, name: str) -> Leaf | None:
        """The member called `name`, or None (found from the name's number, not by making every member)."""
        template = self.template.name
        if len(FLEET_PATTERN.findall(template)) > 1:  # which digits are the number is not one match
            return next((member for member in self if member.name == name), None)
        before, after = FLEET_PATTERN.split(template, maxsplit=1)[::3]
        found = re.fullmatch(f"{re.escape(before)}([0-9]+){re.escape(after)}", name)
        if found is None or len(found.group(1).lstrip("0")) > len(str(self.count)) or not 1 <= int(found.group(1)) <= self.count:
            return None  # (a number longer than the count's is not a member: never converted, however long)
        member = self.member(int(found.group(1)))
        return member if member.name == name else None

    def __iter__(self) -> Iterator[Leaf]:
        return map(self.member, range(1, self.count + 1))

    def __len__(self) -> int:
        return self.count

    def __repr__(self) -> str:
        return f"Fleet({self.template.name!r}, count={self.count})"


class Leaves(Sequence[Leaf]):
    """Servers or clients in recipe order: single leaves and whole fleets (members made on demand).
    Reads like the tuple it stands for: len, index, iteration, `+`, equality."""

    __slots__ = ("parts",)

    def __init__(self, parts: Iterable[Leaf | Fleet]) -> None:
        self.parts = tuple(parts)

    def __len__(self) -> int:
        return sum(1 if isinstance(part, Leaf) else part.count for part in self.parts)

    def __iter__(self) -> Iterator[Leaf]:
        for part in self.parts:
            if isinstance(part, Leaf):
                yield part
            else:
                yield from part

    @overload
    def __getitem__(self, index: int) -> Leaf: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[Leaf, ...]: ...
    def __getitem__(self, index: int | slice) -> Leaf | tuple[Leaf, ...]:
        if isinstance(index, slice):
            return tuple(self)[index]
        if index < 0:
            index += len(self)
        for part in self.parts:
            size = 1 if isinstance(part, Leaf) else part.count
            if 0 <= index < size:
                return part if isinstance(part, Leaf) else part.member(index + 1)
            index -= size
        raise IndexError("leaf index out of range")

    def __add__(self, other: object) -> Leaves:
        if isinstance(other, (Leaves, tuple)):
            return Leaves(self.parts + parts_of(other))
        return NotImplemented

    def __radd__(self, other: object) -> Leaves:
        if isinstance(other, tuple):
            return Leaves(parts_of(other) + self.parts)
        return NotImplemented

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (Leaves, tuple)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment] # like the tuple of unhashable leaves it stands for

    def __repr__(self) -> str:
        return f"Leaves({self.parts!r})"


def parts_of(leaves: Sequence[Leaf]) -> tuple[Leaf | Fleet, ...]:
    """The single leaves and whole fleets `leaves` is made of (a plain tuple: its leaves)."""
    return leaves.parts if isinstance(leaves, Leaves) else tuple(leaves)


def leaves_of(parts: Sequence[Leaf | Fleet]) -> tuple[Leaf, ...] | Leaves:
    """A plain tuple when there is no fleet to keep whole."""
    return Leaves(parts) if any(isinstance(part, Fleet) for part in parts) else tuple(parts)  # type: ignore[arg-type]


def find_leaf(leaves: Sequence[Leaf], name: str) -> Leaf | None:
    """The leaf called `name` (a fleet's member made alone), or None."""
    for part in parts_of(leaves):
        found = part.named(name) if isinstance(part, Fleet) else (part if part.name == name else None)
        if found is not None:
            return found
    return None


def outline(leaves: Sequence[Leaf]) -> list[str]:
    """The leaves' names for a message: a fleet kept whole as its first and last member."""
    return [
        part.name
        if isinstance(part, Leaf)
        else part.member(1).name + (f" … {part.member(part.count).name}" if part.count > 1 else "")
        for part in parts_of(leaves)
    ]


def templates(leaves: Sequence[Leaf]) -> list[tuple[str, Leaf]]:
    """(the name it is kept by, a leaf that stands for it) for each single leaf and each fleet kept whole:
    a fleet by its template's name and its first member (its members differ only in their number)."""
    return [(part.template.name, part.member(1)) if isinstance(part, Fleet) else (part.name, part) for part in parts_of(leaves)]

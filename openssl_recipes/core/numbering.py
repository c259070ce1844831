"""How a fleet numbers its members: `{n}` / `{n:04d}` in a name, a file or a subject, filled in per
member. Builtins and re only: the start-up reader (completion, the head start) uses it too."""

from __future__ import annotations

import re

FLEET_PATTERN = re.compile(r"\{n(?::(0?)(\d{1,2})d)?\}")
MAX_FLEET = 100_000


def fill_number(text: str, n: int) -> str:
    """A fleet member's `text`: `{n}` / `{n:04d}` replaced by its number."""
    return FLEET_PATTERN.sub(lambda m: f"{n:0{m.group(2)}d}" if m.group(2) else str(n), text)


def number_format(text: str) -> str:
    """`text` as a `str.format` template of the member's number: `.format(n)` is `fill_number(text, n)`."""
    pieces, last = [], 0
    for match in FLEET_PATTERN.finditer(text):
        pieces.append(text[last : match.start()].replace("{", "{{").replace("}", "}}"))
        pieces.append(f"{{0:0{match.group(2)}d}}" if match.group(2) else "{0}")
        last = match.end()
    pieces.append(text[last:].replace("{", "{{").replace("}", "}}"))
    return "".join(pieces)


def representatives(count: int) -> list[int]:
    """The first member of each digit count (1, 10, 100, …) and the last: where a member that is
    invalid for its length shows first, and the member with the most digits."""
    found, n = [], 1
    while n <= count:
        found.append(n)
        n *= 10
    return sorted({*found, count})

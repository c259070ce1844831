"""How a fleet numbers its members (`{n}`, `{n:04d}`), and the names of a recipe's entries read without
validating the recipe: shell completion asks for them on every Tab, where loading pydantic and the
schema would cost most of the answer's time."""

from __future__ import annotations

import os
import re

FLEET_PATTERN = re.compile(r"\{n(?::(0?)(\d{1,2})d)?\}")
MAX_FLEET = 100_000
MAX_RECIPE_BYTES = 1 << 20


def fill_number(text: str, n: int) -> str:
    """A fleet member's `text`: `{n}` / `{n:04d}` replaced by its number."""
    return FLEET_PATTERN.sub(lambda m: f"{n:0{m.group(2)}d}" if m.group(2) else str(n), text)


def read_unvalidated(recipe_file: str | os.PathLike[str]) -> tuple[str, object] | None:
    """(the recipe's text, its YAML) read before anything heavy is loaded — by a Tab's answer and by
    `build`'s head start — or None for a file over MAX_RECIPE_BYTES. Raises as open/decode/YAML do."""
    with open(recipe_file, "rb") as file:  # (not pathlib: neither caller imports it)
        content = file.read(MAX_RECIPE_BYTES + 1)
    if len(content) > MAX_RECIPE_BYTES:
        return None
    import yaml

    text = content.decode("utf-8")
    return text, yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def entry_names(recipe_file: str | os.PathLike[str]) -> list[str]:
    """The CA's, the intermediate's and every server's and client's name (each fleet member's), in
    recipe order, as far as the file reads; [] for anything that is not a recipe."""
    read = read_unvalidated(recipe_file)
    data = read[1] if read is not None else None
    if not isinstance(data, dict):
        return []
    names = []
    for key, default in (("ca", "ca"), ("intermediate", "intermediate")):
        entry = data.get(key)
        if isinstance(entry, dict) or (key == "ca" and entry is None):
            names.append(str((entry or {}).get("name", default)))
    for role in ("servers", "clients"):
        for entry in data.get(role) or []:
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                continue
            count = entry.get("count")
            if type(count) is int and 1 <= count <= MAX_FLEET and FLEET_PATTERN.search(entry["name"]):
                names += [fill_number(entry["name"], n) for n in range(1, count + 1)]
            else:
                names.append(entry["name"])
    return names

"""The recipe read before anything heavy is loaded, without validating it: shell completion asks for
the entries' names on every Tab, and `build`'s head start guesses its first keys from it, where loading
pydantic and the schema would cost most of the answer's time."""

from __future__ import annotations

import os

from ..core.numbering import FLEET_PATTERN, MAX_FLEET, fill_number

MAX_RECIPE_BYTES = 1 << 20


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

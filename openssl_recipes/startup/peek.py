"""The recipe read before anything heavy is loaded, without validating it: shell completion asks for
the entries' names on every Tab, and `build`'s head start guesses its first keys from it, where loading
pydantic and the schema would cost most of the answer's time."""

from __future__ import annotations

import os

from ..core.names import DEFAULT_CA_NAME, DEFAULT_INTERMEDIATE_NAME
from ..core.numbering import FLEET_PATTERN, MAX_FLEET, fill_number
from ..core.reading import MAX_RECIPE_BYTES, TooLarge, read_bounded


class RawRecipe:
    """A recipe as read before anything heavy is loaded: its text and its YAML, not validated."""

    __slots__ = ("text", "data")

    def __init__(self, text: str, data: object) -> None:
        self.text, self.data = text, data


def read_unvalidated(recipe_file: str | os.PathLike[str]) -> RawRecipe | None:
    """The recipe read by a Tab's answer and by `build`'s head start, or None for a file over the
    recipe's bound (the loader says why). Raises as open/decode/YAML do."""
    try:
        content = read_bounded(recipe_file, MAX_RECIPE_BYTES)
    except TooLarge:
        return None
    import yaml

    text = content.decode("utf-8")
    return RawRecipe(text, yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))


def entry_names(recipe_file: str | os.PathLike[str], authorities: bool = True) -> list[str]:
    """The CA's, the intermediate's (unless not `authorities`: the commands that take servers and
    clients only) and every server's and client's name (each fleet member's), in recipe order, as far as
    the file reads; [] for anything that is not a recipe."""
    read = read_unvalidated(recipe_file)
    data = read.data if read is not None else None
    if not isinstance(data, dict):
        return []
    names = []
    for key, default in (("ca", DEFAULT_CA_NAME), ("intermediate", DEFAULT_INTERMEDIATE_NAME)) if authorities else ():
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

"""Reads that stop at their bound: a file, a FIFO or a device (`-r /dev/zero`) is read to at most its
bound plus one byte, whatever `stat` says, so nothing a user points the tool at can fill its memory.
Builtins only: the start-up reader uses it too."""

from __future__ import annotations

import os

MAX_RECIPE_BYTES = 8 * 1024 * 1024  # a recipe's bound, for the loader and the start-up reader alike
MAX_REQUEST_BYTES = 1024 * 1024  # a certificate request's (`sign`, `csr:`): one of a 16384-bit key is ~5 KiB


class TooLarge(ValueError):
    """The file holds more than its bound."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} bytes")
        self.limit = limit


def read_bounded(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of `path`, at most `limit`; TooLarge when there are more. Raises as `open` does."""
    with open(path, "rb") as file:  # (not pathlib: the start-up reader does not import it)
        # a regular file's size, plus one byte to see its end: read(limit + 1) allocates the whole bound
        # first (4 MiB for each of a bundle's 50 000 small files, measured: a fifth of its time)
        size = os.fstat(file.fileno()).st_size
        first = min(limit + 1, size + 1) if size else limit + 1  # (a FIFO or a device says 0)
        content = file.read(first)
        if len(content) == first and first <= limit:  # it grew meanwhile: read on, up to the bound
            content += file.read(limit + 1 - first)
    if len(content) > limit:
        raise TooLarge(limit)
    return content

"""Just enough HOCON to tell whether a configuration file sets a key (`conf nanomq --into` asks whether
the user's file gives its bridge a `server`): objects, dotted and quoted keys, strings, arrays, `#` and
`//` comments. One pass that only moves forward, no recursion: linear in the text, whatever it holds."""

from __future__ import annotations

from collections.abc import Iterator

STRUCTURE = set("{}[]=:,\n")
ENDS_A_WORD = STRUCTURE | set(' \t\r#"')


def sets(text: str, path: tuple[str, ...]) -> bool:
    """Whether `text` assigns a value or an object to the key `path` (e.g. bridges, mqtt, emqx1, server)."""
    scopes: list[tuple[bool, int | None]] = [(True, 0)]  # (an object?, how many parts of `path` lead here)
    expecting_key, matched = True, None
    for token, quoted in _tokens(text):
        is_object, leading = scopes[-1]
        if not quoted and token in ("\n", ","):
            expecting_key = is_object
        elif not quoted and token in ("}", "]"):
            if len(scopes) > 1:
                scopes.pop()
            expecting_key = scopes[-1][0]
        elif not quoted and token in ("{", "["):
            scopes.append((token == "{", matched if is_object else None))
            expecting_key = token == "{"
        elif not quoted and token in ("=", ":"):
            expecting_key = False
        elif is_object and expecting_key:
            matched = _follow(leading, [token] if quoted else token.split("."), path)
            if matched == len(path):
                return True
            expecting_key = False
    return False


def _follow(leading: int | None, parts: list[str], path: tuple[str, ...]) -> int | None:
    """How many parts of `path` the key leads to from a scope that `leading` parts lead to (None: off it)."""
    for part in parts:
        if leading is None or leading >= len(path) or part.strip('"') != path[leading]:
            return None
        leading += 1
    return leading


def _tokens(text: str) -> Iterator[tuple[str, bool]]:
    """(token, quoted): structure characters, words, quoted strings; comments and blanks skipped."""
    i, end = 0, len(text)
    while i < end:
        char = text[i]
        if char in " \t\r":
            i += 1
        elif char == "#" or text.startswith("//", i):
            newline = text.find("\n", i)
            i = end if newline < 0 else newline
        elif char in STRUCTURE:
            yield char, False
            i += 1
        elif char == '"':
            if text.startswith('"""', i):
                close = text.find('"""', i + 3)
                stop = end if close < 0 else close + 3
            else:
                stop = i + 1
                while stop < end and text[stop] not in '"\n':
                    stop += 2 if text[stop] == "\\" else 1
                stop = min(stop + (stop < end and text[stop] == '"'), end)
            yield text[i + 1 : stop - 1], True
            i = stop
        else:
            stop = i
            while stop < end and text[stop] not in ENDS_A_WORD and not text.startswith("//", stop):
                stop += 1
            yield text[i:stop], False
            i = stop

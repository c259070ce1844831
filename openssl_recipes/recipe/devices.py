"""An entry whose key stays on the device (`csr:`): its request is read, and its key and subject are
what the certificate gets; the fields that would name a key or request of ours are refused."""

from __future__ import annotations

from pathlib import Path

from ..core.errors import Loc, Problem
from ..core.reading import MAX_REQUEST_BYTES, TooLarge, read_bounded
from ..core.x509 import KeySpec, request_key_problem
from .schema import LeafIn


def device_request(entry: LeafIn, loc: Loc, base: Path) -> tuple[tuple[str, KeySpec, dict[str, str]] | None, list[Problem]]:
    """(the request's absolute path, its key, its subject), or None; and the problems found (relative
    paths are the recipe folder's, `base`)."""
    from ..core.x509 import Unreadable, read_request

    problems = []
    path = Path(entry.csr or "").expanduser()
    path = path if path.is_absolute() else base / path
    for field, given in (("password", entry.password), ("key_file", entry.key_file), ("csr_file", entry.csr_file)):
        if given is not None:
            problems.append(
                Problem((*loc, field), "the key stays on the device (csr:): there is no key or request file here to set")
            )
    if entry.one_step:
        problems.append(Problem((*loc, "one_step"), "a request made on the device is signed as it is (csr:): no one_step"))
    try:
        facts = read_request(read_bounded(path, MAX_REQUEST_BYTES))
    except TooLarge:
        return None, [
            *problems,
            Problem((*loc, "csr"), f"{path}: more than {MAX_REQUEST_BYTES} bytes is not a certificate request"),
        ]
    except OSError as exc:
        return None, [*problems, Problem((*loc, "csr"), f"{path}: cannot read the device's request ({exc.strerror})")]
    except Unreadable as exc:
        return None, [*problems, Problem((*loc, "csr"), f"{path}: not a PEM certificate request ({exc})")]
    if problem := request_key_problem(facts.key):
        return None, [*problems, Problem((*loc, "csr"), f"{path}: {problem}")]
    assert facts.key is not None
    return (str(path), facts.key, dict(facts.subject)), problems

"""A fleet entry (`count:`) → its members, each filled in and validated by the schema like any entry,
or the whole fleet as one template (`fleet.Fleet`) when that is proven to give the same leaves.

Problems are returned, never said here: the caller (`rules`) decides which of them the recipe reports.
A member is resolved into a leaf by the function the caller passes (`Resolve`), so these rules need
nothing of the caller but that.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from pydantic import ValidationError

from ..core.errors import Loc, Problem
from ..core.numbering import FLEET_PATTERN, fill_number, representatives
from .entries import CertificateAuthority, Leaf
from .files import ENTRY_FILES
from .fleet import Fleet
from .schema import LeafIn, problems_of

# An entry → its leaf (None when it has problems) and its problems; `template`: a fleet's template,
# made even though its `{n}` fails the checks made on members.
Resolve = Callable[[LeafIn, bool], "tuple[Leaf | None, list[Problem]]"]


def whole(entry: LeafIn, loc: Loc, resolve: Resolve) -> Fleet | None:
    """The fleet as one template, or None to resolve it member by member.

    Which members are valid depends only on how many digits their number has: a name, a file
    name and a subject value are checked for their characters and length, and digits are of one
    kind. So the first member of each digit count (and the last) is resolved exactly as member by
    member, and each must equal the stamped template; when one of them is invalid, the fleet is
    resolved member by member, which says each of its problems. Numbered SANs (an address
    is valid by its value), requests made on devices and numbered password files (a file each) are
    resolved member by member."""
    assert entry.count is not None
    numbered_password = entry.password is not None and FLEET_PATTERN.search(entry.password.file or "")
    if entry.csr is not None or not FLEET_PATTERN.search(entry.name) or any(FLEET_PATTERN.search(s) for s in entry.san):
        return None
    if numbered_password:  # each member its own password file: each its own secret
        return None
    template_fields = entry.model_dump(exclude_none=True, exclude={"count"})
    resolved: dict[int, Leaf] = {}
    for n in representatives(entry.count):
        member, _problems = _member(template_fields, n, loc)
        leaf = resolve(member, False)[0] if member is not None else None
        if leaf is None:
            return None  # (its members before this one still take part in the checks across entries)
        resolved[n] = leaf
    template = resolve(entry, True)[0]
    fleet = Fleet(template, entry.count) if template is not None else None
    if fleet is None or any(fleet.member(n) != leaf for n, leaf in resolved.items()):
        return None
    return fleet


def members(entry: LeafIn, loc: Loc) -> Iterator[tuple[LeafIn | None, list[Problem]]]:
    """The entry itself, or each member of its fleet: the name, files, SANs and subject with the number
    filled in, then validated by the schema like any entry — each as (member, []); the first that is not
    valid as (None, its problems), which ends the fleet (one member's problem is every member's)."""
    if entry.count is None:
        yield entry, []
        return
    if not FLEET_PATTERN.search(entry.name):
        yield None, [Problem((*loc, "name"), "with count, the name must hold the number, e.g. 'device-{n:04d}'")]
        return
    template = entry.model_dump(exclude_none=True, exclude={"count"})
    for n in range(1, entry.count + 1):
        member, problems = _member(template, n, loc)
        yield member, problems
        if member is None:
            return


def _member(template: dict, n: int, loc: Loc) -> tuple[LeafIn | None, list[Problem]]:
    """Fleet member `n`, validated by the schema; None and its problems when it is not valid."""
    data = _filled(template, n)
    try:
        return LeafIn.model_validate(data), []
    except ValidationError as exc:
        return None, [Problem(p.loc, f"{p.message} (fleet member {data['name']!r})") for p in problems_of(exc, loc)]


def _filled(template: dict, n: int) -> dict:
    """A fleet member's fields: `{n}` / `{n:04d}` replaced by its number wherever a name is made."""

    def fill(text: str) -> str:
        return fill_number(text, n)

    data = dict(template)
    data["name"] = fill(template["name"])
    for attr in ENTRY_FILES:
        if attr in data:
            data[attr] = fill(data[attr])
    if "csr" in data:
        data["csr"] = fill(data["csr"])
    if isinstance(data.get("password"), dict) and "file" in data["password"]:  # each member's own password
        data["password"] = {**data["password"], "file": fill(data["password"]["file"])}
    data["san"] = [fill(s) for s in template.get("san", [])]
    data["subject"] = {k: fill(v) for k, v in template.get("subject", {}).items()}
    return data


def one_step(entry: LeafIn, default: bool | None, in_fleet: bool, style: str, issuer: CertificateAuthority) -> bool:
    """As the entry or the defaults say; unsaid, a fleet's devices are made in one openssl process
    each where the recipe allows it (strict style, unencrypted keys): 1000 devices is then ~1000
    processes, not ~3000, and no .csr file."""
    if issuer.token is not None:  # OpenSSL 3.0's `req -x509 -CA` cannot take an engine key (`recipe.token`)
        return False
    asked = entry.one_step if entry.one_step is not None else default
    if asked is not None:
        return asked
    return in_fleet and style == "strict" and entry.password is None and issuer.password is None

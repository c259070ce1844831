"""The rules over a whole recipe's files and names: no file written by two entries or commands, no
name used twice, and what `export NAME` writes belongs to NAME. Fleets kept whole are proven apart by
the shape of their numbered names, or checked member by member. Problems are returned as data."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.errors import Loc, Problem, loc_text
from ..core.names import CA_ARCHIVE, CONFIG_FILE_NAME, LIFECYCLE_FILES, ROTATION_DIR, export_files, file_name_problem
from ..core.numbering import FLEET_PATTERN
from .entries import CertificateAuthority, Leaf, Style
from .fleet import Fleet, Leaves

if TYPE_CHECKING:
    from .schema import RecipeIn

ENTRY_FILES = ("key_file", "csr_file", "cert_file", "chain_file")


def trust_file_of(raw: RecipeIn, ca_cert_file: str) -> tuple[str, list[Problem], list[str]]:
    """The trust file's name (`bundle_file`, its name before CA rotations, is read as it), with the
    problems and warnings of how the recipe gives it."""
    given = {"trust_file", "bundle_file"} & raw.model_fields_set
    if raw.style == "document":  # the document's peers trust its ca.pem; its steps stay the document's
        problem = Problem(("trust_file",), "the document style's peers trust the CA's certificate itself: use style: strict")
        return ca_cert_file, [problem] if given else [], []
    if raw.bundle_file is None:
        return raw.trust_file, [], []
    if "trust_file" in given:
        return raw.trust_file, [Problem(("bundle_file",), "give trust_file only: bundle_file is its earlier name")], []
    warning = f"bundle_file: now called trust_file (what peers trust): rename the key; {raw.bundle_file} stays its name"
    return raw.bundle_file, [], [warning]


def files_and_names_problems(
    style: Style,
    trust_file: str,
    ca: CertificateAuthority,
    intermediate: CertificateAuthority | None,
    placed: list[tuple[Leaf | Fleet, Loc]],
) -> list[Problem]:
    """Every file written twice and name used twice. Fleets kept whole are proven apart by shape
    (`_fleets_apart`); when that cannot prove them apart, every member is checked like any entry."""
    singles = [(part, loc) for part, loc in placed if isinstance(part, Leaf)]
    problems, files, names = _written_and_named(style, trust_file, ca, intermediate, singles)
    fleets = [part for part, _ in placed if isinstance(part, Fleet)]
    if fleets and not _fleets_apart(fleets, files, names):
        members = [(leaf, loc) for part, loc in placed for leaf in Leaves((part,))]
        problems = _written_and_named(style, trust_file, ca, intermediate, members)[0]
    return problems


def _written_and_named(
    style: Style,
    trust_file: str,
    ca: CertificateAuthority,
    intermediate: CertificateAuthority | None,
    leaves: list[tuple[Leaf, Loc]],
) -> tuple[list[Problem], set[str], set[str]]:
    """The problems among these leaves and the CAs; the files written and the names used."""
    problems: list[Problem] = []
    owners: dict[str, tuple[Loc, str]] = {CONFIG_FILE_NAME: ((), "the extension file")}
    owners |= {name: ((), "the revocation commands (revoke, crl)") for name in LIFECYCLE_FILES}
    owners |= {name: ((), "`rotate` (the new CA, the archive of retired ones)") for name in (ROTATION_DIR, CA_ARCHIVE)}
    if style == "document":
        owners[f"{Path(ca.cert_file).stem}.srl"] = ((), "the CA's serial file (document style)")
    declared: list[tuple[Loc, str, bool]] = [(("ca", "key_file"), name, True) for name in ca.key_files]  # (none in a token)
    declared.append((("ca", "cert_file"), ca.cert_file, True))
    names: dict[str, str] = {ca.name: "ca"}
    if intermediate:
        if intermediate.name in names:
            problems.append(Problem(("intermediate", "name"), f"{intermediate.name!r} is also the name of the root CA"))
        names[intermediate.name] = "intermediate"
        declared += [(("intermediate", "key_file"), name, True) for name in intermediate.key_files]
        declared += [(("intermediate", attr), getattr(intermediate, attr), True) for attr in ("csr_file", "cert_file")]
    if style == "strict":  # (the document style's is the CA's certificate)
        declared.append((("trust_file",), trust_file, True))
    for leaf, loc in leaves:
        declared += [((*loc, attr), getattr(leaf, attr), False) for attr in ENTRY_FILES if getattr(leaf, attr)]
    for loc, name, check_name in declared:
        problem = file_name_problem(name) if check_name else None
        if problem:
            problems.append(Problem(loc, problem))
        elif name in owners:
            problems.append(Problem(loc, f"{name!r} is also written by {owners[name][1]}"))
        else:
            owners[name] = (loc, loc_text(tuple(loc)))
    for leaf, loc in leaves:  # what `export NAME` writes belongs to that entry too
        for exported in export_files(leaf.name):
            if exported in owners:
                problems.append(Problem(owners[exported][0], f"{exported!r} is also written by `export {leaf.name}`"))
            owners[exported] = (loc, f"`export {leaf.name}`")
    for leaf, loc in leaves:
        if leaf.name in names:
            problems.append(Problem((*loc, "name"), f"{leaf.name!r} is also the name of {names[leaf.name]}"))
        else:
            names[leaf.name] = leaf.path
    return problems, set(owners), set(names)


_DIGIT_RUN = re.compile(rf"(?:{FLEET_PATTERN.pattern}|[0-9])+")


def _shape(text: str) -> str:
    """`text` with each run of digits and `{n}` placeholders as one `#`: a member's file or name
    has its template's shape, so two texts of different shapes are never equal."""
    return _DIGIT_RUN.sub("#", text)


def _fleets_apart(fleets: list[Fleet], files: set[str], names: set[str]) -> bool:
    """True when no fleet member can write a file or take a name another member or entry has: every
    numbered text holds the number (members differ), and no two of them, nor any other file or name,
    have the same shape. False means: not proven (check each member)."""
    numbered_files = [
        text
        for fleet in fleets
        for text in (*(getattr(fleet.template, attr) for attr in ENTRY_FILES), *export_files(fleet.template.name))
        if text is not None
    ]
    for numbered, taken in ((numbered_files, files), ([fleet.template.name for fleet in fleets], names)):
        shapes = {_shape(text) for text in numbered}
        if len(shapes) < len(numbered) or not all(FLEET_PATTERN.search(text) for text in numbered):
            return False
        if any(_shape(text) in shapes for text in taken):
            return False
    return True

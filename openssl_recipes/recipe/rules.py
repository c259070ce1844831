"""A schema-valid recipe → the resolved `Recipe`, with the rules that span entries: defaults, fleets
(each member validated by the schema like any entry, or kept whole when proven the same), SANs, one
password variable per secret, leaves outliving their CA; files and names used twice: `recipe_files`.

Problems travel as data (`Problem`: field path + message); the loader adds lines and columns.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path

from ..core.errors import Loc, Problem, format_loc, loc_text
from ..core.keys import DEFAULT_CURVE, DEFAULT_DAYS, DEFAULT_DIGEST, DEFAULT_KEY_SIZE, DEFAULT_KEY_TYPE
from ..core.names import default_file, file_name_problem
from ..core.x509 import KeySpec
from .broker import cross_check
from .devices import device_request
from .entries import CertificateAuthority, Leaf, Role, Secret
from .files import ENTRY_FILES, files_and_names_problems, trust_file_of
from .fleet import Fleet, Leaves, leaves_of
from .fleet_rules import members, one_step, whole
from .model import Recipe
from .sans import entry_sans
from .schema import (
    ENTRY_NAME,
    MAX_CERTIFICATES,
    CAIn,
    IntermediateIn,
    KeyFields,
    LeafIn,
    PasswordIn,
    RecipeIn,
)
from .sites import fleet_entries, site_entries
from .subject import SUBJECT_FIELDS, SubjectIn, subject_value_problem
from .token import authority_token, one_module


def resolve(
    raw: RecipeIn, path: Path, base: Path, output_dir: Path, set_aside: dict[Loc, object] | None = None
) -> tuple[Recipe | None, list[Problem]]:
    """The recipe, or None and every problem found (all of them, not the first). `set_aside`: the
    entries whose fields are not valid (their field path → the name they give, if any), skipped here
    so that the problems across the other entries are found in the same run."""
    set_aside = set_aside or {}
    rules = _Rules(raw, base)
    declared = sum(entry.count or 1 for entry in (*raw.servers, *raw.clients))
    if declared > MAX_CERTIFICATES:  # before anything is expanded: memory and time stay bounded
        message = (
            f"the recipe declares {declared} certificates (counting each fleet's count); "
            f"at most {MAX_CERTIFICATES} in one recipe: split it into several recipes"
        )
        return None, [Problem(("clients",), message)]
    ca = rules.authority(raw.ca, ("ca",))
    intermediate = rules.authority(raw.intermediate, ("intermediate",)) if raw.intermediate else None
    issuer = intermediate or ca
    leaves: dict[Role, list[Leaf | Fleet]] = {"server": [], "client": []}
    placed: list[tuple[Leaf | Fleet, Loc]] = []  # each leaf or fleet with the field path of its entry
    unmade: dict[Role, list[object]] = {"server": [], "client": []}  # names of entries with a problem
    for role, entries in (("server", raw.servers), ("client", raw.clients)):
        for index, entry in enumerate(entries):
            loc = (f"{role}s", index)
            made = [] if loc in set_aside else rules.leaves(role, entry, loc, issuer)
            if not made:
                unmade[role].append(set_aside.get(loc, entry.name))
            leaves[role] += made
            placed += [(part, loc) for part in made]
    trust_file, problems, warnings = trust_file_of(raw, rules.authority_file(raw.ca))
    rules.problems += problems
    rules.warnings += warnings
    rules.problems += files_and_names_problems(raw.style, trust_file, ca, intermediate, placed)
    rules.problems += one_module(ca, intermediate)
    # the NanoMQ section is checked against every name the recipe gives, also those of entries with
    # a problem (said on their own); unless one of those is a fleet, whose names are not known
    named = all(isinstance(name, str) and "{" not in name for names in unmade.values() for name in names)
    fleets = fleet_entries(raw.servers, raw.clients)
    if raw.nanomq is not None and named:
        names = {role: [leaf.name for leaf in Leaves(parts)] + list(map(str, unmade[role])) for role, parts in leaves.items()}
        rules.problems += cross_check(raw.nanomq, names["server"], names["client"], fleets)
    if rules.problems:
        return None, rules.problems
    recipe = Recipe(
        path=path,
        output_dir=output_dir,
        style=raw.style,
        ca=ca,
        servers=leaves_of(leaves["server"]),
        clients=leaves_of(leaves["client"]),
        warnings=tuple(rules.warnings),
        nanomq=raw.nanomq,
        intermediate=intermediate,
        trust_file=trust_file,
        site_entries=site_entries(raw.nanomq.bridge.client, raw.nanomq.listener.server, fleets) if raw.nanomq else None,
    )
    return recipe, []


class _Rules:
    """Resolves entries against the defaults, collecting problems and warnings as it goes."""

    def __init__(self, raw: RecipeIn, base: Path) -> None:
        self.raw = raw
        self.defaults = raw.defaults
        self.base = base  # relative password files are read from the recipe's folder
        self.problems: list[Problem] = []
        self.warnings: list[str] = []

    def problem(self, loc: Loc, message: str) -> None:
        self.problems.append(Problem(loc, message))

    def warn(self, loc: Loc, message: str, member: str | None = None) -> None:
        """A warning; `member` names the leaf when the entry is a fleet's (or any entry's) template."""
        self.warnings.append(f"{format_loc(loc)}{f' ({member})' if member else ''}: {message}")

    # -- defaults --

    def key_of(self, entry: KeyFields) -> KeySpec:
        d = self.defaults
        return KeySpec(
            type=entry.key_type or d.key_type or DEFAULT_KEY_TYPE,
            size=entry.key_size or d.key_size or DEFAULT_KEY_SIZE,
            curve=entry.curve or d.curve or DEFAULT_CURVE,
        )

    def secret_of(self, entry: PasswordIn | None, label: str) -> Secret | None:
        if entry is None:
            return None
        if entry.env is not None:
            return Secret("env", entry.env, entry.env)
        # one variable per entry: the readable part alone collides ('a-1' and 'a_1', 'CA' and 'ca')
        digest = hashlib.sha256(label.encode("utf-8")).hexdigest()[:8].upper()
        variable = "OPENSSL_RECIPES_PASSWORD_" + re.sub(r"[^A-Za-z0-9]", "_", label).upper() + "_" + digest
        if entry.file is not None:
            file_path = Path(entry.file).expanduser()
            return Secret("file", str(file_path if file_path.is_absolute() else (self.base / file_path)), variable)
        return Secret("prompt", label, variable)

    def subject_of(self, entry_subject: SubjectIn, name: str | None = None) -> dict[str, str]:
        """The defaults' fields under the entry's; `name`: the CN when neither gives one (a leaf in the
        strict style: the document style leaves an empty subject to openssl's prompt)."""
        merged = {**({"CN": name} if name is not None else {}), **self.defaults.subject.fields(), **entry_subject.fields()}
        return {k: merged[k] for k in SUBJECT_FIELDS if k in merged}

    # -- the CAs --

    @staticmethod
    def authority_file(entry: CAIn) -> str:
        return entry.cert_file or default_file(entry.name, "cert")

    def authority(self, entry: CAIn, loc: Loc) -> CertificateAuthority:
        """The root CA (`ca`) or the intermediate, with the defaults filled in."""
        if not ENTRY_NAME.match(entry.name):
            self.problem((*loc, "name"), f"{entry.name!r} must be letters, digits, '.', '_' or '-'")
        is_intermediate = isinstance(entry, IntermediateIn)
        token, problems, warnings = authority_token(entry, self.raw, self.base, loc)
        self.problems += problems
        self.warnings += [f"{format_loc(loc)}: {message}" for message in warnings]
        authority = CertificateAuthority(
            name=entry.name,
            key_file=token.private if token else entry.key_file or default_file(entry.name, "key"),
            cert_file=self.authority_file(entry),
            csr_file=(entry.csr_file or default_file(entry.name, "csr")) if isinstance(entry, IntermediateIn) else None,
            subject=self.subject_of(entry.subject),
            days=entry.days or self.defaults.days or DEFAULT_DAYS,
            key=self.key_of(entry),
            digest=entry.digest or self.defaults.digest or DEFAULT_DIGEST,
            password=self.secret_of(entry.password, entry.name),
            token=token,
        )
        if not authority.subject and (is_intermediate or self.raw.style == "strict"):
            self.problem((*loc, "subject"), "give at least a CN (the strict style does not prompt)")
        if is_intermediate:
            if self.raw.style != "strict":
                self.problem(loc, "an intermediate CA needs style: strict (the document's commands give it no CA extensions)")
            root_days = self.raw.ca.days or self.defaults.days or DEFAULT_DAYS
            if authority.days > root_days:
                self.warn(loc, f"valid for {authority.days} days, longer than its root CA ({root_days} days)")
        return authority

    # -- servers and clients --

    def leaves(self, role: Role, entry: LeafIn, loc: Loc, issuer: CertificateAuthority) -> list[Leaf | Fleet]:
        """The entry's leaf, or its fleet: kept whole when stamping is proven the same as resolving
        each member (`fleet_rules.whole`), else resolved member by member."""
        if self.raw.style == "document" and entry.san:
            self.warn(
                (*loc, "san"),
                "the document style's commands carry no extensions, so these names are not in the certificate "
                "(verify's names and the handshake will fail on them): use style: strict",
            )

        in_fleet = entry.count is not None

        def resolve(member: LeafIn, template: bool) -> tuple[Leaf | None, list[Problem]]:
            return self.resolved_leaf(role, member, loc, issuer, template, in_fleet)

        fleet = whole(entry, loc, resolve) if entry.count is not None else None
        found: list[Leaf | Fleet] = []
        if fleet is not None:
            found.append(fleet)
        else:
            for member, problems in members(entry, loc):
                leaf, more = resolve(member, False) if member is not None else (None, [])
                self.problems += problems + more
                if leaf is None:
                    break  # one member's problem is every member's: say it once
                found.append(leaf)
        if found:  # what is true of one member is true of all: said once, naming the first and last
            made = Leaves(found)
            first, last = made[0], made[-1]
            self.warn_leaf(first, loc, issuer, first.name if len(made) == 1 else f"{first.name} … {last.name}")
        return found

    def warn_leaf(self, leaf: Leaf, loc: Loc, issuer: CertificateAuthority, label: str) -> None:
        if leaf.key.type == "ed25519" and leaf.nanomq:
            self.warn(
                loc,
                "an Ed25519 key — NanoMQ (mbedTLS 2.28) and some clients cannot use it; "
                "set nanomq: false if no NanoMQ uses this entry",
                label,
            )
        if leaf.days > issuer.days:
            self.warn(loc, f"valid for {leaf.days} days, longer than its CA ({issuer.days} days)", label)

    def resolved_leaf(
        self, role: Role, entry: LeafIn, loc: Loc, issuer: CertificateAuthority, template: bool = False, in_fleet: bool = False
    ) -> tuple[Leaf | None, list[Problem]]:
        """The entry resolved (None when it has problems) and its problems, which are returned, not said."""
        said, self.problems = self.problems, []
        try:
            return self.leaf(role, entry, loc, issuer, template, in_fleet), self.problems
        finally:
            self.problems = said

    def leaf(
        self, role: Role, entry: LeafIn, loc: Loc, issuer: CertificateAuthority, template: bool = False, in_fleet: bool = False
    ) -> Leaf | None:
        """The entry resolved, or None when it has problems (said). `template`: a fleet's template,
        made even though its `{n}` fails the checks made on members; `in_fleet`: a member (or the
        template) of an entry with `count:`."""
        before = len(self.problems)
        raw = self.raw
        if not ENTRY_NAME.match(entry.name):
            self.problem((*loc, "name"), f"{entry.name!r} must be letters, digits, '.', '_' or '-'")
        subject = self.subject_of(entry.subject, entry.name if raw.style == "strict" else None)
        for key, value in subject.items():
            if problem := subject_value_problem(key, value):
                self.problem((*loc, "subject", key), problem)
        sans, problems = entry_sans(role, entry.san, subject.get("CN"), raw.style == "strict", self.uses_nanomq(entry), loc)
        self.problems += problems
        device_key = None
        if entry.csr is not None:
            device_key, problems = device_request(entry, loc, self.base)
            self.problems += problems
        if device_key:
            subject = device_key[2]  # the device's request names it; `x509 -req` keeps that subject
        if raw.style == "strict" and not subject:
            self.problem((*loc, "subject"), "give at least a CN (the strict style does not prompt)")
        if len(self.problems) > before and not template:
            return None
        name = entry.name
        leaf = Leaf(
            role=role,
            name=name,
            key_file=entry.key_file or default_file(name, "key"),
            csr_file=entry.csr_file or default_file(name, "csr"),
            cert_file=entry.cert_file or default_file(name, "cert"),
            subject=subject,
            sans=tuple(dict.fromkeys(sans)),
            days=entry.days or raw.defaults.days or DEFAULT_DAYS,
            key=device_key[1] if device_key else self.key_of(entry),
            digest=entry.digest or raw.defaults.digest or DEFAULT_DIGEST,
            password=self.secret_of(entry.password, name),
            nanomq=self.uses_nanomq(entry),
            path=loc_text(tuple(loc)),
            chain_file=(entry.chain_file or default_file(name, "chain")) if raw.intermediate is not None else None,
            one_step=one_step(entry, self.defaults.one_step, in_fleet, self.raw.style, issuer),
        )
        if device_key:  # signed as the device made it: no key, no request of ours
            leaf = dataclasses.replace(leaf, csr_file=device_key[0], device_key=True, one_step=False)
        if leaf.one_step and (leaf.password or issuer.password):
            self.problem(
                (*loc, "one_step"),
                "needs unencrypted keys (one openssl req cannot take two passwords); leave one_step off for this entry",
            )
        if leaf.one_step and raw.style != "strict":
            self.problem((*loc, "one_step"), "not in the document style (the document makes a request, then signs it)")
        for attr in ENTRY_FILES:
            if leaf.device_key and attr == "csr_file":
                continue  # the device's request, wherever the recipe says it is
            if (name_ := getattr(leaf, attr)) is not None and (problem := file_name_problem(name_)):
                self.problem((*loc, attr), problem)
        return None if len(self.problems) > before and not template else leaf

    def uses_nanomq(self, entry: LeafIn) -> bool:
        return self.defaults.nanomq if entry.nanomq is None else entry.nanomq

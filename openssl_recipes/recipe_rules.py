"""A schema-valid recipe → the resolved `Recipe`, with the checks that span entries: defaults, fleet
expansion, files written twice, names used twice, SANs, password variables, leaves outliving their CA.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from .broker_schema import cross_check
from .errors import RecipeError
from .file_names import CONFIG_FILE_NAME, LIFECYCLE_FILES, export_files, file_name_problem
from .recipe import CertificateAuthority, KeySpec, Leaf, Recipe, Role, San, Secret
from .recipe_schema import (
    MAX_FLEET,
    CAIn,
    IntermediateIn,
    KeyFields,
    LeafIn,
    PasswordIn,
    RecipeIn,
    SubjectIn,
    subject_value_problem,
)
from .sans import is_host_name, is_ip, parse_san
from .subject import SUBJECT_FIELDS

ENTRY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
FLEET_PATTERN = re.compile(r"\{n(?::(0?)(\d{1,2})d)?\}")


def resolve(raw: RecipeIn, path: Path, base: Path, output_dir: Path, locate: Any) -> Recipe:
    errors: list[str] = []
    warnings: list[str] = []
    d = raw.defaults

    def key_of(entry: KeyFields) -> KeySpec:
        return KeySpec(
            type=entry.key_type or d.key_type or "rsa",
            size=entry.key_size or d.key_size or 2048,
            curve=entry.curve or d.curve or "P-256",
        )

    def secret_of(entry: PasswordIn | None, label: str) -> Secret | None:
        if entry is None:
            return None
        # one variable per entry: the readable part alone collides ('a-1' and 'a_1', 'CA' and 'ca')
        digest = hashlib.sha256(label.encode("utf-8")).hexdigest()[:8].upper()
        variable = "OPENSSL_RECIPES_PASSWORD_" + re.sub(r"[^A-Za-z0-9]", "_", label).upper() + "_" + digest
        if entry.env is not None:
            return Secret("env", entry.env, entry.env)
        if entry.file is not None:
            file_path = Path(entry.file).expanduser()
            return Secret("file", str(file_path if file_path.is_absolute() else (base / file_path)), variable)
        return Secret("prompt", label, variable)

    def subject_of(entry_subject: SubjectIn) -> dict[str, str]:
        merged = {**d.subject.fields(), **entry_subject.fields()}
        return {k: merged[k] for k in SUBJECT_FIELDS if k in merged}

    def check_file(name: str, where: str) -> None:
        problem = file_name_problem(name)
        if problem:
            errors.append(f"{where}: {problem}")

    def authority_of(entry: CAIn, where: str) -> CertificateAuthority:
        """The root CA (`ca`) or the intermediate, with the defaults filled in."""
        if not ENTRY_NAME.match(entry.name):
            errors.append(f"{where}.name: {entry.name!r} must be letters, digits, '.', '_' or '-'")
        csr_file = getattr(entry, "csr_file", None) or f"{entry.name}.csr"
        return CertificateAuthority(
            name=entry.name,
            key_file=entry.key_file or f"{entry.name}.key",
            cert_file=entry.cert_file or f"{entry.name}.pem",
            csr_file=csr_file if isinstance(entry, IntermediateIn) else None,
            subject=subject_of(entry.subject),
            days=entry.days or d.days or 3650,
            key=key_of(entry),
            digest=entry.digest or d.digest or "sha256",
            password=secret_of(entry.password, entry.name),
        )

    ca = authority_of(raw.ca, "ca")
    check_file(ca.key_file, "ca.key_file")
    check_file(ca.cert_file, "ca.cert_file")
    if raw.style == "strict" and not ca.subject:
        errors.append("ca.subject: give at least a CN (the strict style does not prompt)")
    intermediate = None
    if raw.intermediate is not None:
        intermediate = authority_of(raw.intermediate, "intermediate")
        if raw.style != "strict":
            errors.append(
                "intermediate: an intermediate CA needs style: strict (the document's commands give it no CA extensions)"
            )
        if not intermediate.subject:
            errors.append("intermediate.subject: give at least a CN")
        if intermediate.days > ca.days:
            warnings.append(f"intermediate: valid for {intermediate.days} days, longer than its root CA ({ca.days} days)")
    issuer = intermediate or ca

    leaves: dict[Role, list[Leaf]] = {"server": [], "client": []}
    declared = sum(entry.count or 1 for entry in (*raw.servers, *raw.clients))
    if declared > MAX_FLEET:  # before anything is expanded: memory and time stay bounded
        errors.append(
            f"clients: the recipe declares {declared} certificates (counting each fleet's count); "
            f"at most {MAX_FLEET} in one recipe: split it into several recipes"
        )
        raise RecipeError(f"{path}: the recipe is not valid", [_with_line(e, locate) for e in errors])
    for role, entries in (("server", raw.servers), ("client", raw.clients)):
        for index, entry in enumerate(entries):
            where = f"{role}s[{index}]"
            if raw.style == "document" and entry.san:
                warnings.append(
                    f"{where}.san: the document style's commands carry no extensions, so these names are not in "
                    "the certificate (verify's names and the handshake will fail on them): use style: strict"
                )
            for member in _expand_fleet(entry, where, errors):
                leaf = _leaf(role, member, where, issuer, raw, key_of, secret_of, subject_of, errors)
                if leaf is not None:
                    leaves[role].append(leaf)
                    if leaf.key.type == "ed25519" and leaf.nanomq:
                        warnings.append(
                            f"{where} ({leaf.name}): an Ed25519 key — NanoMQ (mbedTLS 2.28) and some clients "
                            "cannot use it; set nanomq: false if no NanoMQ uses this entry"
                        )
                    if leaf.days > issuer.days:
                        warnings.append(
                            f"{where} ({leaf.name}): valid for {leaf.days} days, longer than its CA ({issuer.days} days)"
                        )

    all_leaves = leaves["server"] + leaves["client"]
    owners: dict[str, str] = {}
    reserved = {
        CONFIG_FILE_NAME: "the extension file",
        **{name: "the revocation commands (revoke, crl)" for name in LIFECYCLE_FILES},
    }
    if raw.style == "document":
        reserved[f"{Path(ca.cert_file).stem}.srl"] = "the CA's serial file (document style)"
    owners.update(reserved)
    names: dict[str, str] = {ca.name: "ca"}
    declared = [("ca", (("key_file", ca.key_file), ("cert_file", ca.cert_file)))]
    if intermediate:
        if intermediate.name in names:
            errors.append(f"intermediate.name: {intermediate.name!r} is also the name of the root CA")
        names[intermediate.name] = "intermediate"
        declared.append(
            (
                "intermediate",
                (("key_file", intermediate.key_file), ("csr_file", intermediate.csr_file), ("cert_file", intermediate.cert_file)),
            )
        )
        declared.append(("bundle_file", (("", raw.bundle_file),)))
    declared += [
        (
            leaf.path,
            (
                ("key_file", leaf.key_file),
                ("csr_file", leaf.csr_file),
                ("cert_file", leaf.cert_file),
                *((("chain_file", leaf.chain_file),) if leaf.chain_file else ()),
            ),
        )
        for leaf in all_leaves
    ]
    for where, files in declared:
        for attr, name in files:
            label = f"{where}.{attr}" if attr else where
            problem = file_name_problem(name)
            if problem and where in ("intermediate", "bundle_file"):
                errors.append(f"{label}: {problem}")
            elif name in owners:
                errors.append(f"{label}: {name!r} is also written by {owners[name]}")
            else:
                owners[name] = label
    for leaf in all_leaves:  # what `export NAME` writes belongs to that entry too
        for exported in export_files(leaf.name):
            if exported in owners:
                errors.append(f"{owners[exported]}: {exported!r} is also written by `export {leaf.name}`")
            owners[exported] = f"`export {leaf.name}`"
    for leaf in all_leaves:
        if leaf.name in names:
            errors.append(f"{leaf.path}.name: {leaf.name!r} is also the name of {names[leaf.name]}")
        else:
            names[leaf.name] = leaf.path

    errors += cross_check(raw.nanomq, [leaf.name for leaf in leaves["server"]], [leaf.name for leaf in leaves["client"]])
    if errors:
        raise RecipeError(f"{path}: the recipe is not valid", [_with_line(e, locate) for e in errors])
    return Recipe(
        path=path,
        output_dir=output_dir,
        style=raw.style,
        ca=ca,
        servers=tuple(leaves["server"]),
        clients=tuple(leaves["client"]),
        warnings=tuple(warnings),
        nanomq=raw.nanomq,
        intermediate=intermediate,
        bundle_file=raw.bundle_file if intermediate else None,
    )


def _with_line(message: str, locate: Any) -> str:
    where = message.split(":", 1)[0].split(" ", 1)[0]
    loc: list[Any] = []
    for part in re.findall(r"[A-Za-z_]\w*|\[\d+\]", where):
        loc.append(int(part[1:-1]) if part.startswith("[") else part)
    line = locate(loc) if loc else None
    return message + (f" (line {line})" if line else "")


def _expand_fleet(entry: LeafIn, where: str, errors: list[str]) -> list[LeafIn]:
    if entry.count is None:
        return [entry]
    if not FLEET_PATTERN.search(entry.name):
        errors.append(f"{where}.name: with count, the name must hold the number, e.g. 'device-{{n:04d}}'")
        return []

    def fill(text: str, n: int) -> str:
        return FLEET_PATTERN.sub(lambda m: f"{n:0{m.group(2)}d}" if m.group(2) else str(n), text)

    members = []
    for n in range(1, entry.count + 1):
        data = entry.model_dump(exclude_none=True, exclude={"count"})
        data["name"] = fill(entry.name, n)
        for attr in ("key_file", "csr_file", "cert_file", "chain_file"):
            if attr in data:
                data[attr] = fill(data[attr], n)
        data["san"] = [fill(s, n) for s in entry.san]
        data["subject"] = {k: fill(v, n) for k, v in entry.subject.fields().items()}
        # model_copy keeps nested models (the password reference) as models; model_dump made them dicts
        members.append(
            entry.model_copy(
                update={
                    **data,
                    "password": entry.password,
                    "subject": SubjectIn.model_construct(**data["subject"]),
                    "count": None,
                }
            )
        )
    return members


def _leaf(
    role: Role,
    entry: LeafIn,
    where: str,
    ca: CertificateAuthority,
    raw: RecipeIn,
    key_of: Any,
    secret_of: Any,
    subject_of: Any,
    errors: list[str],
) -> Leaf | None:
    before = len(errors)
    if not ENTRY_NAME.match(entry.name):
        errors.append(f"{where}.name: {entry.name!r} must be letters, digits, '.', '_' or '-'")
    subject = subject_of(entry.subject)
    for key, value in subject.items():
        problem = subject_value_problem(key, value)
        if problem:
            errors.append(f"{where}.subject.{key}: {problem}")
    sans: list[San] = []
    for index, text in enumerate(entry.san):
        try:
            sans.append(parse_san(text))
        except ValueError as exc:
            errors.append(f"{where}.san[{index}]: {exc}")
    nanomq = raw.defaults.nanomq if entry.nanomq is None else entry.nanomq
    if role == "server" and not sans and raw.style == "strict":
        cn = subject.get("CN")
        if cn and is_ip(cn):
            sans.append(San("IP", cn))
        elif cn and is_host_name(cn):
            sans.append(San("DNS", cn.lower()))
        else:
            errors.append(
                f"{where}.san: no SANs given and CN {cn!r} is not a host name; list the names "
                "and addresses clients connect to, e.g. san: [broker.local, 192.0.2.10]"
            )
    if role == "server" and nanomq and raw.style == "strict":
        # mbedTLS 2.x (NanoMQ) never matches IP SANs: give each IPv4 address a DNS twin.
        present = {str(s) for s in sans}
        for san in list(sans):
            if san.kind == "IP" and ":" not in san.value and f"DNS:{san.value}" not in present:
                sans.append(San("DNS", san.value))
    if raw.style == "strict" and not subject:
        errors.append(f"{where}.subject: give at least a CN (the strict style does not prompt)")
    if len(errors) > before:
        return None
    name = entry.name
    leaf = Leaf(
        role=role,
        name=name,
        key_file=entry.key_file or f"{name}.key",
        csr_file=entry.csr_file or f"{name}.csr",
        cert_file=entry.cert_file or f"{name}.pem",
        subject=subject,
        sans=tuple(dict.fromkeys(sans)),
        days=entry.days or raw.defaults.days or 3650,
        key=key_of(entry),
        digest=entry.digest or raw.defaults.digest or "sha256",
        password=secret_of(entry.password, name),
        nanomq=nanomq,
        path=where,
        chain_file=(entry.chain_file or f"{name}-chain.pem") if raw.intermediate is not None else None,
        one_step=raw.defaults.one_step if entry.one_step is None else entry.one_step,
    )
    if leaf.one_step and (leaf.password or ca.password):
        errors.append(
            f"{where}.one_step: needs unencrypted keys (one openssl req cannot take two passwords); "
            "leave one_step off for this entry"
        )
    if leaf.one_step and raw.style != "strict":
        errors.append(f"{where}.one_step: not in the document style (the document makes a request, then signs it)")
    problems = [
        f"{where}.{attr}: {p}"
        for attr in ("key_file", "csr_file", "cert_file", "chain_file")
        if getattr(leaf, attr) is not None and (p := file_name_problem(getattr(leaf, attr)))
    ]
    errors.extend(problems)
    return None if problems else leaf

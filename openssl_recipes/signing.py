"""`sign`: certificate requests made on devices (their keys never leave them), signed by the recipe's
issuing CA with the strict extension set of their role — whatever extensions a request asks for
(`x509 -req` copies none: a request for CA:TRUE still yields CA:FALSE).

Pure planning here (requests → leaves → a `Work` of steps); the command runs it through the executor.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from . import process
from .artifacts import Inspector, request_signature_ok
from .der import Unreadable, read_request
from .errors import UsageError
from .execute import NewFile
from .extensions import extension_file, leaf_sections
from .file_names import SIGN_CONFIG
from .fleet import find_leaf
from .lifecycle import Work
from .openssl import Openssl, child_environment
from .recipe import KeySpec, Leaf, Recipe, Role, San
from .recipe_schema import ENTRY_NAME
from .sans import is_host_name, parse_san
from .signing_rules import request_key_problem
from .steps import Step


def request_leaf(recipe: Recipe, csr: Path, role: Role, name: str | None, sans: list[str], days: int, openssl: str) -> Leaf:
    """The leaf a request becomes, after the checks: its signature verifies, its key is one the recipe
    allows (RSA ≥ 2048 bits, EC P-256/384/521, Ed25519), its name is free in the recipe."""
    try:
        facts = read_request(csr.read_bytes())
    except OSError as exc:
        raise UsageError(f"{csr}: cannot read: {exc.strerror}") from None
    except Unreadable as exc:
        raise UsageError(f"{csr}: not a PEM certificate request ({exc})") from None
    checked = process.run((openssl, "req", "-in", str(csr), "-noout", "-verify"), env=child_environment(recipe.secret_names()))
    if not request_signature_ok(checked):
        raise UsageError(f"{csr}: the request's signature does not verify (damaged, or not made with its key)")
    key = facts.key
    if problem := request_key_problem(key):
        raise UsageError(f"{csr}: {problem}")
    subject = dict(facts.subject)
    leaf_name = name or subject.get("CN") or csr.stem
    if not ENTRY_NAME.match(leaf_name):
        raise UsageError(f"{csr}: {leaf_name!r} cannot name a certificate file: give --name NAME")
    if leaf_name in {entry.name for entry in recipe.authorities} or find_leaf(recipe.leaves, leaf_name) is not None:
        raise UsageError(f"{csr}: {leaf_name!r} is an entry of the recipe; `build` makes its certificate (give --name)")
    parsed: list[San] = []
    for text in sans:
        try:
            parsed.append(parse_san(text))
        except ValueError as exc:
            raise UsageError(f"--san {text}: {exc}") from None
    cn = subject.get("CN", "")
    if role == "server" and not parsed and cn and is_host_name(cn):
        parsed.append(San("DNS", cn.lower()))
    if role == "server" and not parsed:
        raise UsageError(f"{csr}: a server needs the names clients use: give --san NAME (repeat)")
    return Leaf(
        role=role,
        name=leaf_name,
        key_file="",  # on the device: never here
        csr_file=str(csr.resolve()),
        cert_file=f"{leaf_name}.pem",
        subject={k: v for k, v in facts.subject},
        sans=tuple(dict.fromkeys(parsed)),
        days=days,
        key=key or KeySpec(),
        digest="sha256",
        password=None,
        nanomq=False,
        path=f"--csr {csr}",
        chain_file=f"{leaf_name}-chain.pem" if recipe.intermediate else None,
    )


def sign_work(recipe: Recipe, openssl: Openssl, leaves: list[Leaf], secret_values: dict[str, str]) -> Work:
    """The extension file for these leaves, then one `x509 -req` each (and the chain with an intermediate)."""
    files = {leaf.cert_file for leaf in leaves} | {leaf.chain_file for leaf in leaves if leaf.chain_file}
    if len(files) != sum(1 + bool(leaf.chain_file) for leaf in leaves):
        raise UsageError("two requests would write the same certificate: give each its own --name")
    signing = dataclasses.replace(
        recipe, servers=tuple(x for x in leaves if x.role == "server"), clients=tuple(x for x in leaves if x.role == "client")
    )
    sections = leaf_sections(signing)
    issuer = recipe.issuer
    passin = ["-passin", f"env:{issuer.password.env_name}"] if issuer.password else []
    serial = [] if openssl.random_serial else ["-CAcreateserial"]
    side = () if openssl.random_serial else (f"{Path(issuer.cert_file).stem}.srl",)
    work = Work(recipe, files={SIGN_CONFIG: NewFile(extension_file(signing, sections))})
    for leaf in leaves:
        argv = [openssl.command, "x509", "-req", "-in", leaf.csr_file, "-CA", issuer.cert_file, "-CAkey", issuer.key_file]
        argv += [*serial, "-out", leaf.cert_file, "-days", str(leaf.days), "-sha256", *passin]
        argv += ["-extfile", SIGN_CONFIG, "-extensions", sections[leaf.name]]
        inputs = (issuer.cert_file, issuer.key_file, SIGN_CONFIG, *side)
        secrets = (issuer.password,) if issuer.password else ()
        work.steps.append(Step(tuple(argv), "cert", leaf.name, inputs, (leaf.cert_file, *side), secrets))
        if leaf.chain_file and recipe.intermediate:
            parts = (leaf.cert_file, recipe.intermediate.cert_file)
            work.steps.append(Step(("cat", *parts), "bundle", leaf.name, parts, (leaf.chain_file,)))
    if issuer.password and issuer.password.env_name in secret_values:
        work.secret_values = {issuer.password.env_name: secret_values[issuer.password.env_name]}
    return work


def already_signed(recipe: Recipe, leaf: Leaf, openssl: str) -> bool:
    """Its certificate exists, carries the request's key and is signed by the issuer: nothing to do."""
    inspector = Inspector(openssl, recipe.output_dir, child_environment(recipe.secret_names()))
    if not inspector.certificate_of_request(leaf.cert_file, leaf.csr_file).good:
        return False
    return leaf.cert_file in inspector.signed_by(recipe.issuer.cert_file, [leaf.cert_file])

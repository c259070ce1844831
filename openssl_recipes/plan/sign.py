"""`sign`, planned: requests made on devices (their keys never leave them), signed by the recipe's
issuing CA with the strict extension set of their role — whatever extensions a request asks for
(`x509 -req` copies none: a request for CA:TRUE still yields CA:FALSE). Pure: leaves → a `Work` of
steps that the command runs through the executor.
"""

from __future__ import annotations

import dataclasses

from ..core.errors import UsageError
from ..core.names import SIGN_CONFIG
from ..core.openssl import Openssl
from ..recipe.entries import Leaf
from ..recipe.model import Recipe
from .argv import serial_file, sign_request
from .extensions import extension_file, leaf_sections
from .lifecycle import Work
from .steps import NewFile, Step


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
    side = () if openssl.random_serial else (serial_file(issuer),)
    work = Work(recipe, files={SIGN_CONFIG: NewFile(extension_file(signing, sections))})
    for leaf in leaves:
        argv = sign_request(
            openssl.command,
            leaf.csr_file,
            issuer,
            leaf.cert_file,
            leaf.days,
            leaf.digest,
            not openssl.random_serial,
            (SIGN_CONFIG, sections[leaf.name]),
        )
        inputs = (issuer.cert_file, issuer.key_file, SIGN_CONFIG, *side)
        secrets = (issuer.password,) if issuer.password else ()
        work.steps.append(Step(tuple(argv), "cert", leaf.name, inputs, (leaf.cert_file, *side), secrets))
        if leaf.chain_file and recipe.intermediate:
            parts = (leaf.cert_file, recipe.intermediate.cert_file)
            work.steps.append(Step(("cat", *parts), "bundle", leaf.name, parts, (leaf.chain_file,)))
    if issuer.password and issuer.password.env_name in secret_values:
        work.secret_values = {issuer.password.env_name: secret_values[issuer.password.env_name]}
    return work

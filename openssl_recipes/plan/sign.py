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
from .batch import batch_database, batch_step, batchable, chunks
from .extensions import extension_file, leaf_sections
from .lifecycle import Work
from .steps import NewFile, Step


def sign_work(
    recipe: Recipe, openssl: Openssl, leaves: list[Leaf], secret_values: dict[str, str], cores: int = 1
) -> tuple[Work, list[Step]]:
    """The extension file for these leaves, then the signatures: requests that share an extension
    section and a validity in batches (`batch_step`: one `openssl ca` a batch, at least `cores` batches),
    the rest one `x509 -req` each with its chain. Also the chains of the batched leaves, to run once
    their certificates are there (a request `openssl ca` skips has none)."""
    files = {leaf.cert_file for leaf in leaves} | {leaf.chain_file for leaf in leaves if leaf.chain_file}
    if len(files) != sum(1 + bool(leaf.chain_file) for leaf in leaves):
        raise UsageError("two requests would write the same certificate: give each its own --name")
    signing, sections = _signing(recipe, leaves)
    issuer = recipe.issuer
    side = () if openssl.random_serial else (serial_file(issuer),)
    work = Work(recipe, files={SIGN_CONFIG: NewFile(extension_file(signing, sections))})
    secrets = (issuer.password,) if issuer.password else ()
    later: list[Step] = []
    number = 0
    for (section, days), group in _groups(leaves, sections).items():
        if batchable(len(group), openssl, issuer):
            for chunk in chunks(group, cores):  # a batch a core, unless small
                number += 1
                work.files |= {name: NewFile(text) for name, text in batch_database(number, issuer).items()}
                work.steps.append(batch_step(openssl.command, number, chunk, issuer, (SIGN_CONFIG, section), secrets, True))
                later += chain_steps(recipe, list(chunk))
            continue
        for leaf in group:
            argv = sign_request(
                openssl.command,
                leaf.csr_file,
                issuer,
                leaf.cert_file,
                days,
                leaf.digest,
                not openssl.random_serial,
                (SIGN_CONFIG, section),
            )
            inputs = (issuer.cert_file, issuer.key_file, SIGN_CONFIG, *side)
            work.steps.append(Step(tuple(argv), "cert", leaf.name, inputs, (leaf.cert_file, *side), secrets, token=issuer.token))
            work.steps += chain_steps(recipe, [leaf])
    if issuer.password and issuer.password.env_name in secret_values:
        work.secret_values = {issuer.password.env_name: secret_values[issuer.password.env_name]}
    return work, later


def batched(recipe: Recipe, openssl: Openssl, leaves: list[Leaf]) -> set[str]:
    """The leaves `sign_work` signs in batches (the rest: one `x509 -req` each)."""
    _, sections = _signing(recipe, leaves)
    return {
        leaf.name
        for group in _groups(leaves, sections).values()
        if batchable(len(group), openssl, recipe.issuer)
        for leaf in group
    }


def _signing(recipe: Recipe, leaves: list[Leaf]) -> tuple[Recipe, dict[str, str]]:
    signing = dataclasses.replace(
        recipe, servers=tuple(x for x in leaves if x.role == "server"), clients=tuple(x for x in leaves if x.role == "client")
    )
    return signing, leaf_sections(signing)


def _groups(leaves: list[Leaf], sections: dict[str, str]) -> dict[tuple[str, int], list[Leaf]]:
    groups: dict[tuple[str, int], list[Leaf]] = {}
    for leaf in leaves:
        groups.setdefault((sections[leaf.name], leaf.days), []).append(leaf)
    return groups


def chain_steps(recipe: Recipe, leaves: list[Leaf]) -> list[Step]:
    """Each leaf's chain (leaf + intermediate), with an intermediate CA."""
    if recipe.intermediate is None:
        return []
    steps = []
    for leaf in leaves:
        if leaf.chain_file:
            parts = (leaf.cert_file, recipe.intermediate.cert_file)
            steps.append(Step(("cat", *parts), "bundle", leaf.name, parts, (leaf.chain_file,)))
    return steps

"""A Step (one openssl argv and the files it reads and writes) and a Plan (a recipe's steps and the
files written before them): what `plan` prints, `build` and every other command run (`execute`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal

from ..core.numbering import FLEET_PATTERN, number_format
from ..core.openssl import Openssl
from ..recipe.entries import Secret, TokenKey
from ..recipe.model import Recipe

# keycert: a leaf's key and certificate in one openssl (`req -newkey … -keyout KEY -x509 -CA`), outputs
# (certificate, key); certs: many requests signed by one `openssl ca` (its stdout, the certificates in
# order, kept in the artifact; each then written to its own output); bundle: certificates concatenated (argv `cat a b`, output to file); revoke, crl,
# p12: the lifecycle commands; tokenkey: a CA key made in a PKCS#11 token (pkcs11-tool), its output the
# key's URI, not a file
StepKind = Literal["key", "tokenkey", "csr", "cert", "keycert", "certs", "bundle", "revoke", "crl", "p12"]
MODES: dict[str, int | None] = {"csr": 0o644, "cert": 0o644, "keycert": 0o644, "bundle": 0o644, "crl": 0o644, "p12": 0o600}
# (a key stays 0600, as the umask makes it; a keycert step's mode is its certificate's)
IN_PLACE = {"revoke", "crl", "p12"}  # openssl replaces these only once it has them whole: a failure keeps the old one


@dataclass(frozen=True)
class NewFile:
    """A file a command writes itself before its steps (a configuration, an empty database)."""

    content: str
    mode: int = 0o644
    replace: bool = True  # False: written only when absent (a database openssl then keeps)


@dataclass(frozen=True)
class Step:
    argv: tuple[str, ...]
    kind: StepKind
    entry: str  # the name of the CA, server or client this step makes
    inputs: tuple[str, ...]  # file names in the output folder
    outputs: tuple[str, ...]  # the first one is the artifact; others are side files (ca.srl; a keycert's key)
    secrets: tuple[Secret, ...] = ()  # passwords openssl reads as env:NAME
    is_ca: bool = False
    prompts: bool = False  # openssl will ask for the subject on the terminal
    skips: bool = False  # a batch (certs) whose caller reports a request openssl ca skipped; else the step fails
    token: TokenKey | None = None  # the key in a PKCS#11 token it signs with (or makes): one such step at a time

    @property
    def artifact(self) -> str:
        return self.outputs[0]

    @property
    def products(self) -> tuple[str, ...]:
        """The files it makes that a build reports (`made …`): its artifact; a keycert's key, then its
        certificate; a batch's certificates (not a serial file, nor the batch's own output)."""
        return (self.outputs[1], self.artifact) if self.kind == "keycert" else self.results

    @property
    def results(self) -> tuple[str, ...]:
        """What the step is run for: a batch's certificates (not its own output), else its artifact."""
        return self.outputs[1:] if self.kind == "certs" else (self.artifact,)

    @property
    def mode(self) -> int | None:
        """The artifact's mode once the step succeeded (None: as openssl made it, 0600 under umask 077)."""
        return MODES.get(self.kind)

    @property
    def files_written(self) -> tuple[str, ...]:
        """Its outputs that are files in the output folder (a token key is not one)."""
        return () if self.kind == "tokenkey" else self.outputs

    @property
    def discard_on_failure(self) -> bool:
        return self.kind not in IN_PLACE


class StampedSteps:
    """A fleet's steps: its template's steps (file names and subjects holding `{n}`), stamped with
    each member's number when they are read. The planner keeps a fleet this way only when stamping
    gives the steps it plans for a member (it compares them)."""

    __slots__ = ("template", "count", "_forms")

    def __init__(self, template: tuple[Step, ...], count: int) -> None:
        self.template, self.count = template, count
        self._forms = [
            (number_format(step.entry), {attr: _numbered(getattr(step, attr)) for attr in ("argv", "inputs", "outputs")})
            for step in template
        ]

    def member(self, n: int) -> tuple[Step, ...]:
        return tuple(
            dataclasses.replace(
                step,
                entry=entry.format(n),
                **{attr: _stamp(getattr(step, attr), forms, n) for attr, forms in changes.items() if forms},
            )
            for step, (entry, changes) in zip(self.template, self._forms)
        )

    def __iter__(self) -> Iterator[Step]:
        for n in range(1, self.count + 1):
            yield from self.member(n)

    def __len__(self) -> int:
        return len(self.template) * self.count


def _numbered(values: tuple[str, ...]) -> dict[int, str]:
    return {i: number_format(value) for i, value in enumerate(values) if FLEET_PATTERN.search(value)}


def _stamp(values: tuple[str, ...], forms: dict[int, str], n: int) -> tuple[str, ...]:
    return tuple(forms[i].format(n) if i in forms else value for i, value in enumerate(values))


@dataclass(frozen=True)
class Plan:
    recipe: Recipe
    openssl: Openssl
    files: dict[str, str] = field(default_factory=dict)  # written (atomically) before any step
    parts: tuple[Step | StampedSteps, ...] = ()  # in order; a fleet's steps kept whole

    @cached_property
    def steps(self) -> tuple[Step, ...]:
        """Every step, in order (a fleet's made one by one)."""
        return tuple(step for part in self.parts for step in (part if isinstance(part, StampedSteps) else (part,)))

    @property
    def step_count(self) -> int:
        return sum(len(part) if isinstance(part, StampedSteps) else 1 for part in self.parts)

    @property
    def output_dir(self) -> Path:
        return self.recipe.output_dir

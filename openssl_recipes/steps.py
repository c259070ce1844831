"""A Step (one openssl argv and the files it reads and writes) and a Plan (a recipe's steps and the
files written before them): what `plan` prints, `build` and every other command run (`execute`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from .openssl import Openssl
from .recipe import Recipe, Secret

# bundle: certificates concatenated (argv `cat a b`, output to file); revoke, crl, p12: the lifecycle commands
StepKind = Literal["key", "csr", "cert", "bundle", "revoke", "crl", "p12"]
MODES: dict[str, int | None] = {"csr": 0o644, "cert": 0o644, "bundle": 0o644, "crl": 0o644, "p12": 0o600}  # key: 0600 by umask
IN_PLACE = {"revoke", "crl", "p12"}  # openssl replaces these only once it has them whole: a failure keeps the old one


@dataclass(frozen=True)
class Step:
    argv: tuple[str, ...]
    kind: StepKind
    entry: str  # the name of the CA, server or client this step makes
    inputs: tuple[str, ...]  # file names in the output folder
    outputs: tuple[str, ...]  # the first one is the artifact; others are side files (ca.srl)
    secrets: tuple[Secret, ...] = ()  # passwords openssl reads as env:NAME
    is_ca: bool = False
    prompts: bool = False  # openssl will ask for the subject on the terminal

    @property
    def artifact(self) -> str:
        return self.outputs[0]

    @property
    def mode(self) -> int | None:
        """The artifact's mode once the step succeeded (None: as openssl made it, 0600 under umask 077)."""
        return MODES.get(self.kind)

    @property
    def discard_on_failure(self) -> bool:
        return self.kind not in IN_PLACE


@dataclass(frozen=True)
class Plan:
    recipe: Recipe
    openssl: Openssl
    files: dict[str, str] = field(default_factory=dict)  # written (atomically) before any step
    steps: tuple[Step, ...] = ()

    @property
    def output_dir(self) -> Path:
        return self.recipe.output_dir

"""A CA rotation as the recipe reads it: the phase, kept in the output folder (`ROTATION_STATE`), and
what it makes of the CAs. While rotating, the new CA lives in `ROTATION_DIR/` under the recipe's own
file names and signs; the old one, at those names, is retiring: trusted, never used to sign.

A CA of a generation after the first carries it in its CN ("Example CA G2"): the old and the new root
then never share a subject, which every verifier here tells apart (mbedTLS 2.28 looks a parent up by
its name first; two roots of one name but different keys make it try the wrong one).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..core.errors import RecipeError
from ..core.names import ROTATION_DIR, ROTATION_STATE
from ..core.reading import TooLarge, read_bounded
from .entries import CertificateAuthority
from .model import Recipe, Rotation
from .subject import FIELD_MAX_LENGTH
from .token import relabelled

Phase = Literal["steady", "rotating", "finishing"]  # finishing: committed, the new CA's files on their way to its names
Scope = Literal["root", "intermediate"]
MAX_STATE_BYTES = 4096


@dataclass(frozen=True)
class State:
    """The phase, and the generation of each CA that signs (the new one while rotating)."""

    phase: Phase = "steady"
    scope: Scope | None = None  # while rotating: the root (and its intermediate) or the intermediate alone
    root: int = 1
    intermediate: int = 1
    started: str | None = None  # when `rotate start` ran (UTC)
    archive: str | None = None  # while finishing: the old CA's folder in the archive

    def text(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=1) + "\n"


def read_state(folder: Path) -> State:
    """The folder's rotation state; a folder that never rotated is steady in its first generation."""
    path = folder / ROTATION_STATE
    try:
        data = json.loads(read_bounded(path, MAX_STATE_BYTES))
        state = State(**data)
    except FileNotFoundError:
        return State()
    except (OSError, TooLarge, ValueError, TypeError) as exc:
        raise RecipeError(f"{path}: not a rotation state this version wrote ({exc})", ["restore it from its .bak"]) from None
    generations = (state.root, state.intermediate)
    if (
        state.phase not in ("steady", "rotating", "finishing")
        or (state.phase == "rotating") != (state.scope in ("root", "intermediate"))
        or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in generations)
    ):
        raise RecipeError(f"{path}: not a rotation state this version wrote", ["restore it from its .bak"])
    return state


def applied(recipe: Recipe, state: State) -> Recipe:
    """The recipe in this state: each CA's generation in its CN; while rotating, the new CA (and its
    intermediate) in ROTATION_DIR/ signing, the old chain retiring; while finishing, each new CA file
    where it is now (ROTATION_DIR/ until moved to the recipe's name: a move is one rename)."""
    if state == State():
        return recipe
    ca, intermediate = generation(recipe.ca, state.root), _generation(recipe.intermediate, state.intermediate)
    if state.phase == "steady":
        return dataclasses.replace(recipe, ca=ca, intermediate=intermediate)
    if state.phase == "finishing":
        folder = recipe.output_dir
        located = intermediate and _located(intermediate, folder)
        return dataclasses.replace(recipe, ca=_located(ca, folder), intermediate=located, phase="finishing")
    assert state.scope is not None and state.started is not None
    if state.scope == "intermediate":
        if recipe.intermediate is None or intermediate is None:
            raise RecipeError(
                "a rotation of the intermediate CA is under way, but the recipe has no intermediate: "
                "put it back (or `openssl-recipes rotate abort`)"
            )
        rotation = Rotation(state.scope, (ca, generation(recipe.intermediate, state.intermediate - 1)), state.started)
        return dataclasses.replace(recipe, ca=ca, intermediate=moved(intermediate), rotation=rotation, phase="rotating")
    old_intermediate = [generation(recipe.intermediate, state.intermediate - 1)] if recipe.intermediate else []
    rotation = Rotation(state.scope, (generation(recipe.ca, state.root - 1), *old_intermediate), state.started)
    new_intermediate = intermediate and moved(intermediate)
    return dataclasses.replace(recipe, ca=moved(ca), intermediate=new_intermediate, rotation=rotation, phase="rotating")


def _located(ca: CertificateAuthority, folder: Path) -> CertificateAuthority:
    """`ca` with each file at its rotation path while it is still there."""
    inside = moved(ca)
    fields = ("key_file", "cert_file", "csr_file", "database_dir")
    return dataclasses.replace(
        ca, **{f: getattr(inside, f) for f in fields if getattr(inside, f) and (folder / getattr(inside, f)).exists()}
    )


def generation(ca: CertificateAuthority, number: int) -> CertificateAuthority:
    """The CA of this generation: the first as the recipe says; a later one with " G<n>" after its CN
    and, for a key in a token, "-G<n>" after its key's label (a new object: a token's key is never
    replaced, and a URI names one key)."""
    if number == 1:
        return ca
    changes: dict[str, object] = {}
    if "CN" in ca.subject:
        cn = f"{ca.subject['CN']} G{number}"
        if len(cn) > FIELD_MAX_LENGTH["CN"]:
            raise RecipeError(
                f"{ca.name}'s CN with its generation, {cn!r}, is longer than {FIELD_MAX_LENGTH['CN']} characters: shorten it"
            )
        changes["subject"] = {**ca.subject, "CN": cn}
    if ca.token is not None:
        token = relabelled(ca.token, f"{ca.token.label}-G{number}")
        changes |= {"token": token, "key_file": token.private}
    return dataclasses.replace(ca, **changes) if changes else ca


def _generation(ca: CertificateAuthority | None, number: int) -> CertificateAuthority | None:
    return generation(ca, number) if ca is not None else None


def moved(ca: CertificateAuthority) -> CertificateAuthority:
    """The CA with its files in ROTATION_DIR/ (the new CA, while both live)."""

    def inside(name: str | None) -> str | None:
        return f"{ROTATION_DIR}/{name}" if name is not None else None

    return dataclasses.replace(
        ca,
        key_file=ca.key_file if ca.token else f"{ROTATION_DIR}/{ca.key_file}",  # (a token's: its own label)
        cert_file=f"{ROTATION_DIR}/{ca.cert_file}",
        csr_file=inside(ca.csr_file),
        database_dir=f"{ROTATION_DIR}/{ca.database_dir}",
    )


def describe(recipe: Recipe) -> list[str]:
    """The phase in a line or two (`plan`, `verify`, `show --tree`); none when steady."""
    if recipe.phase == "finishing":
        return ["CA rotation: a `rotate finish` was interrupted after it began; run `openssl-recipes rotate finish` again"]
    if recipe.rotation is None:
        return []
    new = [ca for ca in recipe.authorities if ca.cert_file not in recipe.rotation.chain]
    old = [ca for ca in recipe.rotation.retiring if ca.cert_file not in recipe.chain]
    return [
        f"CA rotation ({recipe.rotation.scope}) since {recipe.rotation.started}: "
        f"{', '.join(_named(ca) for ca in new)} signs; {', '.join(_named(ca) for ca in old)} stays trusted "
        f"({recipe.trust_file} holds both) until `openssl-recipes rotate finish`"
    ]


def _named(ca: CertificateAuthority) -> str:
    return f"{ca.subject.get('CN', ca.name)} ({ca.cert_file})"

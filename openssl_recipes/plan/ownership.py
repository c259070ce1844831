"""What a recipe owns in its output folder: every file its commands write, so `clean` removes exactly
those (and the checks that keep entries from sharing a file agree with it)."""

from __future__ import annotations

from pathlib import Path

from ..core.names import (
    BATCH_DIR,
    CA_DIR,
    CRL_FILE,
    LEGACY_CA_FILES,
    RESERVED_PREFIX,
    ROTATION_STATE,
    SIGN_CONFIG,
    SIGNED_LIST,
    export_files,
    file_name_problem,
)
from .steps import Plan, Step

REVOCATION_DATABASE = "the revocation database"
_WHAT = {"key": "private key", "csr": "request", "cert": "certificate", "keycert": "certificate", "bundle": "chain or bundle"}


def _maker(step: Step, name: str) -> str:
    """Which command writes `name`, and as what (what `clean` and the entries' checks name)."""
    if step.kind == "certs":  # a batch: each certificate is a device's; its own output is for one run
        return "build (a batch of requests)" if name == step.artifact else f"build (certificate of {Path(name).stem})"
    if name == step.artifact:
        what = _WHAT.get(step.kind, step.kind)
    else:
        what = "private key" if step.kind == "keycert" else "serial"
    return f"build ({what} of {step.entry})"


def signed_files(folder: Path) -> list[str]:
    """The certificates and chains `sign` wrote into `folder` (its list; none when there is none)."""
    try:
        with (folder / SIGNED_LIST).open("rb") as handle:
            text = handle.read(MAX_SIGNED_LIST_BYTES).decode("utf-8", "replace")
    except OSError:
        return []
    return [name for name in text.splitlines() if name and file_name_problem(name) is None]


MAX_SIGNED_LIST_BYTES = 16 * 1024 * 1024  # 100 000 devices' names


def owned_files(plan: Plan) -> dict[str, str]:
    """File name (relative to the output folder) → which command writes it, and as what. `clean`
    removes these; `sign` writes none of them (its certificates are named after requests)."""
    recipe = plan.recipe
    owned = {name: _maker(step, name) for step in plan.steps for name in step.outputs}
    # a device made in one process has no request; one an earlier build made (one_step off) is still ours
    owned |= {
        leaf.csr_file: f"build (request of {leaf.name}, from an earlier build)"
        for leaf in recipe.leaves
        if leaf.one_step and not leaf.device_key and leaf.csr_file not in owned
    }
    owned |= {name: "build" for name in plan.files}
    owned[f"{Path(recipe.ca.cert_file).stem}.srl"] = "build"  # the document style's serial file
    owned[f"{RESERVED_PREFIX}.lock"] = "every command (the folder lock)"
    owned |= {exported: f"export {leaf.name}" for leaf in recipe.leaves for exported in export_files(leaf.name)}
    owned[CRL_FILE] = "crl, revoke"
    owned[SIGN_CONFIG] = "sign"
    owned[SIGNED_LIST] = "sign (the list of what it signed)"
    owned |= {name: "sign" for name in signed_files(recipe.output_dir) if name not in owned}
    folder = recipe.output_dir
    places = dict.fromkeys((CA_DIR, *(ca.database_dir for ca in recipe.issuers)))
    database = [
        f"{place}/{path.name}" for place in places if (folder / place).is_dir() for path in sorted((folder / place).glob("*"))
    ]
    owned |= {name: REVOCATION_DATABASE for name in (*database, *LEGACY_CA_FILES)}
    if (folder / BATCH_DIR).is_dir():  # what a stopped `sign` or build left of its batches (removed at the end of each run)
        owned |= {
            name: "sign or build (a batch of requests, for one run)"
            for path in (folder / BATCH_DIR).rglob("*")
            if path.is_file() and (name := str(path.relative_to(folder))) not in owned
        }
    owned[ROTATION_STATE] = "rotate (the phase of a CA rotation)"
    if recipe.rotation:  # the old CA, trusted until `rotate finish`
        retiring = (ca for ca in recipe.rotation.retiring if ca.cert_file not in recipe.chain)
        owned |= {name: f"build (the retiring CA {ca.name})" for ca in retiring for name in ca.files}
    return owned

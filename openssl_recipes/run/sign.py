"""`sign`'s checks of a request made on a device, before it is signed: it parses, its signature verifies,
its key is one the recipe allows, its name is free in the recipe; and whether it is signed already.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

from ..core import process
from ..core.children import child_environment, default_jobs
from ..core.errors import RunError, UsageError
from ..core.names import BATCH_DIR, SIGN_CONFIG, SIGNED_LIST
from ..core.openssl import Openssl
from ..core.reading import MAX_REQUEST_BYTES, TooLarge, read_bounded
from ..core.text import is_dns_name
from ..core.x509 import KeySpec, San, Unreadable, read_request, request_key_problem
from ..plan.ownership import owned_files, signed_files
from ..plan.planner import build_plan
from ..plan.script import step_line
from ..plan.sign import batched, sign_work
from ..recipe.entries import Leaf, Role
from ..recipe.fleet import find_leaf
from ..recipe.model import Recipe
from ..recipe.sans import parse_san
from ..recipe.schema import ENTRY_NAME
from ..recipe.secrets import resolve
from .backups import restore, set_aside
from .execute import run_steps
from .inspect import Inspector, request_signature_ok
from .workspace import locked, remove_tree, write_atomically

BAD_SIGNATURE = "the request's signature does not verify (damaged, or not made with its key)"


def signature_verifies(recipe: Recipe, csr: str, openssl: str) -> bool:
    checked = process.run((openssl, "req", "-in", csr, "-noout", "-verify"), env=child_environment(recipe.secret_names()))
    return request_signature_ok(checked)


def request_leaf(
    recipe: Recipe,
    csr: Path,
    role: Role,
    name: str | None,
    sans: list[str],
    days: int,
    openssl: str,
    owned: Mapping[str, str] | None = None,
    check_signature: bool = True,
) -> Leaf:
    """The leaf a request becomes, after the checks: its signature verifies, its key is one the recipe
    allows (RSA ≥ 2048 bits, EC P-256/384/521, Ed25519), its name is free in the recipe and its files
    are none the recipe's commands write (`owned`: `plan.ownership`). `check_signature` off: the
    signature is checked by the `openssl ca` that signs it in a batch (one process for them all)."""
    try:
        facts = read_request(read_bounded(csr, MAX_REQUEST_BYTES))
    except TooLarge:
        raise UsageError(f"{csr}: more than {MAX_REQUEST_BYTES} bytes is not a certificate request") from None
    except OSError as exc:
        raise UsageError(f"{csr}: cannot read: {exc.strerror}") from None
    except Unreadable as exc:
        raise UsageError(f"{csr}: not a PEM certificate request ({exc})") from None
    if check_signature and not signature_verifies(recipe, str(csr), openssl):
        raise UsageError(f"{csr}: {BAD_SIGNATURE}")
    key = facts.key
    if problem := request_key_problem(key):
        raise UsageError(f"{csr}: {problem}")
    subject = dict(facts.subject)
    leaf_name = name or subject.get("CN") or csr.stem
    if not ENTRY_NAME.match(leaf_name):
        raise UsageError(f"{csr}: {leaf_name!r} cannot name a certificate file: give --name NAME")
    if leaf_name in {entry.name for entry in recipe.authorities} or find_leaf(recipe.leaves, leaf_name) is not None:
        raise UsageError(f"{csr}: {leaf_name!r} is an entry of the recipe; `build` makes its certificate (give --name)")
    cert_file, chain_file = f"{leaf_name}.pem", f"{leaf_name}-chain.pem" if recipe.intermediate else None
    for file_name in filter(None, (cert_file, chain_file)):
        if owned is not None and owned.get(file_name, "sign") != "sign":
            raise UsageError(
                f"{csr}: its certificate would be {file_name}, a file the recipe's {owned[file_name]} writes; "
                "give --name NAME for another file name"
            )
    parsed: list[San] = []
    for text in sans:
        try:
            parsed.append(parse_san(text))
        except ValueError as exc:
            raise UsageError(f"--san {text}: {exc}") from None
    cn = subject.get("CN", "")
    if role == "server" and not parsed and cn and is_dns_name(cn):
        parsed.append(San("DNS", cn.lower()))
    if role == "server" and not parsed:
        raise UsageError(f"{csr}: a server needs the names clients use: give --san NAME (repeat)")
    return Leaf(
        role=role,
        name=leaf_name,
        key_file="",  # on the device: never here
        csr_file=str(csr.resolve()),
        cert_file=cert_file,
        subject={k: v for k, v in facts.subject},
        sans=tuple(dict.fromkeys(parsed)),
        days=days,
        key=key or KeySpec(),
        digest="sha256",
        password=None,
        nanomq=False,
        path=f"--csr {csr}",
        chain_file=chain_file,
    )


def _refuse_foreign_files(recipe: Recipe, written: list[str], openssl: str) -> None:
    """A file where a certificate would go that `sign` did not write (its list) and that is no
    certificate of this CA's is the user's: exit 2 naming it, nothing signed."""
    folder = recipe.output_dir
    listed = set(signed_files(folder))
    # (a link is refused by the folder's checks)
    unlisted = [name for name in written if name not in listed and (folder / name).exists() and not (folder / name).is_symlink()]
    if not unlisted:
        return
    inspector = Inspector(openssl, folder, child_environment(recipe.secret_names()))
    ours = inspector.signed_by(recipe.issuer.cert_file, unlisted)  # this CA's, signed before the list was kept
    for name in unlisted:
        if name not in ours:
            raise UsageError(
                f"{folder / name} exists and was not signed by this tool; it would be replaced: "
                f"move it away or give --name NAME; nothing was signed"
            )


def already_signed(recipe: Recipe, leaves: list[Leaf], openssl: str) -> set[str]:
    """The leaves whose certificate exists, carries the request's key and is signed by the issuer:
    nothing to do for them (keys compared here, the signatures checked 400 to an openssl)."""
    inspector = Inspector(openssl, recipe.output_dir, child_environment(recipe.secret_names()))
    carried = [leaf.cert_file for leaf in leaves if inspector.certificate_of_request(leaf.cert_file, leaf.csr_file).good]
    signed = inspector.signed_by(recipe.issuer.cert_file, carried) if carried else set()
    return {leaf.name for leaf in leaves if leaf.cert_file in signed}


def sign(
    recipe: Recipe,
    openssl: Openssl,
    role: Role,
    csr: Path | None,
    csr_dir: Path | None,
    name: str | None,
    sans: list[str],
    days: int,
    dry_run: bool,
    say: Callable[[str], None],
) -> None:
    """Sign one request (`csr`), or every `*.csr` of `csr_dir` not signed yet, with the issuing CA."""
    issuer = recipe.issuer
    if not (recipe.output_dir / issuer.cert_file).exists():
        raise UsageError(f"{issuer.cert_file} does not exist: run `openssl-recipes build` first to make the CA")
    if csr is not None:
        paths = [csr]
    elif csr_dir is not None and csr_dir.is_dir():
        paths = sorted(csr_dir.glob("*.csr"))
    else:
        raise UsageError(f"--csr-dir {csr_dir}: no such folder")
    leaves, refused = [], []
    owned = owned_files(build_plan(recipe, openssl))
    for path in paths:  # a batch signs what it can: one bad request is reported, not the end of the rest
        try:
            leaves.append(request_leaf(recipe, path, role, name, sans, days, openssl.command, owned, csr is not None))
        except UsageError as exc:
            if csr is not None:
                raise
            refused.append(exc.message)
    done = already_signed(recipe, leaves, openssl.command) if csr is None else set()
    todo = [leaf for leaf in leaves if leaf.name not in done]
    in_batches = batched(recipe, openssl, todo)
    for leaf in [leaf for leaf in todo if leaf.name not in in_batches and csr is None]:  # (a batch's openssl ca checks its own)
        if not signature_verifies(recipe, leaf.csr_file, openssl.command):
            refused.append(f"{leaf.csr_file}: {BAD_SIGNATURE}")
            todo.remove(leaf)
    values = {} if dry_run or not todo else resolve([s for s in [issuer.password] if s])
    # a batch a core: more batches than cores leave one to run alone after the others (3 of 334 on 2 cores)
    work, chains = sign_work(recipe, openssl, todo, values, os.cpu_count() or 1)
    if dry_run:
        for line in [
            *work.lines(),
            *map(step_line, chains),
            *([f"rm -rf {BATCH_DIR}"] if work.files.keys() - {SIGN_CONFIG} else []),
        ]:
            say(line)
        return
    folder = recipe.output_dir
    written = [f for leaf in todo for f in (leaf.cert_file, leaf.chain_file) if f]
    _refuse_foreign_files(recipe, written, openssl.command)
    # a certificate signed earlier (another request under the same name) is replaced only with a backup
    backups = set_aside(folder, written)
    if todo:
        try:
            run_steps(folder, work.steps, work.secret_values, recipe.secret_names(), work.files, default_jobs())
            skipped = [leaf for leaf in todo if not (folder / leaf.cert_file).exists()]  # openssl ca did not sign it
            restore(
                folder,
                {name: backups.pop(name) for leaf in skipped for name in (leaf.cert_file, leaf.chain_file) if name in backups},
            )
            refused += [f"{leaf.csr_file}: {BAD_SIGNATURE}" for leaf in skipped]
            todo = [leaf for leaf in todo if leaf not in skipped]
            ready = {leaf.name for leaf in todo}
            if ready_chains := [step for step in chains if step.entry in ready]:
                run_steps(folder, ready_chains, {}, recipe.secret_names(), {}, default_jobs())
        except BaseException:
            restore(folder, backups)
            raise
        finally:
            remove_tree(folder / BATCH_DIR)
        with locked(folder, announce=False):
            listed = signed_files(folder)
            new = [f for leaf in todo for f in (leaf.cert_file, leaf.chain_file) if f and f not in listed]
            if new:
                write_atomically(folder / SIGNED_LIST, "".join(f"{n}\n" for n in (*listed, *new)), 0o644)
    for leaf in todo:
        say(
            f"signed {leaf.cert_file}"
            + (f" and {leaf.chain_file}" if leaf.chain_file else "")
            + f" ({leaf.role}, {leaf.days} days)"
            + (f"; the certificate it replaces is kept as {backups[leaf.cert_file]}" if leaf.cert_file in backups else "")
        )
    if done:
        say(f"kept {len(done)} already signed and valid")
    if refused:
        raise RunError(f"{len(refused)} of the requests in {csr_dir} could not be signed", refused)

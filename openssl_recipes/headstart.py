"""Key generations started before the recipe is validated: `build`'s head start.

Before its first step, `build` spends most of its own time importing typer and pydantic, validating
the recipe and writing the extension file (~0.3 s here), while a new key depends only on its
specification. So `openssl-recipes build` first reads the recipe's YAML just enough to guess its
first keys (`jobs` of them, plan order) and starts their exact plan commands at once, each in a
private folder inside the output folder. Nothing is trusted from the guess: once the recipe is
validated and planned, `runner.build` adopts a head-started key only when the plan has a key step
with exactly that argv, the build decides to make that key, its file is still absent and the child
ran with the very environment the executor would give it; the key is then moved into place. Anything
else (an invalid recipe, another decision, a failure, Ctrl-C) stops what was started and removes the
private folder, and the output folder too when the head start created it and nothing else was put in
it. Recipes that mention a password get no head start: their children's environments are the
executor's to decide.
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from . import process
from .file_names import RESERVED_PREFIX, file_name_problem

PRIVATE_PREFIX = f"{RESERVED_PREFIX}.headstart."
MAX_RECIPE_BYTES = 1 << 20  # larger recipes are fleets: a head start of two keys is noise there
VALUE_OPTIONS = {"--recipe": "recipe", "-r": "recipe", "--out": "out", "-o": "out", "--openssl": "openssl"}
VALUE_OPTIONS |= {"--jobs": "jobs", "-j": "jobs", "--templates": "templates"}
FLAGS = {"--quiet", "-q", "--force", "--new-ca"}
KEY_TYPES = ("rsa", "ec", "ed25519")
CURVES = ("P-256", "P-384", "P-521")


@dataclass
class HeadStart:
    folder: Path  # the output folder (resolved)
    private: Path  # where the children write
    env: dict[str, str]  # what every child was started with
    running: dict[tuple[str, ...], process.Running] = field(default_factory=dict)
    created: list[Path] = field(default_factory=list)  # folders made for it, outermost first

    def adopt(self, argv: tuple[str, ...], folder: Path, env: dict[str, str]) -> Any:
        """A function that finishes the step `argv` from the head start (its Result, the key moved to
        `folder`), or None when this head start cannot stand for it."""
        if folder.resolve() != self.folder or env != self.env or argv not in self.running:
            return None
        running = self.running.pop(argv)
        key_file = argv[argv.index("-out") + 1]

        def finish() -> process.Result:
            result = running.finish()
            if result.ok:
                try:
                    os.link(self.private / key_file, folder / key_file)  # never over a file that appeared meanwhile
                    os.unlink(self.private / key_file)
                except OSError:
                    return process.run(argv, folder, env)  # as if there had been no head start
            return result

        return finish

    def stop_the_rest(self) -> None:
        """Stop what was not adopted: the build has decided."""
        for running in self.running.values():
            running.stop()
        self.running.clear()

    def close(self) -> None:
        self.stop_the_rest()
        shutil.rmtree(self.private, ignore_errors=True)
        for made in reversed(self.created):
            try:
                made.rmdir()  # only if nothing else was put there
            except OSError:
                break


_current: HeadStart | None = None


def current() -> HeadStart | None:
    return _current


@contextmanager
def begun(argv: list[str]) -> Iterator[HeadStart | None]:
    """Start the head start for `openssl-recipes build …` (else nothing); always cleaned up."""
    global _current
    try:
        _current = _begin(argv)
    except Exception:  # noqa: BLE001 - a guess that fails is no head start; build reports real problems itself
        _current = None
    try:
        yield _current
    finally:
        head, _current = _current, None
        if head is not None:
            head.close()


def remove_stale(folder: Path) -> None:
    """Private folders of builds that were killed (their process is gone)."""
    for path in folder.glob(f"{PRIVATE_PREFIX}*"):
        pid = path.name.removeprefix(PRIVATE_PREFIX)
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# -- the guess ------------------------------------------------------------------------------------


def _begin(argv: list[str]) -> HeadStart | None:
    options = _build_options(argv)
    if options is None or os.environ.get("_OPENSSL_RECIPES_COMPLETE"):
        return None
    recipe_path = Path(options.get("recipe", "recipes.yaml"))
    text = recipe_path.read_text(encoding="utf-8") if recipe_path.stat().st_size <= MAX_RECIPE_BYTES else ""
    if not text or "password" in text:
        return None
    import yaml

    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if not isinstance(data, dict):
        return None
    base = recipe_path.resolve().parent
    folder = Path(options["out"]).resolve() if "out" in options else (base / str(data.get("output", "certs"))).resolve()
    jobs = int(options.get("jobs", os.cpu_count() or 1))
    command = options.get("openssl") or os.environ.get("OPENSSL") or "openssl"
    keys = list(_first_keys(data, command, folder))[: jobs + 1 if jobs > 1 else 1]  # Python works meanwhile
    if not keys:
        return None
    from .openssl import child_environment

    missing = _missing_folders(folder)
    head = HeadStart(folder, folder / f"{PRIVATE_PREFIX}{os.getpid()}", child_environment(()), created=missing)
    try:
        for made in missing:
            made.mkdir(mode=0o700)
        head.private.mkdir(mode=0o700)
        for key_argv in keys:
            head.running[key_argv] = process.start(key_argv, head.private, head.env)
    except OSError:
        head.close()
        return None
    return head


def _build_options(argv: list[str]) -> dict[str, str] | None:
    """The options of `build` the guess needs; None for anything else (typer reads argv properly)."""
    if not argv or argv[0] != "build":
        return None
    options: dict[str, str] = {}
    rest = iter(argv[1:])
    for token in rest:
        name, _, value = token.partition("=") if token.startswith("--") else (token, "", "")
        if name in VALUE_OPTIONS:
            options[VALUE_OPTIONS[name]] = value or next(rest, "")
        elif name not in FLAGS or value:
            return None
    return options


def _missing_folders(folder: Path) -> list[Path]:
    missing = []
    while not folder.exists():
        missing.insert(0, folder)
        folder = folder.parent
    return missing if folder.is_dir() else []


def _first_keys(data: dict, command: str, folder: Path) -> Iterator[tuple[str, ...]]:
    """The plain keys the plan would make first, in plan order, whose files (and, for a CA, whose
    certificate) do not exist yet."""
    from .plan import key_argv
    from .recipe import KeySpec

    defaults = data.get("defaults") or {}
    authorities = [data.get("ca") or {}, *([data["intermediate"]] if data.get("intermediate") else [])]
    leaves = [entry for role in ("servers", "clients") for entry in (data.get(role) or [])]
    for entry, is_authority in [*((ca, True) for ca in authorities), *((leaf, False) for leaf in leaves)]:
        if not isinstance(entry, dict) or "count" in entry or "csr" in entry:
            return  # a fleet or a device's own key: the guess stops here
        name = entry.get("name", "ca" if is_authority else None)
        key_file = entry.get("key_file") or f"{name}.key"
        cert_file = entry.get("cert_file") or f"{name}.pem"
        if not all(isinstance(text, str) and not file_name_problem(text) for text in (name, key_file, cert_file)):
            return
        if os.path.lexists(folder / key_file) or (is_authority and os.path.lexists(folder / cert_file)):
            continue  # the build decides about what exists
        key = KeySpec(
            type=entry.get("key_type") or defaults.get("key_type") or "rsa",
            size=entry.get("key_size") or defaults.get("key_size") or 2048,
            curve=entry.get("curve") or defaults.get("curve") or "P-256",
        )
        if key.type not in KEY_TYPES or key.curve not in CURVES or not isinstance(key.size, int) or not 2048 <= key.size <= 16384:
            return
        yield key_argv(command, key, key_file)

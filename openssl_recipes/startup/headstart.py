"""Key generations started before the recipe is validated: `build`'s head start.

Before its first step, `build` spends most of its own time importing typer and pydantic, validating
the recipe and writing the extension file (~0.4 s here), while a new key depends only on its
specification. So `openssl-recipes build` first reads the recipe's YAML just enough to guess its
first keys (one more than `--jobs`, in plan order) and starts their exact plan commands at once, at
a lower priority than its own work, in a private folder inside the output folder. Nothing is trusted
from the guess: once the recipe is validated and planned, `runner.build` adopts a head-started key
only when the plan has a key step with exactly that argv, the build decides to make that key, its
file is still absent and the child ran with the very environment the executor would give it; the
key is then moved into place. Anything else (an invalid recipe, another decision, a failure, Ctrl-C)
stops what was started and removes the private folder, and the output folder too when the head
start created it and nothing else was put in it. Recipes that mention a password get no head start:
their children's environments are the executor's to decide.
"""

from __future__ import annotations

import os
import stat

from ..core.children import command_name, default_jobs  # builtins only
from ..core.keys import CURVES, DEFAULT_CURVE, DEFAULT_KEY_SIZE, DEFAULT_KEY_TYPE, KEY_TYPES, key_argv, key_size_problem
from ..core.names import (  # builtins and re only
    DEFAULT_CA_NAME,
    DEFAULT_INTERMEDIATE_NAME,
    DEFAULT_OUTPUT,
    DEFAULT_RECIPE_FILE,
    PRIVATE_PREFIX,
    default_file,
    file_name_problem,
)
from .peek import read_unvalidated  # builtins and re; PyYAML when it reads

TYPE_CHECKING = False  # not typing's: nothing but builtins before the first key starts
if TYPE_CHECKING:  # annotations only (pathlib and process load once the keys run)
    from collections.abc import Callable
    from pathlib import Path

    from ..core.process import Result, Running

# Only builtins and core's names, children, keys and numbering before the first key starts; the rest once they run.
VALUE_OPTIONS = {"--recipe": "recipe", "-r": "recipe", "--out": "out", "-o": "out", "--openssl": "openssl"}
VALUE_OPTIONS |= {"--jobs": "jobs", "-j": "jobs", "--templates": "templates"}
FLAGS = {"--quiet", "-q", "--force", "--new-ca"}
# A larger recipe is a fleet: three keys are noise beside its build, and reading it twice costs more
MAX_GUESSED_BYTES = 1 << 20
NICENESS = 5  # below this process: its own work (imports, validation) is what everything else waits for


class HeadStart:
    def __init__(self, folder: Path, private: Path, env: dict[str, str], created: list[Path]) -> None:
        self.folder = folder  # the output folder (a resolved Path)
        self.private = private  # where the children write
        self.env = env  # what every child was started with
        self.running: dict[tuple[str, ...], Running] = {}
        self.created = created  # folders made for it, outermost first

    def adopt(self, argv: tuple[str, ...], folder: Path, env: dict[str, str]) -> Callable[[], Result] | None:
        """A function that finishes the step `argv` from the head start (its Result, the key moved to
        `folder`), or None when this head start cannot stand for it."""
        from ..core import process

        if folder.resolve() != self.folder or env != self.env or argv not in self.running:
            return None
        running = self.running.pop(argv)
        key_file = argv[argv.index("-out") + 1]

        def finish() -> Result:
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
        _remove(self.private, self.created)


_current: HeadStart | None = None


def current() -> HeadStart | None:
    return _current


class begun:
    """`with begun(argv) as head:` — the head start for `openssl-recipes build …` (else None), always
    cleaned up on the way out."""

    def __init__(self, argv: list[str]) -> None:
        self.argv = argv

    def __enter__(self) -> HeadStart | None:
        global _current
        try:
            _current = _begin(self.argv)
        except Exception:  # noqa: BLE001 - a guess that fails is no head start; build reports real problems itself
            _current = None
        return _current

    def __exit__(self, *exc: object) -> None:
        global _current
        head, _current = _current, None
        if head is not None:
            head.close()


# -- the guess ------------------------------------------------------------------------------------


def _begin(argv: list[str]) -> HeadStart | None:
    options = _build_options(argv)
    if options is None or os.environ.get("_OPENSSL_RECIPES_COMPLETE") or options.get("out") == "":
        return None  # (an empty --out is refused once typer reads it)
    recipe_path = options.get("recipe", DEFAULT_RECIPE_FILE)
    try:
        found = os.stat(recipe_path)
    except OSError:
        return None
    if not stat.S_ISREG(found.st_mode) or found.st_size > MAX_GUESSED_BYTES:  # a stream is the loader's to read
        return None
    read = read_unvalidated(recipe_path)
    if read is None or _mentions_a_password(read.data):
        return None
    data = read.data
    if not isinstance(data, dict):
        return None
    base = os.path.dirname(os.path.realpath(recipe_path))
    folder = os.path.realpath(options["out"] if "out" in options else os.path.join(base, str(data.get("output", DEFAULT_OUTPUT))))
    jobs = int(options.get("jobs", default_jobs()))
    command = command_name(options.get("openssl"))
    keys = list(_first_keys(data, command, folder))[: jobs + 1 if jobs > 1 else 1]  # Python works meanwhile
    if not keys:
        return None
    return _start(keys, folder)


def _start(keys: list[tuple[str, ...]], folder: str) -> HeadStart | None:
    import subprocess

    from ..core.children import child_environment

    missing = []
    parent = folder
    while not os.path.exists(parent):
        missing.insert(0, parent)
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        return None
    env = child_environment(())
    private = os.path.join(folder, f"{PRIVATE_PREFIX}{os.getpid()}")
    started: list[tuple[tuple[str, ...], subprocess.Popen[bytes]]] = []
    try:
        with _signals_held():  # Ctrl-C inside Popen would leave a child nobody knows of
            for made in missing:
                os.mkdir(made, 0o700 if made == folder else 0o777)  # as workspace.prepare: parents by the umask
            os.mkdir(private, 0o700)
            for argv in keys:
                child = subprocess.Popen(
                    argv,
                    cwd=private,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    umask=0o077,
                )
                started.append((argv, child))
                os.setpriority(os.PRIO_PROCESS, child.pid, NICENESS)
        # The keys run: now the rest (each child tracked by `process`, so Ctrl-C stops it like any other).
        from pathlib import Path

        from ..core import process

        head = HeadStart(Path(folder), Path(private), env, [Path(made) for made in missing])
        for argv, child in started:
            head.running[argv] = process.adopt_child(argv, child)
        return head
    except BaseException as exc:  # Ctrl-C too: nothing of a head start that did not begin stays behind
        _undo([child for _, child in started], private, missing)
        if isinstance(exc, OSError):
            return None
        raise


class _signals_held:
    """SIGINT and SIGTERM noted, not acted on, until the block ends; then a KeyboardInterrupt."""

    def __enter__(self) -> None:
        import signal

        self.caught: list[int] = []
        self.previous = {
            sig: signal.signal(sig, lambda signum, _frame: self.caught.append(signum)) for sig in (signal.SIGINT, signal.SIGTERM)
        }

    def __exit__(self, *exc: object) -> None:
        import signal

        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
        if self.caught:
            from ..core.interrupt import Interrupt

            raise Interrupt


def _undo(children: list, private: str, created: list[str]) -> None:
    for child in children:
        child.kill()
        child.wait()
    _remove(private, created)


def _remove(private: str | Path, created: list[str] | list[Path]) -> None:
    """The private folder, then the folders made for it, innermost first, while they are empty."""
    import shutil

    shutil.rmtree(private, ignore_errors=True)
    for made in reversed(created):
        try:
            os.rmdir(made)  # only if nothing else was put there
        except OSError:
            break


def _mentions_a_password(data: object) -> bool:
    """Whether any mapping of the parsed recipe has a `password` key (however the YAML spells it: an
    escape such as "passw\\x6Frd" reads as password). Each node once: YAML aliases share nodes."""
    stack, seen = [data], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, dict):
            if "password" in node:
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


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


def _first_keys(data: dict, command: str, folder: str):
    """The plain keys the plan would make first, in plan order, whose files (and, for a CA, whose
    certificate) do not exist yet."""
    defaults = data.get("defaults") or {}
    authorities = [(data.get("ca") or {}, DEFAULT_CA_NAME)]
    authorities += [(data["intermediate"], DEFAULT_INTERMEDIATE_NAME)] if data.get("intermediate") else []
    leaves = [(entry, None) for role in ("servers", "clients") for entry in (data.get(role) or [])]
    seen = set()
    for entry, default_name in [*authorities, *leaves]:
        if not isinstance(entry, dict) or "count" in entry or "csr" in entry or "key" in entry:
            return  # a fleet, a device's own key or a CA's in a token: the guess stops here
        is_authority = default_name is not None
        name = entry.get("name", default_name)
        key_file = entry.get("key_file") or (default_file(name, "key") if isinstance(name, str) else None)
        cert_file = entry.get("cert_file") or (default_file(name, "cert") if isinstance(name, str) else None)
        if not all(isinstance(text, str) and file_name_problem(text) is None for text in (name, key_file, cert_file)):
            return
        if key_file in seen:
            return  # two entries, one key file: the recipe is refused when it loads
        seen.add(key_file)
        if os.path.lexists(os.path.join(folder, key_file)) or (is_authority and os.path.lexists(os.path.join(folder, cert_file))):
            continue  # the build decides about what exists
        key_type = entry.get("key_type") or defaults.get("key_type") or DEFAULT_KEY_TYPE
        size = entry.get("key_size") or defaults.get("key_size") or DEFAULT_KEY_SIZE
        curve = entry.get("curve") or defaults.get("curve") or DEFAULT_CURVE
        if key_type not in KEY_TYPES or curve not in CURVES or type(size) is not int or key_size_problem(size):
            return  # the recipe is refused when it loads
        yield key_argv(command, key_type, size, curve, key_file)

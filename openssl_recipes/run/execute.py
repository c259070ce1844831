"""The one way a command runs openssl: steps, each an argv run exactly as `plan` / `--dry-run` print it.

Every command that runs openssl (build, issue, renew, export, revoke, crl) hands its steps to
`execute`: independent steps at once (a `graphlib` order over the files they read and write), each
child with the passwords its own step reads and no other, a failure reported with every secret
masked, what a failed step was writing removed (unless the step changes a file in place). `run_steps`
adds what a command needs around it: the output folder checked and locked, its files written first.
"""

from __future__ import annotations

import contextlib
import functools
import heapq
import os
import queue
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from graphlib import TopologicalSorter
from pathlib import Path
from typing import TYPE_CHECKING

from ..core import interrupt, process
from ..core.children import child_environment
from ..core.errors import ChildrenStopped, RunError
from ..core.names import CA_CONFIG, CA_DATABASE, CA_DIR, LEGACY_CA_FILES
from ..plan.script import command_line
from ..plan.steps import NewFile, Step
from ..recipe.secrets import mask
from . import backups, batch, readback, workspace
from .token import token_failure

if TYPE_CHECKING:
    from ..plan.lifecycle import Work


def run_steps(
    folder: Path,
    steps: Sequence[Step],
    secret_values: Mapping[str, str],
    hidden: Iterable[str],
    files: Mapping[str, NewFile] | None = None,
    jobs: int = 1,
) -> None:
    """Check and lock the folder, write `files`, run every step. `hidden`: every password variable of
    the recipe, kept from every child except the steps that read it."""
    files = files or {}
    outputs = [name for step in steps for name in step.files_written]
    workspace.prepare(folder, [*outputs, *files], pem=[n for n in outputs if n.endswith(".pem")])
    env = child_environment({*hidden, *secret_values})
    with workspace.locked(folder):
        workspace.write_files(folder, files)
        execute(folder, steps, range(len(steps)), env, secret_values, jobs)


def run_work(work: Work) -> None:
    """Run a lifecycle command's work: its files, then its steps."""
    folder = work.recipe.output_dir
    if any(name.startswith(f"{CA_DIR}/") for name in work.files):
        _move_legacy_database(folder)
    run_steps(folder, work.steps, work.secret_values, work.recipe.secret_names(), work.files)


def _move_legacy_database(folder: Path) -> None:
    """Earlier versions kept the CA database beside the certificates: move it into CA_DIR once."""
    legacy = [name for name in LEGACY_CA_FILES if (folder / name).is_file() and not (folder / name).is_symlink()]
    if not legacy or (folder / CA_DATABASE).exists():
        return
    (folder / CA_DIR).mkdir(mode=0o700, exist_ok=True)
    for name in legacy:
        if name == Path(CA_CONFIG).name:
            (folder / name).unlink()  # ours, and written again below with the new paths
        else:
            os.replace(folder / name, folder / CA_DIR / name)


def execute(
    folder: Path,
    steps: Sequence[Step],
    to_run: Iterable[int],
    env: Mapping[str, str],
    secret_values: Mapping[str, str],
    jobs: int,
    done: Callable[[int], None] = lambda _i: None,
    advance: Callable[[], None] = lambda: None,
    prestarted: Mapping[int, Callable[[], process.Result]] | None = None,
) -> None:
    """Run `steps[i]` for each i in `to_run`: a step starts once every earlier step writing a file it
    reads or writes has finished; in parallel, key generations first (the long steps). `prestarted`:
    steps already running (build's head start), finished by the function given instead of started."""
    prestarted = prestarted or {}
    order = TopologicalSorter(_dependencies(steps, to_run))
    order.prepare()

    def priority(i: int) -> tuple[int, int]:
        if jobs == 1:
            return (2, i)  # one at a time: in plan order
        return (0 if i in prestarted else 1 if steps[i].kind in ("key", "keycert") else 2, i)

    ready = [priority(i) for i in order.get_ready()]
    heapq.heapify(ready)
    running: dict[Future[process.Result], int] = {}
    failure: tuple[int, process.Result | OSError | NotReadBack] | None = None

    finished: queue.SimpleQueue[Future[process.Result]] = queue.SimpleQueue()  # futures as they complete

    kept: dict[int, dict[str, str]] = {}  # an in-place step's earlier artifact, set aside until it reads back

    def start(i: int) -> Future[process.Result]:
        step = steps[i]
        if i in prestarted:
            run = prestarted[i]
        elif step.kind == "bundle":
            run = functools.partial(_concatenate, step, folder)
        else:
            own = {s.env_name: secret_values[s.env_name] for s in step.secrets if s.env_name in secret_values}
            run = functools.partial(process.run, step.argv, folder, {**env, **own} if own else dict(env), None, step.prompts)
            if step.kind == "certs":  # many requests signed by one openssl ca: each certificate to its file
                run = functools.partial(batch.signed, run, step, folder)
        if not step.discard_on_failure:  # changed in place: what is there now stays until the new reads back
            moved = [] if step.kind == "revoke" else [step.artifact]
            kept[i] = backups.set_aside(folder, moved) | backups.copy_aside(folder, [o for o in step.outputs if o not in moved])
        future = pool.submit(_read_back_after, run, step, folder)
        future.add_done_callback(finished.put)
        return future

    adopted = 0
    pool = ThreadPoolExecutor(max_workers=max(1, jobs) + len(prestarted))
    try:
        while (ready and failure is None) or running:
            while ready and failure is None and (ready[0][0] == 0 or len(running) - adopted < jobs):
                ready_class, i = heapq.heappop(ready)
                running[start(i)] = i
                adopted += ready_class == 0  # already running: it takes no slot of `jobs`
            for future in _completed(finished):
                i = running.pop(future)
                adopted -= priority(i)[0] == 0
                try:
                    result: process.Result | OSError | NotReadBack = future.result()
                except (OSError, NotReadBack) as exc:
                    result = exc
                if not isinstance(result, process.Result) or not result.ok:
                    failure = failure or (i, result)
                    _discard_outputs(steps[i], folder, force=isinstance(result, NotReadBack))
                    backups.restore(folder, kept.pop(i, {}))
                    continue
                for backup in kept.pop(i, {}).values():  # the new one reads back: the old one goes
                    (folder / backup).unlink(missing_ok=True)
                _publish(steps[i], folder)
                done(i)
                advance()
                order.done(i)
                for j in order.get_ready():
                    heapq.heappush(ready, priority(j))
    except KeyboardInterrupt:
        with process.stopping():
            pool.shutdown(wait=True, cancel_futures=True)
        for i in running.values():
            _discard_outputs(steps[i], folder)
            backups.restore(folder, kept.pop(i, {}))
        raise ChildrenStopped(f"stopped {len(running)} running openssl command(s); run the command again to finish") from None
    pool.shutdown(wait=True)
    if failure is not None:
        _report(steps[failure[0]], failure[1], secret_values)


def _completed(finished: queue.SimpleQueue[Future[process.Result]]) -> list[Future[process.Result]]:
    """The futures completed so far: at least one, unless a quarter second passes (Ctrl-C is seen then,
    and one that Python dropped is raised here)."""
    interrupt.check()
    try:
        completed = [finished.get(timeout=0.25)]
    except queue.Empty:
        return []
    while not finished.empty():
        completed.append(finished.get_nowait())
    return completed


def _dependencies(steps: Sequence[Step], to_run: Iterable[int]) -> dict[int, set[int]]:
    """Each running step waits for the last running step that writes a file it reads or writes; a step
    that opens a PKCS#11 token, for the last one that did (one at a time: measured with SoftHSM2, a second
    process told "No matching initialized token" while another signs)."""
    last_writer: dict[str, int] = {}
    graph: dict[int, set[int]] = {}
    last_token: int | None = None
    for i in to_run:
        step = steps[i]
        graph[i] = {last_writer[name] for name in (*step.inputs, *step.outputs) if name in last_writer}
        for name in step.outputs:
            last_writer[name] = i
        if step.token:
            graph[i] |= {last_token} if last_token is not None else set()
            last_token = i
    return graph


class NotReadBack(Exception):
    """A step exited 0 but its artifact does not read back (`readback`)."""


def _read_back_after(run: Callable[[], process.Result], step: Step, folder: Path) -> process.Result:
    """Run a step (in a worker thread), then read its artifact back there too: the loop stays free."""
    result = run()
    if result.ok and (why := readback.problem(folder, step)):
        raise NotReadBack(why)
    return result


def _report(step: Step, outcome: process.Result | OSError | NotReadBack, secret_values: Mapping[str, str]) -> None:
    shown = mask(command_line(step.argv), secret_values)
    if isinstance(outcome, OSError):
        raise RunError(f"cannot run {shown}: {outcome.strerror}")
    if isinstance(outcome, NotReadBack):
        raise RunError(
            f"{step.artifact} does not read back ({outcome}): the disk may be full; it was removed, nothing else changed",
            [f"command: {shown} (exited 0)"],
        )
    stderr = mask(outcome.stderr_text(), secret_values) or "(nothing on stderr)"
    if step.token and (why := token_failure(stderr, step.token, step.secrets)):  # (the engine's openssl then crashes: exit -11)
        raise RunError(f"{why}: {_made(step)} not made", [f"command: {shown}"])
    raise RunError(
        f"openssl failed making {_made(step)} (exit code {outcome.returncode})",
        [f"command: {shown}", *(f"stderr: {line}" for line in stderr.splitlines()[-12:])],
    )


def _made(step: Step) -> str:
    """What a step was making, for its failure: a batch's certificates (the first few), not its own output."""
    names = step.results
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _concatenate(step: Step, folder: Path) -> process.Result:
    """Run a bundle step (`cat a b > out`) in-process, atomically."""
    try:
        workspace.concatenate(folder, step.inputs, step.artifact)
    except (OSError, UnicodeDecodeError) as exc:
        return process.Result(step.argv, 1, b"", str(exc).encode())
    return process.Result(step.argv, 0, b"", b"")


def _publish(step: Step, folder: Path) -> None:
    """Children run with umask 077; what a step makes gets its mode once complete (public 0644)."""
    if step.mode is not None:
        with contextlib.suppress(FileNotFoundError):  # (os.path, not pathlib: once per step of a fleet)
            os.chmod(os.path.join(folder, step.artifact), step.mode)


def _discard_outputs(step: Step, folder: Path, force: bool = False) -> None:
    """A command that failed or was stopped may have left a partial file: never keep it. A step that
    changes a file in place (the CA database) or replaces one only when it succeeds keeps it, unless
    what it left does not read back (`force`; the earlier file was set aside and comes back)."""
    if force:  # (never for revoke: the database it changes in place is not read back)
        (folder / step.artifact).unlink(missing_ok=True)
    if step.discard_on_failure:
        for name in step.files_written:
            (folder / name).unlink(missing_ok=True)

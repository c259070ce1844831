"""What a build says while it runs: `made X` / `kept X` in plan order however the steps finish, and a
progress bar on a terminal for a large build."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from ..plan.steps import Step

LinePrinter = Callable[[str], None]


class InPlanOrder:
    """Prints `made X` / `kept X` in plan order, however the steps finish."""

    def __init__(self, steps: list[Step], decision: list[bool], folder: Path, say: LinePrinter) -> None:
        self.steps = steps
        self.decision = decision
        self.folder = folder
        self.say = say
        self.finished = [not run for run in decision]
        self.cursor = 0
        self._flush()

    def done(self, i: int) -> None:
        self.finished[i] = True
        self._flush()

    def _flush(self) -> None:
        while self.cursor < len(self.finished) and self.finished[self.cursor]:
            step = self.steps[self.cursor]
            if self.decision[self.cursor]:
                for name in step.products:
                    self.say(f"made {name}")
            elif (self.folder / step.artifact).exists():
                self.say(f"kept {step.artifact}")
            self.cursor += 1


def progress_bar(enabled: bool | None, quiet: bool, total: int) -> object | None:
    enabled = enabled if enabled is not None else (sys.stderr.isatty() and total > 8)
    if not enabled or quiet or total == 0:
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    bar = Progress(
        "openssl", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=Console(stderr=True), transient=True
    )
    task = bar.add_task("build", total=total)
    bar.start()

    class _Bar:
        def advance(self) -> None:
            bar.advance(task)

        def stop(self) -> None:
            bar.stop()

    return _Bar()

"""Progress of the assembly: what `assemble_film` reports, and a rich bar that shows it.

The assembler calls `progress(stage, done, total)` as it goes (`total` in the stage's own
units, usually film frames; 0 when unknown). `RichAssemblyProgress` turns that into one bar
per stage; the moviepy encode reports through `MoviepyProgress`, a proglog logger.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

ProgressCallback = Callable[[str, float, float], None]
"""`progress(stage, done, total)`; `total` is 0 when the stage's size is unknown."""


def no_progress(stage: str, done: float, total: float) -> None:
    """The default: report nothing."""


class RichAssemblyProgress:
    """A context manager whose instances are `ProgressCallback`s drawing rich bars."""

    def __init__(self, console: Console | None = None) -> None:
        self._progress = Progress(
            # markup=False: a stage may name a file, and file names are not markup.
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._tasks: dict[str, TaskID] = {}
        self._started = False

    def __enter__(self) -> RichAssemblyProgress:
        # The bars start with the first stage, so the same context can wrap a render (with
        # its own bars and questions) that comes before assembly.
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._started:
            self._progress.stop()

    def __call__(self, stage: str, done: float, total: float) -> None:
        if not self._started:
            self._started = True
            self._progress.start()
        task = self._tasks.get(stage)
        if task is None:
            task = self._progress.add_task(stage, total=total or None)
            self._tasks[stage] = task
        self._progress.update(task, completed=done, total=total or None)


def moviepy_logger(progress: ProgressCallback, stage: str) -> Any:
    """A proglog logger that forwards moviepy's frame counter to `progress`."""
    from proglog import ProgressBarLogger

    class MoviepyProgress(ProgressBarLogger):  # type: ignore[misc]
        def bars_callback(self, bar: str, attr: str, value: Any, old_value: Any = None) -> None:
            if bar == "frame_index" and attr == "index":
                total = self.bars[bar].get("total") or 0
                progress(stage, float(value) + 1, float(total))

    return MoviepyProgress()

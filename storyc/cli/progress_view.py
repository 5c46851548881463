"""What `storyc render` shows: the cost before paying, a bar per clip, a summary table.

Kept apart from the scheduler so the engine stays free of terminal code. On a terminal each
clip gets a live rich progress bar (queued, in progress with the provider's percentage,
downloading); elsewhere (CI logs, pipes) one plain line per clip as it finishes.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from rich.cells import cell_len, set_cell_size
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from storyc.errors import StorycError
from storyc.plan.schema import Clip, ClipPlan
from storyc.providers.engine import (
    Approval,
    Phase,
    RenderReport,
    RunPlan,
    Upload,
    render_to_dir,
    shot_location,
)
from storyc.terminal import labelled, plain, visible

_PHASE_TEXT: dict[Phase, str] = {
    "queued": "queued",
    "cached": "cached",
    "waiting": "waiting for another run",
    "submitting": "submitting",
    "reconciling": "looking for a lost job",
    "resumed": "resumed",
    "in_progress": "rendering",
    "downloading": "downloading",
    "done": "done",
    "failed": "failed",
}
_FINAL: set[Phase] = {"cached", "done", "failed"}


def clip_name(clip: Clip) -> str:
    """A clip as the writer knows it: its scene and its shots' labels (or numbers),
    `Opening / wide + close-up`, not its content hash."""
    shots = " + ".join(s.label or f"shot {s.index}" for s in clip.shots)
    return f"{clip.scene} / {shots}" if shots else clip.scene


LABEL_CELLS = 32
"""The widest a bar's label gets (in terminal cells), so the bar itself stays visible."""


def _label(clip: Clip) -> str:
    text = visible(f"{clip.index:02d} {clip_name(clip)}")
    if cell_len(text) <= LABEL_CELLS:
        return text  # the bars line up by themselves: they are a table's columns
    return set_cell_size(text, LABEL_CELLS - 1) + "…"


def _seconds(clip: Clip) -> str:
    return f"{clip.render_ms / 1000:g} s"


def show_cost(
    con: Console,
    plan: ClipPlan,
    cached: Sequence[Clip],
    in_flight: Sequence[Clip],
    to_pay: Sequence[Clip],
    cost: float,
    provider: str,
) -> None:
    """The clips a paid run will submit, what it will not pay for, and the estimate."""
    # Cells and titles are `Text`: ids, sizes and names must never be read as markup.
    table = Table(title=plain(f"{provider}: clips to render", "table.title"), title_justify="left")
    for column in ("#", "clip", "model", "size", "length", "est. cost"):
        table.add_column(column, justify="right" if column in ("#", "est. cost") else "left")
    for clip in to_pay:
        table.add_row(
            f"{clip.index:02d}",
            plain(clip.id),
            plain(clip.model),
            plain(clip.size),
            _seconds(clip),
            f"${clip.cost_usd:.2f}",
        )
    con.print(table)
    if cached:
        con.print(f"{len(cached)} clip(s) already in the cache: free.")
    if in_flight:
        con.print(
            f"{len(in_flight)} clip(s) submitted by an earlier run: collected, not paid again."
        )
    con.print(
        f"Estimated cost: [bold]${cost:.2f}[/] for {len(to_pay)} clip(s) "
        f"({sum(c.render_ms for c in to_pay) / 1000:g} s rendered)."
    )


class ClipProgress:
    """A bar per clip; `update` is the scheduler's progress callback."""

    def __init__(self, con: Console, clips: Sequence[Clip]):
        self.con = con
        self.live = con.is_terminal
        self._tasks: dict[str, TaskID] = {}
        self._clips = list(clips)
        self._started = False
        self._progress = Progress(
            # markup=False: the label holds the writer's scene and shot names.
            TextColumn("{task.fields[label]}", markup=False),
            BarColumn(),
            TextColumn("{task.fields[state]:<11}", markup=False),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            console=con,
            transient=False,
            disable=not self.live,
        )

    def __enter__(self) -> ClipProgress:
        # The bars appear with the first update, so that an approval question asked
        # before the run starts is not drawn over.
        for clip in self._clips:
            self._tasks[clip.id] = self._progress.add_task(
                "", total=100, label=_label(clip), state="queued"
            )
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._started:
            self._progress.stop()

    def update(self, clip: Clip, phase: Phase, percent: float | None) -> None:
        task = self._tasks.get(clip.id)
        if task is None:
            return
        if self.live and not self._started:
            self._started = True
            self._progress.start()
        fields: dict[str, object] = {"state": _PHASE_TEXT[phase]}
        if phase in ("cached", "done"):
            fields["completed"] = 100
        elif phase == "downloading":
            fields["completed"] = max(self._completed(task), 95)
        elif percent is not None:
            fields["completed"] = min(max(percent, 0.0), 100.0) * 0.95
        self._progress.update(task, **fields)  # type: ignore[arg-type]
        if not self.live and phase in _FINAL:
            self.con.print(plain(f"clip {clip.index:02d} {clip_name(clip)}: {_PHASE_TEXT[phase]}"))

    def _completed(self, task: TaskID) -> float:
        with contextlib.suppress(KeyError, IndexError):
            return float(self._progress.tasks[task].completed)
        return 0.0


def show_summary(con: Console, report: RenderReport, plan: ClipPlan) -> None:
    """One row per clip (status, file or error), then the totals and every failure in full."""
    rendered = {r.clip.id: r for r in report.rendered}
    failed = {f.clip.id: f for f in report.failures}
    table = Table(title="render summary", title_justify="left")  # cells: `Text` (see above)
    table.add_column("#", justify="right")
    table.add_column("clip", overflow="fold")
    table.add_column("first shot", overflow="fold")
    table.add_column("length", justify="right", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("file or error", overflow="fold")
    for clip in plan.clips:
        if clip.id in rendered:
            done = rendered[clip.id]
            status = "cached" if done.cached else ("resumed" if done.resumed else "rendered")
            where = done.path.name
        else:
            if clip.id in failed and failed[clip.id].uncertain:
                status = plain("uncertain", "yellow")
            else:
                status = plain("failed", "red") if clip.id in failed else "skipped"
            where = failed[clip.id].message if clip.id in failed else ""
        table.add_row(
            f"{clip.index:02d}",
            plain(clip_name(clip)),
            plain(shot_location(clip)),
            _seconds(clip),
            status,
            plain(where),  # the provider's own words
        )
    con.print(table)
    fresh = sum(1 for r in report.rendered if not r.cached)
    line = (
        f"{len(plan.clips)} clip(s): {fresh} rendered, {report.cached} cached, "
        f"{len(report.failures)} failed, in {report.elapsed_s:.1f} s"
    )
    if report.paid:
        line += (
            f"; {report.submitted} job(s) paid for, {report.resumed} collected from earlier runs"
        )
        if report.reconciled:
            line += f", {report.reconciled} found again after a lost answer"
        if report.uncertain:
            line += f"; {len(report.uncertain)} uncertain (not sent again: see below)"
        if report.billed_usd:  # what the provider says it charged (Runway's task cost)
            estimate = sum(c.cost_usd for c in plan.clips if c.id in report.billed_usd)
            line += (
                f"; {report.provider} reports ${sum(report.billed_usd.values()):.2f} for "
                f"{len(report.billed_usd)} clip(s) (estimated ${estimate:.2f})"
            )
    con.print(line + ".", highlight=False)
    if report.rendered:
        con.print(plain(f"clips in {_relative(report.rendered[0].path.parent)}"))
    for failure in report.failures:
        con.print(labelled("error:", "red", failure))


def _relative(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.resolve().relative_to(Path.cwd()))
    return str(path)


def show_uncertain(con: Console, clips: Sequence[Clip], provider: str) -> None:
    """The clips whose create went unanswered before: looked for, not paid for again."""
    con.print(
        plain(
            f"{len(clips)} clip(s) may already be paid for at {provider} (an earlier create "
            "went unanswered): storyc looks for them and does not send them again. "
            "`--resubmit NN` or `--resubmit-uncertain` pays for them again on purpose.",
            "yellow",
        )
    )
    for clip in clips:
        con.print(plain(f"  {clip.index:02d} {clip.id}  {shot_location(clip)}"))


def show_uploads(con: Console, uploads: Sequence[Upload], provider: str) -> None:
    """Every local file the run will send to the provider, before anything is paid."""
    if not uploads:
        con.print(plain(f"No local file will be sent to {provider}."))
        return
    table = Table(title=plain(f"files sent to {provider}"), title_justify="left")
    table.add_column("file", overflow="fold")
    table.add_column("size", justify="right", no_wrap=True)
    table.add_column("clips", overflow="fold")
    for upload in uploads:
        size = f"{upload.size / 1_000_000:.1f} MB" if upload.size >= 0 else "missing"
        clips = " ".join(f"{n:02d}" for n in upload.clips)
        table.add_row(plain(_relative(upload.path)), size, clips)
    con.print(table)


def approval(con: Console, plan: ClipPlan, yes: bool) -> Approval:
    """The approval hook of a paid run on a terminal: the uncertain clips, the cost table,
    every file that will be uploaded, then the question (or `--yes`, which prints the same)."""

    def approve(run: RunPlan) -> None:
        if run.uncertain:
            show_uncertain(con, run.uncertain, run.provider)
        if not run.to_pay:
            return
        show_cost(con, plan, run.cached, run.in_flight, run.to_pay, run.cost, run.provider)
        if run.worst_cost is not None:
            con.print(
                plain(
                    f"With fallbacks: ${run.cost:.2f} .. ${run.worst_cost:.2f} (a clip "
                    f"{run.provider} refuses goes to {', then '.join(run.fallbacks)}).",
                    "bold",
                )
            )
        show_uploads(con, run.uploads, run.provider)
        _consent(con, run.cost, len(run.to_pay), yes)

    return approve


def _consent(con: Console, cost: float, count: int, yes: bool) -> None:
    from rich.prompt import Confirm

    if yes:
        return
    if not (sys.stdin.isatty() and con.is_terminal):
        raise StorycError(
            f"rendering {count} clip(s) costs about ${cost:.2f}; "
            "confirm with --yes when not on a terminal",
            hint="nothing was submitted",
        )
    if not Confirm.ask(f"Submit {count} clip(s) for about ${cost:.2f}?", console=con):
        raise StorycError("render cancelled; nothing was submitted", exit_code=1)


def render_in_terminal(
    plan: ClipPlan,
    out_dir: Path,
    *,
    console: Console | None = None,
    yes: bool = False,
    summary: bool = True,
    **options: Any,
) -> RenderReport:
    """`render_to_dir` with the terminal around it: approval, a bar per clip, the summary.

    `options` are `render_to_dir`'s (provider, jobs, force, max_cost, cache_dir, renderer,
    resubmit, resubmit_uncertain, references)."""
    con = console if console is not None else Console(stderr=True)
    with ClipProgress(con, plan.clips) as bars:
        report = render_to_dir(
            plan, out_dir, approve=approval(con, plan, yes), progress=bars.update, **options
        )
    if summary:
        show_summary(con, report, plan)
    return report

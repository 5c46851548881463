"""Render every clip of a plan: cache first, journal always, `jobs` clips in flight.

`render_plan` is the engine (async, no terminal): for each clip it
1. takes the cached file if there is a whole one (unless `force`);
2. else follows the job the journal recorded for it (a run that was killed), or submits a
   new one and journals its id before waiting for anything;
3. polls the provider (its `retry_after_s` when given, else a growing interval);
4. downloads to a temporary file in the cache folder, probes it, and renames it into place.

A clip that fails is reported with the provider's message and the shot's `file:line`; the
other clips go on. A job the provider still holds (it is paid for) stays active in the
journal whenever we could not collect it (network down, download cut short), so the next
run picks it up instead of paying again. A refused or missing key stops the whole run.

`render_to_dir` is what `storyc render` and `storyc build` call: it adds the cost and consent
step for paid providers, a rich progress bar per clip, `plan.json` and `clips/NN-<id>.mp4`
in the output folder, and a summary table.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from storyc.clipplan import Clip, ClipPlan
from storyc.errors import StorycError
from storyc.probe import MediaInfo, ProbeError
from storyc.render.base import JobStatus, Renderer, Submitted
from storyc.render.cache import ClipCache, cache_dir_for
from storyc.render.errors import (
    RUN_WIDE,
    DownloadIncomplete,
    JobRejected,
    known_secrets,
    redact,
)
from storyc.render.journal import JobRecord, Journal

if TYPE_CHECKING:
    from rich.console import Console

Phase = Literal[
    "queued", "cached", "submitting", "resumed", "in_progress", "downloading", "done", "failed"
]
ProgressCallback = Callable[[Clip, Phase, float | None], None]
"""Called on the event loop's thread as a clip moves on: (clip, phase, percent or None)."""

POLL_MAX_S = 30.0
POLL_GROWTH = 1.5
DOWNLOAD_ATTEMPTS = 2
"""Whole-file fetches per clip (the renderers already retry within one)."""


@dataclass(frozen=True)
class RenderedClip:
    clip: Clip
    path: Path
    """The file: in the cache from `render_plan`, in `out_dir/clips` from `render_to_dir`."""
    cached: bool
    """True when nothing was rendered for it in this run (the cache had it)."""
    resumed: bool = False
    """True when it came from a job an earlier, interrupted run had submitted."""
    info: MediaInfo | None = None


@dataclass(frozen=True)
class ClipFailure:
    clip: Clip
    provider: str
    message: str
    """The provider's own words (redacted), or ours when there was no provider answer."""
    location: str
    """`file:line` of the clip's first shot."""
    job_id: str | None = None
    retry_collects: bool = False
    """The job is still recorded as active: running again collects it without paying."""

    def __str__(self) -> str:
        text = f"{self.location}: clip {self.clip.index:02d} ({self.clip.id}): {self.message}"
        if self.retry_collects:
            text += " (the job is kept: run again to collect it without paying twice)"
        return text


@dataclass
class RenderReport:
    rendered: list[RenderedClip] = field(default_factory=list)
    failures: list[ClipFailure] = field(default_factory=list)
    submitted: int = 0
    """Jobs submitted (paid for) in this run."""
    resumed: int = 0
    elapsed_s: float = 0.0
    provider: str = ""
    paid: bool = False

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def cached(self) -> int:
        return sum(1 for r in self.rendered if r.cached)


def shot_location(clip: Clip) -> str:
    """`file:line` of the clip's first shot, relative to the working folder when inside it."""
    if not clip.shots:
        return f"clip {clip.index:02d}"
    shot = clip.shots[0]
    path = Path(shot.file)
    with contextlib.suppress(ValueError):
        path = path.resolve().relative_to(Path.cwd())
    return f"{path}:{shot.line}"


class _ClipFailed(Exception):
    def __init__(self, failure: ClipFailure):
        super().__init__(failure.message)
        self.failure = failure


class _Engine:
    """One `render_plan` call: shared state for the per-clip tasks."""

    def __init__(
        self,
        renderer: Renderer,
        cache: ClipCache,
        journal: Journal,
        force: bool,
        progress: ProgressCallback | None,
    ):
        self.renderer = renderer
        self.cache = cache
        self.journal = journal
        self.force = force
        self.progress = progress
        self.report = RenderReport(provider=renderer.name, paid=bool(renderer.paid))
        self.poll_min_s = float(getattr(renderer, "poll_interval_s", 1.0) or 1.0)

    def emit(self, clip: Clip, phase: Phase, percent: float | None = None) -> None:
        if self.progress is not None:
            self.progress(clip, phase, percent)

    def fail(
        self,
        clip: Clip,
        message: str,
        job: JobRecord | None = None,
        *,
        keep_job: bool = False,
    ) -> _ClipFailed:
        message = redact(message, known_secrets())
        if job is not None and not keep_job:
            self.journal.set_status(job.row, "failed", message)
        failure = ClipFailure(
            clip=clip,
            provider=self.renderer.name,
            message=message,
            location=shot_location(clip),
            job_id=job.job_id if job else None,
            retry_collects=job is not None and keep_job,
        )
        return _ClipFailed(failure)

    async def render(self, clip: Clip) -> RenderedClip:
        if not self.force:
            hit = await asyncio.to_thread(self.cache.lookup, clip.id)
            if hit is not None:
                self.emit(clip, "cached", 100.0)
                return RenderedClip(clip=clip, path=hit, cached=True)

        record = self.journal.resumable(clip.id, self.renderer.name)
        if record is not None and record.status == "done":
            # The cache lost the file (or --force): the provider may still hold the video.
            record = None if self.force else await self._recollect(clip, record)
            if record is not None:
                return await self._collect(clip, record, resumed=True)

        resumed = record is not None
        if record is None:
            record = await self._submit(clip)
        else:
            self.report.resumed += 1
            self.emit(clip, "resumed")
        await self._follow(clip, record)
        return await self._collect(clip, record, resumed=resumed)

    async def _submit(self, clip: Clip) -> JobRecord:
        self.emit(clip, "submitting")
        try:
            job = await self.renderer.submit(clip)
        except RUN_WIDE:
            raise
        except StorycError as exc:
            raise self.fail(clip, _provider_text(exc)) from exc
        # The job exists and is (or will be) paid for: journal it before anything else.
        record = self.journal.record_submit(clip.id, self.renderer.name, job)
        self.report.submitted += 1
        return record

    async def _follow(self, clip: Clip, record: JobRecord) -> None:
        job = record.submitted()
        wait_s = self.poll_min_s
        seen_progress = record.status != "submitted"
        while True:
            try:
                status = await self.renderer.status(clip, job)
            except RUN_WIDE:
                raise
            except JobRejected as exc:
                raise self.fail(clip, _provider_text(exc), record) from exc
            except StorycError as exc:
                raise self.fail(clip, _provider_text(exc), record, keep_job=True) from exc
            if status.state == "completed":
                return
            if status.state == "failed":
                message = status.error or "the provider reported the job as failed"
                raise self.fail(clip, message, record)
            if not seen_progress and status.state == "in_progress":
                self.journal.set_status(record.row, "in_progress")
                seen_progress = True
            self.emit(
                clip, "in_progress" if status.state == "in_progress" else "queued", status.progress
            )
            await asyncio.sleep(_next_wait(status, wait_s))
            wait_s = min(POLL_MAX_S, wait_s * POLL_GROWTH)

    async def _recollect(self, clip: Clip, record: JobRecord) -> JobRecord | None:
        """A `done` job whose file is gone: check that the provider still has it."""
        try:
            status = await self.renderer.status(clip, record.submitted())
        except RUN_WIDE:
            raise
        except StorycError:
            status = JobStatus(state="failed")
        if status.state == "completed":
            self.report.resumed += 1
            self.emit(clip, "resumed")
            return record
        self.journal.set_status(record.row, "expired")
        return None

    async def _collect(self, clip: Clip, record: JobRecord, *, resumed: bool) -> RenderedClip:
        self.journal.set_status(record.row, "downloading")
        self.emit(clip, "downloading")
        job = record.submitted()
        last_error = "no attempt"
        for _ in range(DOWNLOAD_ATTEMPTS):
            temp = await asyncio.to_thread(self.cache.new_temp, clip.id)
            try:
                await self.renderer.download(clip, job, temp)
                path, info = await asyncio.to_thread(self.cache.store, clip.id, temp)
            except RUN_WIDE:
                raise
            except JobRejected as exc:
                raise self.fail(clip, _provider_text(exc), record) from exc
            except (DownloadIncomplete, ProbeError) as exc:
                last_error = _provider_text(exc)
                continue
            except StorycError as exc:
                raise self.fail(clip, _provider_text(exc), record, keep_job=True) from exc
            finally:
                self.cache.discard(temp)
            self.journal.set_status(record.row, "done")
            self.emit(clip, "done", 100.0)
            return RenderedClip(clip=clip, path=path, cached=False, resumed=resumed, info=info)
        raise self.fail(clip, f"download incomplete: {last_error}", record, keep_job=True)


def _next_wait(status: JobStatus, backoff_s: float) -> float:
    if status.retry_after_s is not None and status.retry_after_s >= 0:
        return status.retry_after_s
    return backoff_s


def _provider_text(exc: StorycError) -> str:
    if isinstance(exc, JobRejected):
        return exc.provider_message
    return exc.message


async def render_plan(
    plan: ClipPlan,
    renderer: Renderer,
    *,
    cache: ClipCache,
    journal: Journal,
    jobs: int = 4,
    force: bool = False,
    progress: ProgressCallback | None = None,
) -> RenderReport:
    """Render every clip of `plan` with `renderer` into `cache`; never raises for one clip.

    Returns the report (files in the cache, in plan order; failures with file:line).
    Raises `MissingKey`/`KeyRefused` (the run cannot go on) after the other clips in flight
    were cancelled; their jobs stay in the journal for the next run.
    """
    if jobs < 1:
        raise StorycError(f"--jobs must be at least 1, not {jobs}")
    cache.ensure()
    engine = _Engine(renderer, cache, journal, force, progress)
    gate = asyncio.Semaphore(jobs)
    started = time.perf_counter()

    async def one(clip: Clip) -> RenderedClip | ClipFailure:
        engine.emit(clip, "queued")
        async with gate:
            try:
                return await engine.render(clip)
            except _ClipFailed as failed:
                engine.emit(clip, "failed")
                return failed.failure
            except RUN_WIDE:
                raise
            except StorycError as exc:
                engine.emit(clip, "failed")
                return engine.fail(clip, exc.message).failure
            except Exception as exc:  # one clip's bug must not sink the others
                engine.emit(clip, "failed")
                # Any job it had stays active in the journal: the next run collects it.
                text = f"unexpected error ({type(exc).__name__}): {exc}"
                return engine.fail(clip, text).failure

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(clip)) for clip in plan.clips]
    except* RUN_WIDE as group_error:
        raise group_error.exceptions[0] from None
    results = [task.result() for task in tasks]
    report = engine.report
    report.rendered = [r for r in results if isinstance(r, RenderedClip)]
    report.failures = [r for r in results if isinstance(r, ClipFailure)]
    report.elapsed_s = time.perf_counter() - started
    return report


# --- the command-line front: cost, consent, progress, output folder ----------------------


def render_to_dir(
    plan: ClipPlan,
    out_dir: Path,
    *,
    provider: str | None = None,
    jobs: int = 4,
    force: bool = False,
    yes: bool = False,
    max_cost: float | None = None,
    console: Console | None = None,
    cache_dir: Path | None = None,
    renderer: Renderer | None = None,
) -> RenderReport:
    """Render `plan` and lay the clips out in `out_dir` (`plan.json`, `clips/NN-<id>.mp4`).

    `provider` must be the one the plan was compiled for (recompile to switch: the clip ids
    and requests depend on it). `cache_dir` defaults to `.storyc/cache` beside the story or
    `$STORYC_CACHE_DIR`; `renderer` replaces the one named by the plan (tests, benchmarks)
    and is closed at the end like one made here.
    Raises `StorycError` for a run that must not start (over budget, no consent, no key).
    """
    from rich.console import Console

    from storyc.render import progress_view
    from storyc.render.registry import create_renderer

    con = console if console is not None else Console(stderr=True)
    name = provider or plan.story.provider
    wrong = [c for c in plan.clips if c.provider != name]
    if wrong:
        raise StorycError(
            f"the plan was compiled for `{wrong[0].provider}`, not `{name}`",
            hint=f"compile again with `--provider {name}`",
        )
    out_dir = Path(out_dir)
    cache = ClipCache(cache_dir) if cache_dir is not None else ClipCache(_story_cache(plan))
    cache.ensure()
    cache.sweep_partials()
    _write_atomic(out_dir / "plan.json", plan.to_json())

    with Journal.in_folder(cache.root) as journal:
        cached = [] if force else [c for c in plan.clips if cache.lookup(c.id)]
        cached_ids = {c.id for c in cached}
        todo = [c for c in plan.clips if c.id not in cached_ids]
        in_flight = [c for c in todo if _in_flight(journal, c, name, force)]
        flying_ids = {c.id for c in in_flight}
        to_pay = [c for c in todo if c.id not in flying_ids]
        cost = sum(c.cost_usd for c in to_pay)
        if max_cost is not None and cost > max_cost + 1e-9:
            raise StorycError(
                f"this render would cost about ${cost:.2f}, over --max-cost ${max_cost:.2f}; "
                "nothing was submitted",
                hint="raise --max-cost, shorten the story, or render with `--provider preview`",
            )
        active = renderer or create_renderer(name, cache_dir=cache.root)
        try:
            if active.paid and to_pay:
                progress_view.show_cost(con, plan, cached, in_flight, to_pay, cost, name)
                _consent(con, cost, len(to_pay), yes)
        except BaseException:
            asyncio.run(active.aclose())
            raise
        with progress_view.ClipProgress(con, plan.clips) as bars:
            report = asyncio.run(_run(plan, active, cache, journal, jobs, force, bars.update))
    report.rendered = [_place(r, out_dir / "clips") for r in report.rendered]
    _prune_stale(out_dir / "clips", plan)
    progress_view.show_summary(con, report, plan)
    return report


async def _run(
    plan: ClipPlan,
    renderer: Renderer,
    cache: ClipCache,
    journal: Journal,
    jobs: int,
    force: bool,
    progress: ProgressCallback,
) -> RenderReport:
    try:
        return await render_plan(
            plan,
            renderer,
            cache=cache,
            journal=journal,
            jobs=jobs,
            force=force,
            progress=progress,
        )
    finally:
        await renderer.aclose()


def _story_cache(plan: ClipPlan) -> Path:
    return cache_dir_for(Path(plan.story.source))


def _in_flight(journal: Journal, clip: Clip, provider: str, force: bool) -> bool:
    """Whether the clip has a job already paid for that this run will collect."""
    record = journal.resumable(clip.id, provider)
    return record is not None and (record.active or not force)


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


_CLIP_FILE = re.compile(r"^\d{2,}-[A-Za-z0-9_-]+\.mp4$")


def _place(rendered: RenderedClip, clips_dir: Path) -> RenderedClip:
    """Link (or copy) a cached clip to `clips_dir/NN-<id>.mp4`, atomically."""
    clips_dir.mkdir(parents=True, exist_ok=True)
    target = clips_dir / f"{rendered.clip.stem}.mp4"
    temp = clips_dir / f".{rendered.clip.stem}.{os.getpid()}.tmp"
    with contextlib.suppress(FileNotFoundError):
        temp.unlink()
    try:
        os.link(rendered.path, temp)
    except OSError:
        import shutil

        shutil.copyfile(rendered.path, temp)
    os.replace(temp, target)
    return RenderedClip(
        clip=rendered.clip,
        path=target,
        cached=rendered.cached,
        resumed=rendered.resumed,
        info=rendered.info,
    )


def _prune_stale(clips_dir: Path, plan: ClipPlan) -> None:
    """Remove clip files of earlier plans so `clips/` mirrors this plan (the cache keeps them)."""
    if not clips_dir.is_dir():
        return
    keep = {f"{c.stem}.mp4" for c in plan.clips}
    for path in clips_dir.iterdir():
        if _CLIP_FILE.match(path.name) and path.name not in keep:
            with contextlib.suppress(OSError):
                path.unlink()


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)


__all__: Sequence[str] = (
    "ClipFailure",
    "Phase",
    "ProgressCallback",
    "RenderReport",
    "RenderedClip",
    "Submitted",
    "render_plan",
    "render_to_dir",
)

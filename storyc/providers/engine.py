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

`render_to_dir` is what `storyc render`, `build` and `board` run (through the terminal view
in `storyc.cli.progress_view`): the run plan (cached, in flight, uncertain, to pay, files to
upload) handed to an approval hook before anything is paid, `plan.json` and
`clips/NN-<id>.mp4` in the output folder. No terminal code lives here.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from storyc.errors import StorycError
from storyc.fsutil import write_atomic
from storyc.plan.schema import Clip, ClipPlan
from storyc.probe import MediaInfo, ProbeError
from storyc.providers.base import JobStatus, Renderer, Submitted
from storyc.providers.cache import ClipCache, cache_dir_for
from storyc.providers.errors import (
    RUN_WIDE,
    CreateUncertain,
    DownloadIncomplete,
    JobRejected,
    ProviderUnavailable,
    known_secrets,
    redact,
)
from storyc.providers.journal import (
    HELD,
    LEASE_S,
    Claimed,
    JobRecord,
    Journal,
    Uncertain,
    Wait,
    owner_alive,
)

if TYPE_CHECKING:
    from storyc.sandbox import ReferencePolicy

Phase = Literal[
    "queued",
    "cached",
    "waiting",
    "submitting",
    "reconciling",
    "resumed",
    "in_progress",
    "downloading",
    "done",
    "failed",
]
ProgressCallback = Callable[[Clip, Phase, float | None], None]
"""Called on the event loop's thread as a clip moves on: (clip, phase, percent or None)."""

POLL_MAX_S = 30.0
POLL_GROWTH = 1.5
DOWNLOAD_ATTEMPTS = 2
"""Whole-file fetches per clip (the renderers already retry within one)."""
CLAIM_WAIT_S = 0.5
"""How often a clip another process has claimed is looked at again."""
BREAKER_LIMIT = 3
"""Clips in a row that found the provider unavailable before the run stops trying."""


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
    uncertain: bool = False
    """A create was sent and never answered: the job may exist (see `--resubmit`)."""
    rejected: bool = False
    """The provider refused the clip (`JobRejected`, or its job failed there): another
    provider may take it (see `storyc.providers.fallback`). Never set with `uncertain`."""

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
    reconciled: int = 0
    """Jobs whose create answer was lost, found again at the provider."""
    elapsed_s: float = 0.0
    provider: str = ""
    paid: bool = False
    billed_usd: dict[str, float] = field(default_factory=dict)
    """By clip id: what the provider reported a clip rendered in this run cost, where it
    reports it (`JobStatus.billed_usd`); the plan's `cost_usd` is only the estimate."""

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def cached(self) -> int:
        return sum(1 for r in self.rendered if r.cached)

    @property
    def uncertain(self) -> list[ClipFailure]:
        return [f for f in self.failures if f.uncertain]

    @property
    def next_step(self) -> str:
        """What the writer can do about the failures (the hint under the error)."""
        if not self.uncertain:
            return "run the same command again to retry only what is missing"
        numbers = " ".join(f"{f.clip.index:02d}" for f in self.uncertain)
        return (
            f"clip(s) {numbers} may already be paid for: check the provider's dashboard, "
            "then add `--resubmit NN` (or `--resubmit-uncertain`) to pay for them again"
        )


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
    def __init__(self, failure: ClipFailure, *, unavailable: bool = False):
        super().__init__(failure.message)
        self.failure = failure
        self.unavailable = unavailable
        """The provider kept failing (or a create went unanswered): counts for the breaker."""


class _Unanswered(Exception):
    """This run's create went unanswered; `record` is its row, now `uncertain`."""

    def __init__(self, record: JobRecord):
        super().__init__(record.error or "unanswered")
        self.record = record


class _Breaker:
    """Stops a run whose provider keeps failing instead of trying every clip in turn.

    After `limit` clips in a row failed because the provider was unavailable (or left a
    create unanswered, which may be paid), the clips not yet started are not tried.
    """

    def __init__(self, limit: int = BREAKER_LIMIT):
        self.limit = limit
        self.in_a_row = 0
        self.reason: str | None = None

    @property
    def open(self) -> bool:
        return self.reason is not None

    def failure(self, message: str) -> None:
        self.in_a_row += 1
        if self.in_a_row >= self.limit and self.reason is None:
            self.reason = message

    def success(self) -> None:
        self.in_a_row = 0


class _Slot:
    """One clip's place among the `--jobs` clips in flight.

    Taken before the provider is asked for anything and given back as soon as the provider
    has finished the clip's job (`release`): storyc's own download then runs outside it, so
    the next clip's job starts while the last one's file is still arriving. Giving it back
    twice is harmless (the `async with` that took it gives it back at the end).
    """

    def __init__(self, gate: asyncio.Semaphore):
        self.gate = gate
        self.held = False

    async def __aenter__(self) -> _Slot:
        await self.gate.acquire()
        self.held = True
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release()

    def release(self) -> None:
        if self.held:
            self.held = False
            self.gate.release()


def _works_while_downloading(renderer: Renderer) -> bool:
    """Whether the renderer does its work in `download` (the local preview draws and encodes
    the clip there): such a download keeps its `--jobs` slot. A renderer may say so with a
    `renders_locally` attribute; by default a free renderer is taken to be local."""
    return bool(getattr(renderer, "renders_locally", not renderer.paid))


class _Engine:
    """One `render_plan` call: shared state for the per-clip tasks."""

    def __init__(
        self,
        renderer: Renderer,
        cache: ClipCache,
        journal: Journal,
        force: bool,
        progress: ProgressCallback | None,
        resubmit: Callable[[Clip], bool],
    ):
        self.renderer = renderer
        self.cache = cache
        self.journal = journal
        self.force = force
        self.progress = progress
        self.resubmit = resubmit
        self.report = RenderReport(provider=renderer.name, paid=bool(renderer.paid))
        self.poll_min_s = float(getattr(renderer, "poll_interval_s", 1.0) or 1.0)
        self.breaker = _Breaker()
        self.keep_slot_to_download = _works_while_downloading(renderer)
        self.fetches: asyncio.Semaphore | None = None
        """Downloads running outside their slots (at most `jobs` at once); set by render_plan."""

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
        cause: BaseException | None = None,
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
            rejected=isinstance(cause, JobRejected),
        )
        unavailable = isinstance(cause, ProviderUnavailable | CreateUncertain)
        return _ClipFailed(failure, unavailable=unavailable)

    def uncertain(self, clip: Clip, record: JobRecord, why: str) -> _ClipFailed:
        """The clip's create may have been paid and its job was not found: say so, stop."""
        provider = self.renderer.name
        sent = record.sent_at or record.submitted_at
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(sent))
        message = redact(
            f"the request that creates this clip's job may have reached {provider} ({why}); "
            f"{'no matching job was found at ' + provider if self.renderer.reconciles else provider + ' offers no way to look it up'}"
            f", and it was not sent again, so it is not paid twice. It may have cost about "
            f"${clip.cost_usd:.2f}: look for a job created around {when} in {provider}'s "
            f"dashboard; if there is none, run again with `--resubmit {clip.index:02d}` "
            "(or `--resubmit-uncertain`) to pay for it on purpose",
            known_secrets(),
        )
        failure = ClipFailure(
            clip=clip,
            provider=provider,
            message=message,
            location=shot_location(clip),
            uncertain=True,
        )
        return _ClipFailed(failure, unavailable=True)

    async def render(self, clip: Clip, slot: _Slot | None = None) -> RenderedClip:
        """Cache, then the journal's decision: submit, follow, wait, or reconcile.

        `slot` is the clip's `--jobs` place, given back once the provider has finished."""
        while True:
            if not self.force:
                hit = await asyncio.to_thread(self.cache.lookup, clip.id)
                if hit is not None:
                    self.emit(clip, "cached", 100.0)
                    return RenderedClip(clip=clip, path=hit, cached=True)
            decision = self.journal.claim(
                clip.id, self.renderer.name, force=self.force, resubmit=self.resubmit(clip)
            )
            if isinstance(decision, Claimed):
                try:
                    record = await self._submit(clip, decision.record)
                except _Unanswered as lost:
                    # Look for the job now: a gateway's 504 often hides an accepted create.
                    record = await self._reconcile(clip, lost.record)
                await self._follow(clip, record)
                return await self._collect(clip, record, resumed=False, slot=slot)
            if isinstance(decision, Wait):
                # Another storyc on this cache is submitting the clip: its job (or its
                # file in the cache) is ours too, once it exists.
                self.emit(clip, "waiting")
                await asyncio.sleep(CLAIM_WAIT_S)
                continue
            if isinstance(decision, Uncertain):
                found = await self._reconcile(clip, decision.record)
                await self._follow(clip, found)
                return await self._collect(clip, found, resumed=True, slot=slot)
            record = decision.record
            if record.status == "done":
                # The cache lost the file: the provider may still hold the video.
                if await self._recollect(clip, record) is None:
                    continue  # expired: the next claim submits anew
                return await self._collect(clip, record, resumed=True, slot=slot)
            self.report.resumed += 1
            self.emit(clip, "resumed")
            await self._follow(clip, record)
            return await self._collect(clip, record, resumed=True, slot=slot)

    async def _submit(self, clip: Clip, claim: JobRecord) -> JobRecord:
        """Submit under a claim: the journal knows when the request leaves and how it ended."""
        self.emit(clip, "submitting")
        sent = False

        def sending() -> None:
            nonlocal sent
            sent = True
            self.journal.sending(claim.row)

        try:
            job = await self.renderer.submit(clip, sending)
        except CreateUncertain as exc:
            raise _Unanswered(self.journal.mark_uncertain(claim.row, exc.detail)) from exc
        except StorycError as exc:
            # The provider answered that it did not take the job, or it never left.
            self.journal.release(claim.row, _provider_text(exc))
            if isinstance(exc, RUN_WIDE):
                raise
            raise self.fail(clip, _provider_text(exc), cause=exc) from exc
        except BaseException as exc:
            # Cancelled (Ctrl-C, another clip's run-wide failure) or a bug: once the
            # request has left, only the provider knows whether the job exists.
            if sent:
                self.journal.mark_uncertain(claim.row, f"interrupted ({type(exc).__name__})")
            else:
                self.journal.release(claim.row, f"interrupted ({type(exc).__name__})")
            raise
        # The job exists and is (or will be) paid for: journal it before anything else.
        record = self.journal.attach(claim.row, job)
        self.report.submitted += 1
        return record

    async def _reconcile(self, clip: Clip, record: JobRecord) -> JobRecord:
        """Find the job an unanswered create made; without it, fail the clip as uncertain."""
        why = record.error or "its answer never came"
        self.emit(clip, "reconciling")
        try:
            job = await self.renderer.find(
                clip,
                record.sent_at or record.submitted_at,
                self.journal.known_job_ids(self.renderer.name),
            )
        except RUN_WIDE:
            raise
        except StorycError as exc:
            looked = f"{why}; looking for it failed: {exc.message}"
            raise self.uncertain(clip, record, looked) from exc
        if job is None:
            raise self.uncertain(clip, record, why)
        self.report.reconciled += 1
        return self.journal.attach(record.row, job)

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
                raise self.fail(clip, _provider_text(exc), record, cause=exc) from exc
            except StorycError as exc:
                raise self.fail(
                    clip, _provider_text(exc), record, keep_job=True, cause=exc
                ) from exc
            if status.state == "completed":
                if status.billed_usd is not None:
                    self.report.billed_usd[clip.id] = status.billed_usd
                return
            if status.state == "failed":
                message = status.error or "the provider reported the job as failed"
                refused = JobRejected(self.renderer.name, message)
                raise self.fail(clip, message, record, cause=refused)
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

    async def _collect(
        self, clip: Clip, record: JobRecord, *, resumed: bool, slot: _Slot | None = None
    ) -> RenderedClip:
        if slot is None or self.keep_slot_to_download or self.fetches is None:
            return await self._download(clip, record, resumed=resumed)
        slot.release()  # the provider is done with it: the next clip may start
        async with self.fetches:
            return await self._download(clip, record, resumed=resumed)

    async def _download(self, clip: Clip, record: JobRecord, *, resumed: bool) -> RenderedClip:
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
                raise self.fail(clip, _provider_text(exc), record, cause=exc) from exc
            except (DownloadIncomplete, ProbeError) as exc:
                last_error = _provider_text(exc)
                continue
            except StorycError as exc:
                raise self.fail(
                    clip, _provider_text(exc), record, keep_job=True, cause=exc
                ) from exc
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


def resubmit_matcher(
    wanted: Sequence[str] = (), *, all_uncertain: bool = False
) -> Callable[[Clip], bool]:
    """Which clips the writer asked to pay for again: by number (`3`, `03`), stem or id."""
    names = {w.strip().lower() for w in wanted if w.strip()}

    def matches(clip: Clip) -> bool:
        if all_uncertain:
            return True
        keys = {clip.id.lower(), clip.stem.lower(), f"{clip.index:02d}", str(clip.index)}
        return bool(names & keys)

    return matches


def unknown_resubmits(plan: ClipPlan, wanted: Sequence[str]) -> list[str]:
    """The `--resubmit` values that name no clip of the plan (a typo must not pass silently)."""
    match = {w: resubmit_matcher([w]) for w in wanted}
    return [w for w, m in match.items() if not any(m(c) for c in plan.clips)]


async def render_plan(
    plan: ClipPlan,
    renderer: Renderer,
    *,
    cache: ClipCache,
    journal: Journal,
    jobs: int = 4,
    force: bool = False,
    progress: ProgressCallback | None = None,
    resubmit: Callable[[Clip], bool] | None = None,
) -> RenderReport:
    """Render every clip of `plan` with `renderer` into `cache`; never raises for one clip.

    Returns the report (files in the cache, in plan order; failures with file:line).
    Raises `MissingKey`/`KeyRefused` (the run cannot go on) after the other clips in flight
    were cancelled; their jobs and claims stay in the journal for the next run.
    `resubmit` says which uncertain clips the writer chose to pay for again.
    """
    if jobs < 1:
        raise StorycError(f"--jobs must be at least 1, not {jobs}")
    cache.ensure()
    engine = _Engine(renderer, cache, journal, force, progress, resubmit or resubmit_matcher())
    # `jobs` bounds the clips the provider works on at once: a clip holds its slot from the
    # cache lookup to the provider's "completed"; downloads then run outside the slots (at
    # most `jobs` of them too), except for a renderer that works while it downloads.
    gate = asyncio.Semaphore(jobs)
    engine.fetches = asyncio.Semaphore(jobs)
    started = time.perf_counter()

    async def one(clip: Clip) -> RenderedClip | ClipFailure:
        engine.emit(clip, "queued")
        async with _Slot(gate) as slot:
            if engine.breaker.open:
                engine.emit(clip, "failed")
                text = f"not tried: {renderer.name} kept failing ({engine.breaker.reason})"
                return engine.fail(clip, text).failure
            try:
                rendered = await engine.render(clip, slot)
            except _ClipFailed as failed:
                engine.emit(clip, "failed")
                if failed.unavailable:
                    engine.breaker.failure(failed.failure.message)
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
            engine.breaker.success()
            return rendered

    async def renew_claims() -> None:
        while True:
            await asyncio.sleep(LEASE_S / 3)
            journal.renew()

    renewer = asyncio.create_task(renew_claims())
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(clip)) for clip in plan.clips]
    except* RUN_WIDE as group_error:
        raise group_error.exceptions[0] from None
    finally:
        renewer.cancel()
    results = [task.result() for task in tasks]
    report = engine.report
    report.rendered = [r for r in results if isinstance(r, RenderedClip)]
    report.failures = [r for r in results if isinstance(r, ClipFailure)]
    report.elapsed_s = time.perf_counter() - started
    return report


# --- the command-line front: cost, consent, progress, output folder ----------------------


@dataclass(frozen=True)
class RunPlan:
    """What a run is about to do, for the writer to approve before anything is paid."""

    provider: str
    paid: bool
    cached: list[Clip]
    in_flight: list[Clip]
    """Clips with a job already paid for (or claimed by a live run): collected, not paid."""
    uncertain: list[Clip]
    """Clips whose earlier create went unanswered: looked for, not paid again."""
    to_pay: list[Clip]
    cost: float
    uploads: list[Upload]
    """Every local file the clips to pay for send to the provider."""
    fallbacks: tuple[str, ...] = ()
    """The providers that take the clips this one refuses, in order (`provider: a, b`)."""
    worst_cost: float | None = None
    """With fallbacks: the most the run may cost (every clip to pay refused and rendered
    again by each fallback); `cost` is the least."""


Approval = Callable[[RunPlan], None]
"""Shown a paid run before anything is paid; raises `StorycError` to stop it."""


def render_to_dir(
    plan: ClipPlan,
    out_dir: Path,
    *,
    provider: str | None = None,
    jobs: int = 4,
    force: bool = False,
    max_cost: float | None = None,
    approve: Approval | None = None,
    progress: ProgressCallback | None = None,
    cache_dir: Path | None = None,
    renderer: Renderer | None = None,
    resubmit: Sequence[str] = (),
    resubmit_uncertain: bool = False,
    references: ReferencePolicy | None = None,
) -> RenderReport:
    """Render `plan` and lay the clips out in `out_dir` (`plan.json`, `clips/NN-<id>.mp4`).

    No terminal here: `approve` sees the run plan of a paid run (cost, clips, files to
    upload) before anything is paid and may refuse it; a paid run without `approve` is
    refused. `progress` follows every clip (see `ProgressCallback`).

    `references` is where the files the clips send may live (the compilation's policy,
    with the user's `--allow-path`); by default the story's project folder and the user's
    config. Every file is checked against it before approval and again as it is read.

    A clip whose create went unanswered in an earlier run (uncertain: it may be paid) is
    looked for, never sent again, unless `resubmit` names it (number, stem or id) or
    `resubmit_uncertain` is set: then it is paid for again, on purpose.

    `provider` must be the one the plan was compiled for (recompile to switch: the clip ids
    and requests depend on it). `cache_dir` defaults to `.storyc/cache` beside the story or
    `$STORYC_CACHE_DIR`; `renderer` replaces the one named by the plan (tests, benchmarks)
    and is closed at the end like one made here.
    Raises `StorycError` for a run that must not start (over budget, not approved, no key).
    """
    from storyc.providers.registry import create_renderer

    name = provider or plan.story.provider
    wrong = [c for c in plan.clips if c.provider != name]
    if wrong:
        raise StorycError(
            f"the plan was compiled for `{wrong[0].provider}`, not `{name}`",
            hint=f"compile again with `--provider {name}`",
        )
    unknown = unknown_resubmits(plan, resubmit)
    if unknown:
        raise StorycError(
            f"--resubmit {unknown[0]} names no clip of this plan",
            hint="give the clip's number as `storyc plan` shows it (e.g. 03), or its id",
        )
    wants_again = resubmit_matcher(resubmit, all_uncertain=resubmit_uncertain)
    if references is None:
        from storyc.sandbox import policy_for

        references = policy_for(Path(plan.story.source))
    out_dir = Path(out_dir)
    cache = clip_cache(name, cache_dir if cache_dir is not None else _story_cache(plan))
    cache.ensure()
    cache.sweep_partials()
    out_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(out_dir / "plan.json", plan.to_json())

    with Journal.in_folder(cache.root) as journal:
        run = make_run_plan(plan, name, cache, journal, force, wants_again)
        if max_cost is not None and run.cost > max_cost + 1e-9:
            raise StorycError(
                f"this render would cost about ${run.cost:.2f}, over --max-cost "
                f"${max_cost:.2f}; nothing was submitted",
                hint="raise --max-cost, shorten the story, or render with `--provider preview`",
            )
        refuse_unsafe_uploads(run.uploads, references, name)
        report = _from_cache(plan, run, cache, progress) if renderer is None else None
        if report is None:
            active = renderer or create_renderer(name, cache_dir=cache.root, references=references)
            try:
                if active.paid and (run.to_pay or run.uncertain):
                    if approve is None:
                        raise StorycError(
                            f"rendering {len(run.to_pay)} clip(s) on {name} costs about "
                            f"${run.cost:.2f} and nobody approved it; nothing was submitted"
                        )
                    approve(run)
            except BaseException:
                asyncio.run(active.aclose())
                raise
            report = asyncio.run(
                _run(plan, active, cache, journal, jobs, force, progress, wants_again)
            )
    report.rendered = [place_clip(r, out_dir / "clips") for r in report.rendered]
    prune_stale_clips(out_dir / "clips", plan)
    return report


def _from_cache(
    plan: ClipPlan, run: RunPlan, cache: ClipCache, progress: ProgressCallback | None
) -> RenderReport | None:
    """Every clip from the cache, without creating the renderer (no HTTP client, no key
    read: a cached film needs neither); None when any clip needs the provider after all."""
    if run.to_pay or run.in_flight or run.uncertain or len(run.cached) != len(plan.clips):
        return None
    started = time.perf_counter()
    hits = [cache.lookup(clip.id) for clip in plan.clips]  # again: the cache may have moved
    if any(hit is None for hit in hits):
        return None
    report = RenderReport(provider=run.provider, paid=run.paid)
    for clip, hit in zip(plan.clips, hits, strict=True):
        assert hit is not None
        if progress is not None:  # the phases the engine reports for a cached clip
            progress(clip, "queued", None)
            progress(clip, "cached", 100.0)
        report.rendered.append(RenderedClip(clip=clip, path=hit, cached=True))
    report.elapsed_s = time.perf_counter() - started
    return report


def make_run_plan(
    plan: ClipPlan,
    provider: str,
    cache: ClipCache,
    journal: Journal,
    force: bool,
    wants_again: Callable[[Clip], bool],
) -> RunPlan:
    """Sort the clips by what the run will do with them, from the cache and the journal."""
    cached = [] if force else [c for c in plan.clips if cache.lookup(c.id)]
    cached_ids = {c.id for c in cached}
    todo = [c for c in plan.clips if c.id not in cached_ids]
    in_flight = [c for c in todo if _in_flight(journal, c, provider, force)]
    flying_ids = {c.id for c in in_flight}
    unsure = [
        c
        for c in todo
        if c.id not in flying_ids and _uncertain(journal, c, provider) and not wants_again(c)
    ]
    unsure_ids = {c.id for c in unsure}
    to_pay = [c for c in todo if c.id not in flying_ids | unsure_ids]
    return RunPlan(
        provider=provider,
        paid=provider != "preview",
        cached=cached,
        in_flight=in_flight,
        uncertain=unsure,
        to_pay=to_pay,
        cost=sum(c.cost_usd for c in to_pay),
        uploads=uploads_of(to_pay),
    )


async def _run(
    plan: ClipPlan,
    renderer: Renderer,
    cache: ClipCache,
    journal: Journal,
    jobs: int,
    force: bool,
    progress: ProgressCallback | None,
    resubmit: Callable[[Clip], bool],
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
            resubmit=resubmit,
        )
    finally:
        await renderer.aclose()


def clip_cache(provider: str, root: Path) -> ClipCache:
    """The cache `provider`'s clips live in under `root`: the preview's key carries its
    drawing version (`preview_cache.PreviewCache`), so an upgrade redraws previews, not paid clips."""
    if provider == "preview":
        from storyc.providers.preview_cache import PreviewCache

        return PreviewCache(root)
    return ClipCache(root)


def _story_cache(plan: ClipPlan) -> Path:
    return cache_dir_for(Path(plan.story.source))


def _in_flight(journal: Journal, clip: Clip, provider: str, force: bool) -> bool:
    """Whether the clip has a job already paid for (or claimed by a live run) to collect."""
    record = journal.latest(clip.id, provider)
    if record is None:
        return False
    if record.status in HELD:
        return record.owner == journal.owner or owner_alive(record.owner, record.lease_until)
    return record.active or (record.status == "done" and not force)


def _uncertain(journal: Journal, clip: Clip, provider: str) -> bool:
    """Whether the clip's last create may have been paid without an answer."""
    record = journal.latest(clip.id, provider)
    if record is None:
        return False
    if record.status == "sending":  # its run is gone (else `_in_flight` said so)
        return True
    return record.status == "uncertain"


@dataclass(frozen=True)
class Upload:
    """A local file a paid run may send to the provider."""

    path: Path
    size: int
    clips: tuple[int, ...]
    """The numbers of the clips that send it."""


def uploads_of(clips: Sequence[Clip]) -> list[Upload]:
    """Every local file these clips send (first frames and cameo references), once each."""
    users: dict[Path, list[int]] = {}
    for clip in clips:
        files = [clip.input_reference] if clip.input_reference else []
        files += [file for cameo in clip.cameos for file in cameo.files]  # views, voices too
        for file in files:
            users.setdefault(Path(file), []).append(clip.index)
    found = []
    for path, numbers in users.items():
        try:
            size = path.stat().st_size
        except OSError:
            size = -1
        found.append(Upload(path=path, size=size, clips=tuple(sorted(set(numbers)))))
    return found


def refuse_unsafe_uploads(
    uploads: Sequence[Upload], references: ReferencePolicy, provider: str
) -> None:
    """Stop before anything is paid if a file to send is no longer where it may be."""
    from storyc.sandbox import ALLOW_HINT

    problems = [
        f"{upload.path} {problem}"
        for upload in uploads
        if (problem := references.file_problem(upload.path)) is not None
    ]
    if problems:
        raise StorycError(
            f"{len(problems)} file(s) the clips would send to {provider} may not leave this "
            f"machine: {'; '.join(problems)}; nothing was submitted",
            hint=ALLOW_HINT,
        )


_CLIP_FILE = re.compile(r"^\d{2,}-[A-Za-z0-9_-]+\.mp4$")


def place_clip(rendered: RenderedClip, clips_dir: Path) -> RenderedClip:
    """Link (or copy) a cached clip to `clips_dir/NN-<id>.mp4`, atomically."""
    clips_dir.mkdir(parents=True, exist_ok=True)
    target = clips_dir / f"{rendered.clip.stem}.mp4"
    temp = clips_dir / f".{rendered.clip.stem}.{os.getpid()}.tmp"
    if not _same_file(rendered.path, target):
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


def _same_file(one: Path, other: Path) -> bool:
    """Whether both names are one file already. Renaming a hard link over another link to
    the same file does nothing (POSIX), which used to leave the temporary link behind."""
    try:
        return os.path.samefile(one, other)
    except OSError:
        return False


def prune_stale_clips(clips_dir: Path, plan: ClipPlan) -> None:
    """Remove clip files of earlier plans so `clips/` mirrors this plan (the cache keeps them)."""
    if not clips_dir.is_dir():
        return
    keep = {f"{c.stem}.mp4" for c in plan.clips}
    for path in clips_dir.iterdir():
        if _CLIP_FILE.match(path.name) and path.name not in keep:
            with contextlib.suppress(OSError):
                path.unlink()


__all__: Sequence[str] = (
    "ClipFailure",
    "Phase",
    "ProgressCallback",
    "RenderReport",
    "RenderedClip",
    "Submitted",
    "make_run_plan",
    "place_clip",
    "prune_stale_clips",
    "refuse_unsafe_uploads",
    "render_plan",
    "render_to_dir",
)

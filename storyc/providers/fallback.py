"""Fallbacks: `provider: runway, fal` renders on runway, and a clip runway refuses on fal.

The story has a plan per provider (the clip ids and requests are each provider's own);
`render_chain` takes those plans in order. Clips are matched by their number, so the plans
must cut the story into the same clips (`check_chain`). Each provider renders, through
`render_to_dir`, only the clips every provider before it refused (`ClipFailure.rejected`:
moderation, a retired model, `model not found`, a size or length it does not take); the
clip files land in `out_dir/clips` under each clip's own name (`NN-<id>.mp4` of the plan
that rendered it) and the report names the provider of every clip.

What would fail the same way everywhere stops the run instead: a missing or refused key
(`RUN_WIDE`, raised as is), a budget stop or a run nobody approved (a `StorycError`). A
create that went unanswered (uncertain: it may be paid) is never sent elsewhere; it stays a
failure of its provider, for `--resubmit`. The journal keys every job by (clip id,
provider), so it records which provider rendered each clip.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from storyc.errors import StorycError
from storyc.fsutil import write_atomic
from storyc.plan.schema import Clip, ClipPlan
from storyc.providers.cache import ClipCache, cache_dir_for
from storyc.providers.engine import (
    Approval,
    ClipFailure,
    ProgressCallback,
    RenderedClip,
    RenderReport,
    RunPlan,
    place_clip,
    prune_stale_clips,
    render_to_dir,
    unknown_resubmits,
)

if TYPE_CHECKING:
    from storyc.sandbox import ReferencePolicy


@dataclass
class ChainReport(RenderReport):
    """A render over a provider list: `rendered` holds each clip as the provider that
    rendered it planned it (`clip.provider`), `failures` the clips no provider rendered."""

    providers: tuple[str, ...] = ()
    refused: list[ClipFailure] = field(default_factory=list)
    """Refusals a later provider made up for (clip `index` was rendered by another)."""

    def rendered_by(self, index: int) -> str | None:
        """The provider that rendered clip `index` (None: not rendered)."""
        return next((r.clip.provider for r in self.rendered if r.clip.index == index), None)


def check_chain(plans: Sequence[ClipPlan]) -> None:
    """Refuse plans that do not cut the story into the same clips (matched by number)."""
    if not plans:
        raise StorycError("no provider to render on")
    first = plans[0]
    names = [p.story.provider for p in plans]
    if len(set(names)) != len(names):
        raise StorycError(f"a provider is listed twice: {', '.join(names)}")
    for plan in plans[1:]:
        why = _disagreement(first, plan)
        if why is not None:
            raise StorycError(
                f"`{plan.story.provider}` cannot take the clips `{first.story.provider}` "
                f"refuses: {why}",
                hint="fallbacks need the same clips on every provider; drop "
                f"`{plan.story.provider}` from the list or set `clips:` so both cut alike",
            )


def _disagreement(first: ClipPlan, other: ClipPlan) -> str | None:
    one, two = first.story.provider, other.story.provider
    if len(first.clips) != len(other.clips):
        return (
            f"the story makes {len(first.clips)} clip(s) on {one} but {len(other.clips)} on {two}"
        )
    for mine, theirs in zip(first.clips, other.clips, strict=True):
        if mine.index != theirs.index or _coverage(mine) != _coverage(theirs):
            return (
                f"clip {mine.index:02d} holds shot(s) {_shots(mine)} on {one} but "
                f"{_shots(theirs)} on {two}"
            )
        if mine.duration != theirs.duration:
            return f"clip {mine.index:02d} lasts {mine.duration} ms on {one} but " + (
                f"{theirs.duration} ms on {two}"
            )
    return None


def _coverage(clip: Clip) -> tuple[tuple[str, int, int, int], ...]:
    return tuple((s.file, s.line, s.film_start, s.film_end) for s in clip.shots)


def _shots(clip: Clip) -> str:
    return " ".join(str(s.index) for s in clip.shots) or "none"


def worst_cost(run: RunPlan, plans: Sequence[ClipPlan]) -> float:
    """The most a run may cost: every clip to pay refused by each provider in turn."""
    numbers = {c.index for c in run.to_pay}
    later = sum(c.cost_usd for plan in plans[1:] for c in plan.clips if c.index in numbers)
    return run.cost + later


def render_chain(
    plans: Sequence[ClipPlan],
    out_dir: Path,
    *,
    jobs: int = 4,
    force: bool = False,
    max_cost: float | None = None,
    approve: Approval | None = None,
    progress: ProgressCallback | None = None,
    cache_dir: Path | None = None,
    resubmit: Sequence[str] = (),
    resubmit_uncertain: bool = False,
    references: ReferencePolicy | None = None,
) -> ChainReport:
    """Render the first plan, then each refused clip from the next plan, into `out_dir`.

    `plans` are the story compiled for each provider of the list, in order (see
    `check_chain`). `approve` sees the first provider's run with `fallbacks` and
    `worst_cost` set (the cost shown up front is that range); a later provider's run is
    approved by that answer when it only pays for clips counted in it, else `approve` is
    asked again. `max_cost` bounds the whole run: a later provider gets what is left.
    The other options are `render_to_dir`'s. Writes `out_dir/plan.json` (the first plan),
    `plan.<provider>.json` for every fallback that rendered something, and `clips/`.
    """
    check_chain(plans)
    first = plans[0]
    unknown = unknown_resubmits(first, resubmit)
    if unknown:
        raise StorycError(
            f"--resubmit {unknown[0]} names no clip of this plan",
            hint="give the clip's number as `storyc plan` shows it (e.g. 03), or its id",
        )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    names = tuple(p.story.provider for p in plans)
    report = ChainReport(provider=names[0], providers=names)
    start = _starting_rounds(plans, cache_dir, force)
    approved: set[int] = set()
    spent = 0.0
    pending: list[int] = []  # clip numbers refused by the provider before
    last_failure: dict[int, ClipFailure] = {}
    for round_number, plan in enumerate(plans):
        wanted = set(pending) | {i for i, r in start.items() if r == round_number}
        clips = tuple(c for c in plan.clips if c.index in wanted)
        if not clips:
            pending = []
            continue
        sub = plan.model_copy(update={"clips": clips})
        later = names[round_number + 1 :]
        ask = _round_approval(approve, plans[round_number:], later, approved, round_number)
        runs: list[RunPlan] = []

        def approve_round(
            run: RunPlan, ask: Approval | None = ask, runs: list[RunPlan] = runs
        ) -> None:
            if ask is not None:
                ask(run)
            runs.append(run)

        budget = None if max_cost is None else max(0.0, max_cost - spent)
        staging = Path(tempfile.mkdtemp(prefix=f".fallback-{plan.story.provider}-", dir=out_dir))
        result: RenderReport | None = None
        try:
            try:
                result = render_to_dir(
                    sub,
                    staging,
                    provider=plan.story.provider,
                    jobs=jobs,
                    force=force,
                    max_cost=budget,
                    approve=approve_round if ask is not None else None,
                    progress=progress,
                    cache_dir=cache_dir,
                    resubmit=[w for w in resubmit if not unknown_resubmits(sub, [w])],
                    resubmit_uncertain=resubmit_uncertain,
                    references=references,
                )
            except StorycError as exc:
                if round_number == 0 or _is_run_wide(exc):
                    raise
                refused = ", ".join(f"{i:02d}" for i in sorted(wanted))
                raise StorycError(
                    f"clip(s) {refused} that {names[round_number - 1]} refused were not sent "
                    f"to {plan.story.provider}: {exc.message}; the clips rendered so far are "
                    f"in {out_dir / 'clips'}",
                    hint=exc.hint,
                ) from exc
            if round_number > 0:
                write_atomic(out_dir / f"plan.{plan.story.provider}.json", plan.to_json())
        finally:
            placed = _collect(result, out_dir)
            shutil.rmtree(staging, ignore_errors=True)
        spent += sum(run.cost for run in runs)
        if round_number == 0:
            approved |= {c.index for run in runs for c in run.to_pay}
        report.rendered += placed
        report.submitted += result.submitted
        report.resumed += result.resumed
        report.reconciled += result.reconciled
        report.elapsed_s += result.elapsed_s
        report.paid = report.paid or result.paid
        pending = []
        for failure in result.failures:
            if failure.clip.index in last_failure:
                report.refused.append(last_failure.pop(failure.clip.index))
            last_failure[failure.clip.index] = failure
            if failure.rejected and not failure.uncertain:
                pending.append(failure.clip.index)
        for done in placed:
            earlier = last_failure.pop(done.clip.index, None)
            if earlier is not None:
                report.refused.append(earlier)
    report.rendered.sort(key=lambda r: r.clip.index)
    report.failures = sorted(last_failure.values(), key=lambda f: f.clip.index)
    report.refused.sort(key=lambda f: (f.clip.index, names.index(f.provider)))
    write_atomic(out_dir / "plan.json", first.to_json())
    prune_stale_clips(out_dir / "clips", plan_as_rendered(first, report))
    return report


def _collect(result: RenderReport | None, out_dir: Path) -> list[RenderedClip]:
    """The round's clips linked from its staging folder into `out_dir/clips`."""
    if result is None:
        return []
    return [place_clip(r, out_dir / "clips") for r in result.rendered]


def _is_run_wide(exc: StorycError) -> bool:
    from storyc.providers.errors import RUN_WIDE

    return isinstance(exc, RUN_WIDE)


def _round_approval(
    approve: Approval | None,
    plans: Sequence[ClipPlan],
    later: tuple[str, ...],
    approved: set[int],
    round_number: int,
) -> Approval | None:
    """The approval hook of one provider's round (None: nobody approves, a paid run stops)."""
    if approve is None:
        return None
    if round_number == 0:

        def first(run: RunPlan) -> None:
            if later:
                if run.to_pay:
                    _check_keys(later)
                run = replace(run, fallbacks=later, worst_cost=worst_cost(run, plans))
            approve(run)

        return first

    def next_one(run: RunPlan) -> None:
        # The writer approved the worst case up front, which counts every clip it paid for.
        if run.uncertain or any(c.index not in approved for c in run.to_pay):
            approve(run)

    return next_one


def _check_keys(providers: Sequence[str]) -> None:
    """Every fallback's key, before the first provider is paid (`registry.check_key`)."""
    from storyc.providers.errors import BadKey, MissingKey
    from storyc.providers.registry import check_key

    for name in providers:
        try:
            check_key(name)
        except (MissingKey, BadKey) as exc:
            exc.hint = (
                f"`{name}` is a fallback in the provider list; set {exc.env_var} (nothing "
                f"was sent to any provider), or drop `{name}` from the list"
            )
            raise


def _starting_rounds(
    plans: Sequence[ClipPlan], cache_dir: Path | None, force: bool
) -> dict[int, int]:
    """Clip number -> the provider it starts with: the first, unless a later provider's
    clip is in the cache already (a clip refused before and rendered by a fallback is
    not asked of the first provider again, every run)."""
    start = {c.index: 0 for c in plans[0].clips}
    if force or len(plans) < 2:
        return start
    cache = ClipCache(
        cache_dir if cache_dir is not None else cache_dir_for(Path(plans[0].story.source))
    )
    with contextlib.suppress(OSError):
        for clip in plans[0].clips:
            if cache.lookup(clip.id):
                continue
            for number, plan in enumerate(plans[1:], 1):
                other = next((c for c in plan.clips if c.index == clip.index), None)
                if other is not None and cache.lookup(other.id):
                    start[clip.index] = number
                    break
    return start


def plan_as_rendered(plan: ClipPlan, report: RenderReport) -> ClipPlan:
    """`plan` with each clip as the provider that rendered it planned it (matched by
    number): what the film is assembled from. A clip no provider rendered is the last
    one tried, so its failure matches it. Returns `plan` itself without fallbacks."""
    by_index: dict[int, Clip] = {f.clip.index: f.clip for f in report.failures}
    by_index |= {r.clip.index: r.clip for r in report.rendered}
    clips = tuple(by_index.get(c.index, c) for c in plan.clips)
    if all(a is b or a.id == b.id for a, b in zip(clips, plan.clips, strict=True)):
        return plan
    return plan.model_copy(update={"clips": clips, "cost_usd": sum(c.cost_usd for c in clips)})


__all__: Sequence[str] = (
    "ChainReport",
    "check_chain",
    "plan_as_rendered",
    "render_chain",
    "worst_cost",
)

"""`provider: runway, fal` (or `--provider runway,fal`) on the command line: the story's
plan on every provider (made by the one analysis that checked them all), then
`storyc.providers.fallback.render_chain` with the terminal around it (the cost range, a bar per clip, the summary naming who rendered what)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from storyc.check.provider import provider_chain
from storyc.errors import StorycError
from storyc.frontend import Compilation
from storyc.plan.schema import Clip, ClipPlan
from storyc.providers.engine import Phase
from storyc.terminal import labelled


def chain_of(compilation: Compilation, provider: str | None) -> list[str]:
    """The providers to render on, in order (one name: no fallbacks)."""
    assert compilation.story is not None
    return provider_chain(provider or compilation.story.header.provider)


def compile_chain(file: Path, compilation: Compilation, chain: Sequence[str]) -> list[ClipPlan]:
    """The story's plan on every provider of `chain` (the first is `compilation`'s).

    The analysis that checked the story made them (`Compilation.fallback_plans`: each
    fallback's provider rules, first frames and templates are the ones `check` saw). A plan
    missing for a fallback (the story does not compile for it) is refused, so a plan is
    never rendered for a fallback it does not compile for."""
    assert compilation.plan is not None
    plans = [compilation.plan, *compilation.fallback_plans]
    made = [plan.clips[0].provider if plan.clips else "" for plan in compilation.fallback_plans]
    for number, name in enumerate(chain[1:]):
        if number >= len(made) or made[number] != name:
            first = next((d for d in compilation.diagnostics if d.is_error), None)
            why = f": {first.code} {first.message}" if first else ""
            raise StorycError(
                f"{file} does not compile for the fallback `{name}`{why}",
                hint=f"run `storyc check {file} --provider {name}`, or drop `{name}` from "
                "the provider list",
            )
    return plans


def render_chain_in_terminal(
    plans: Sequence[ClipPlan],
    out_dir: Path,
    *,
    console: Console,
    yes: bool = False,
    **options: Any,
) -> Any:
    """`render_chain` with the approval (the cost range), bars and summary.

    `options` are `render_chain`'s (jobs, force, max_cost, resubmit, resubmit_uncertain,
    references); a `provider` among them is ignored (each plan names its own)."""
    from storyc.cli.progress_view import ClipProgress, approval, show_summary
    from storyc.providers.fallback import check_chain, plan_as_rendered, render_chain

    options.pop("provider", None)
    check_chain(plans)  # before anything is shown or paid
    first = plans[0]
    by_index = {c.index: c for c in first.clips}
    with ClipProgress(console, first.clips) as bars:

        def progress(clip: Clip, phase: Phase, percent: float | None) -> None:
            # A fallback clip has its own id: its bar is the first plan's clip of its number.
            bars.update(by_index.get(clip.index, clip), phase, percent)

        report = render_chain(
            plans, out_dir, approve=approval(console, first, yes), progress=progress, **options
        )
    show_summary(console, report, plan_as_rendered(first, report))
    for refused in report.refused:
        taken = report.rendered_by(refused.clip.index)
        then = f"; {taken} rendered it" if taken else "; no other provider rendered it"
        console.print(
            labelled(
                "fallback:",
                "yellow",
                f"clip {refused.clip.index:02d}: {refused.provider} refused it "
                f"({refused.message}){then}",
            )
        )
    return report

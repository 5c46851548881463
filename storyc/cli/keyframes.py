"""`storyc keyframes FILE`: one still per shot from an image model, cached and journaled."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from storyc.cli.options import (
    AllowPathOption,
    JobsOption,
    MaxCostOption,
    OutOption,
    ResubmitOption,
    ResubmitUncertainOption,
    YesOption,
)
from storyc.cli.shared import compile_or_exit, default_out_dir
from storyc.errors import StorycError, UsageError


def register(app: typer.Typer) -> None:
    @app.command()
    def keyframes(
        file: Annotated[Path, typer.Argument(help="The .story file to make keyframes for.")],
        out: OutOption = None,
        provider: Annotated[
            str | None,
            typer.Option(
                "--provider",
                "-p",
                metavar="NAME",
                help="Image provider: preview (free placeholder cards, offline), fal, runway, "
                "openai. Default: the story's provider.",
            ),
        ] = None,
        image_model: Annotated[
            str | None,
            typer.Option(
                "--image-model", metavar="MODEL", help="Another image model of the provider."
            ),
        ] = None,
        jobs: JobsOption = 4,
        yes: YesOption = False,
        max_cost: MaxCostOption = None,
        force: Annotated[
            bool, typer.Option("--force", help="Make again even stills already in the cache.")
        ] = False,
        resubmit: ResubmitOption = None,
        resubmit_uncertain: ResubmitUncertainOption = False,
        allow_path: AllowPathOption = None,
    ) -> None:
        """Make one keyframe still per shot in DIR/keyframes/NN-SHOT.png.

        Each still is made from the shot's prompt (style, setting, camera, light, action, the
        characters' looks) by the provider's image model; a shot with `keyframe: "file"` keeps
        its own picture. Stills are cached and journaled like clips: never paid twice.
        """
        from storyc.plan.keyframes import image_offering, image_providers, plan_keyframes
        from storyc.providers.keyframes import keyframes_to_dir

        if jobs < 1:
            raise UsageError(f"--jobs must be at least 1, not {jobs}")
        compilation = compile_or_exit(file, None, allow_paths=allow_path)
        assert compilation.plan is not None and compilation.story is not None
        name = provider or compilation.plan.story.provider
        if image_offering(name, image_model) is None:
            raise UsageError(
                f"`{name}` makes no keyframes" + (f" with `{image_model}`" if image_model else ""),
                hint=f"use --provider with one of: {', '.join(image_providers())}",
            )
        plan = plan_keyframes(compilation.story, compilation.plan, name, model=image_model)
        console = Console(stderr=True)
        target = out or default_out_dir(file)
        result = keyframes_to_dir(
            plan,
            target,
            story_path=file,
            jobs=jobs,
            force=force,
            max_cost=max_cost,
            approve=_approval(console, yes),
            resubmit=resubmit or (),
            resubmit_uncertain=resubmit_uncertain,
            references=compilation.policy,
        )
        report = result.report
        made = report.submitted
        console.print(
            f"{len(result.files)} keyframe(s) in {target / 'keyframes'}: {made} made now, "
            f"{report.cached} from the cache",
            highlight=False,
        )
        if not report.ok:
            for failure in report.failures:
                console.print(str(failure), highlight=False, markup=False)
            raise StorycError(f"{len(report.failures)} keyframe(s) failed", hint=report.next_step)


def _approval(console: Console, yes: bool) -> Any:
    def approve(run: Any) -> None:
        for clip in run.uncertain:
            console.print(
                f"keyframe {clip.index:02d} may already be paid for (its create went "
                "unanswered): it is looked for, not sent again",
                highlight=False,
            )
        if not run.to_pay:
            return
        for clip in run.to_pay:
            console.print(
                f"  {clip.index:02d}  {clip.model} {clip.size}  ${clip.cost_usd:.3f}",
                highlight=False,
                markup=False,
            )
        console.print(
            f"{len(run.to_pay)} keyframe(s) on {run.provider}: about ${run.cost:.2f}",
            highlight=False,
        )
        from storyc.cli.progress_view import show_uploads  # the cameo pictures sent, if any

        show_uploads(console, run.uploads, run.provider)
        if yes:
            return
        if not (sys.stdin.isatty() and console.is_terminal):
            raise StorycError(
                f"making {len(run.to_pay)} keyframe(s) costs about ${run.cost:.2f}; "
                "confirm with --yes when not on a terminal",
                hint="nothing was submitted",
            )
        from rich.prompt import Confirm

        if not Confirm.ask(
            f"Make {len(run.to_pay)} keyframe(s) for about ${run.cost:.2f}?", console=console
        ):
            raise StorycError("cancelled; nothing was submitted", exit_code=1)

    return approve

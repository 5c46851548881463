"""`storyc render FILE`: every clip of the story as a video file, cached and journaled."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from storyc.cli.first_frames import FromKeyframesOption, compile_for_render
from storyc.cli.options import (
    AllowPathOption,
    JobsOption,
    MaxCostOption,
    OutOption,
    ProviderOption,
    ResubmitOption,
    ResubmitUncertainOption,
    YesOption,
)
from storyc.cli.shared import default_out_dir
from storyc.errors import StorycError, UsageError


def register(app: typer.Typer) -> None:
    @app.command()
    def render(
        file: Annotated[Path, typer.Argument(help="The .story file to render.")],
        out: OutOption = None,
        provider: ProviderOption = None,
        jobs: JobsOption = 4,
        yes: YesOption = False,
        max_cost: MaxCostOption = None,
        force: Annotated[
            bool, typer.Option("--force", help="Render again even clips already in the cache.")
        ] = False,
        resubmit: ResubmitOption = None,
        resubmit_uncertain: ResubmitUncertainOption = False,
        allow_path: AllowPathOption = None,
        from_keyframes: FromKeyframesOption = False,
    ) -> None:
        """Render every clip to DIR/clips/NN-ID.mp4 (and write DIR/plan.json).

        A story with `takes` also gets every take of every clip in DIR/takes/clips/ (the cost
        shown first counts them all); DIR/clips/ holds the take picked with `storyc pick`.

        Rendered clips are cached (`.storyc/cache` beside the story, or $STORYC_CACHE_DIR)
        and never paid for twice; a run that was interrupted picks up its jobs where they
        were. Exit status: 0 all clips rendered, 1 a clip failed or the story has errors.
        """
        from storyc.cli.fallback_view import chain_of, compile_chain, render_chain_in_terminal
        from storyc.cli.progress_view import render_in_terminal
        from storyc.cli.takes_view import render_every_take
        from storyc.probe import ffmpeg_exe

        if jobs < 1:
            raise UsageError(f"--jobs must be at least 1, not {jobs}")
        ffmpeg_exe()  # no ffmpeg: one clear message before anything starts
        compilation = compile_for_render(
            file,
            provider,
            out or default_out_dir(file),
            allow_paths=allow_path,
            from_keyframes=from_keyframes,
        )
        assert compilation.plan is not None
        console = Console(stderr=True)
        options = dict(
            provider=compilation.plan.story.provider,
            jobs=jobs,
            force=force,
            yes=yes,
            max_cost=max_cost,
            resubmit=resubmit or (),
            resubmit_uncertain=resubmit_uncertain,
            references=compilation.policy,
        )
        # A story with takes: every take first (one cost prompt for them all), to DIR/takes/.
        render_every_take(file, compilation, out or default_out_dir(file), console, **options)
        chain = chain_of(compilation, provider)
        if len(chain) > 1:  # `provider: runway, fal`: a clip runway refuses goes to fal
            plans = compile_chain(file, compilation, chain)
            report = render_chain_in_terminal(
                plans, out or default_out_dir(file), console=console, **options
            )
        else:
            report = render_in_terminal(
                compilation.plan, out or default_out_dir(file), console=console, **options
            )
        if not report.ok:
            count = len(report.failures)
            raise StorycError(
                f"{count} clip{'s' if count != 1 else ''} failed; the others are in "
                f"{(out or default_out_dir(file)) / 'clips'}",
                hint=report.next_step,
            )

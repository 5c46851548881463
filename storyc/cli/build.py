"""`storyc build FILE`: compile, render (the free preview unless told otherwise), assemble.

Writes DIR/plan.json and DIR/clips/ (exactly as `storyc render` does), then DIR/<stem>.mp4
(H.264 + AAC, faststart), DIR/<stem>.srt and DIR/<stem>.otio. A rebuild with nothing changed
renders nothing and, because a small stamp records what the film was made from, does not
assemble again either.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from storyc.cli.compile import compile_or_exit, default_out_dir
from storyc.cli.options import (
    AllowPathOption,
    JobsOption,
    MaxCostOption,
    OutOption,
    RenderProviderOption,
    ResubmitOption,
    ResubmitUncertainOption,
    YesOption,
)
from storyc.errors import StorycError, UsageError
from storyc.terminal import labelled, plain


def register(app: typer.Typer) -> None:
    @app.command()
    def build(
        file: Annotated[Path, typer.Argument(help="The .story file to build.")],
        out: OutOption = None,
        provider: RenderProviderOption = None,
        jobs: JobsOption = 4,
        yes: YesOption = False,
        max_cost: MaxCostOption = None,
        force: Annotated[
            bool,
            typer.Option("--force", help="Render every clip again and re-assemble the film."),
        ] = False,
        resubmit: ResubmitOption = None,
        resubmit_uncertain: ResubmitUncertainOption = False,
        allow_path: AllowPathOption = None,
    ) -> None:
        """Compile, render and assemble FILE into DIR/NAME.mp4, NAME.srt and NAME.otio.

        NAME is the story file's name without `.story`; DIR defaults to build/NAME. Rendering
        uses the free offline preview unless the story or `--provider` names another.

        Clips are joined by stream copy wherever they allow it (plain cuts between clips of
        one format), so their pictures stay bit-exact; trims, transitions and odd sizes are
        re-encoded. Exit status: 0 the film is written, 1 the story has errors or a clip
        failed (the previous film, if any, is left as it was).
        """
        if jobs < 1:
            raise UsageError(f"--jobs must be at least 1, not {jobs}")
        build_story_film(
            file,
            out or default_out_dir(file),
            provider=provider,
            jobs=jobs,
            yes=yes,
            max_cost=max_cost,
            force=force,
            console=Console(stderr=True),
            resubmit=resubmit or (),
            resubmit_uncertain=resubmit_uncertain,
            allow_paths=allow_path or (),
        )


def build_story_film(
    file: Path,
    out_dir: Path,
    *,
    provider: str | None,
    jobs: int,
    yes: bool,
    max_cost: float | None,
    force: bool,
    console: Console,
    resubmit: Sequence[str] = (),
    resubmit_uncertain: bool = False,
    allow_paths: Sequence[Path] = (),
) -> Path:
    """The whole `build` command; returns the film's path."""
    from storyc.assemble import RichAssemblyProgress, assemble_film, write_otio, write_srt
    from storyc.assemble.stamp import clear_stamp, is_up_to_date, write_stamp
    from storyc.providers.engine import render_to_dir

    compilation = compile_or_exit(file, provider, allow_paths=allow_paths)
    plan = compilation.plan
    assert plan is not None
    report = render_to_dir(
        plan,
        out_dir,
        provider=plan.story.provider,
        jobs=jobs,
        force=force,
        yes=yes,
        max_cost=max_cost,
        console=console,
        resubmit=resubmit,
        resubmit_uncertain=resubmit_uncertain,
        references=compilation.policy,
    )
    if not report.ok:
        count = len(report.failures)
        raise StorycError(
            f"{count} clip{'s' if count != 1 else ''} failed, so the film was not assembled; "
            f"the rendered clips are in {out_dir / 'clips'}",
            hint=report.next_step,
        )
    by_id = {rendered.clip.id: rendered.path for rendered in report.rendered}
    missing = [clip for clip in plan.clips if clip.id not in by_id]
    if missing:
        raise StorycError(f"clip {missing[0].index} was not rendered, so there is no film")
    clips = [by_id[clip.id] for clip in plan.clips]

    stem = file.stem
    film = out_dir / f"{stem}.mp4"
    outputs = [film, out_dir / f"{stem}.srt", out_dir / f"{stem}.otio"]
    if not force and is_up_to_date(out_dir, plan, clips, outputs):
        console.print(
            labelled("up to date:", "green", f"{film} (nothing changed since the last build)")
        )
        return film

    clear_stamp(out_dir)
    with RichAssemblyProgress(console) as progress:
        assembled = assemble_film(plan, clips, film, progress=progress)
    cues = write_srt(assembled.timeline, outputs[1])
    write_otio(assembled.timeline, outputs[2], plan.story.title, assembled.source_frames)
    write_stamp(out_dir, plan, clips, outputs)

    seconds = assembled.duration_ms / 1000
    timeline = assembled.timeline
    console.print(plain(assembled.describe()))
    for note in assembled.notes:
        console.print(labelled("note:", "yellow", note))
    console.print(
        labelled(
            "film:",
            "green",
            f"{film} ({seconds:.2f} s, {timeline.width}x{timeline.height}, "
            f"{float(timeline.fps):g} fps); subtitles: {outputs[1].name} ({len(cues)} line{'s' if len(cues) != 1 else ''}); "
            f"edit: {outputs[2].name}",
        )
    )
    return film

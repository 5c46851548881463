"""The whole job, with no terminal: a compiled plan -> rendered clips -> the film.

    film = build_film(plan, out_dir, "cafe", render=run_render, force=False)

The render step is handed in (the command line wraps `providers.engine.render_to_dir` in
its approval prompt and progress bars; a test or a script can pass it bare), and assembly
reports through `assemble.progress.ProgressCallback`. Every failure is a `StorycError`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from storyc.assemble import AssemblyReport, assemble_film, write_otio, write_srt
from storyc.assemble.progress import ProgressCallback, no_progress
from storyc.assemble.stamp import clear_stamp, is_up_to_date, write_stamp
from storyc.errors import StorycError
from storyc.plan.schema import ClipPlan
from storyc.providers.engine import RenderReport
from storyc.providers.fallback import plan_as_rendered

RenderStep = Callable[[ClipPlan, Path], RenderReport]
"""Render every clip of the plan into the folder (`clips/NN-ID.mp4`); returns the report."""


@dataclass(frozen=True)
class Film:
    path: Path
    subtitles: Path
    edit: Path
    up_to_date: bool
    """Nothing changed since the last build: the files were left as they were."""
    assembly: AssemblyReport | None = None
    """How the film was made (None when it was up to date)."""
    subtitle_count: int = 0


def build_film(
    plan: ClipPlan,
    out_dir: Path,
    stem: str,
    *,
    render: RenderStep,
    force: bool = False,
    progress: ProgressCallback = no_progress,
    absolute_paths: bool = False,
) -> Film:
    """Render `plan` into `out_dir` and join the clips into `stem`.mp4, .srt and .otio.

    A failed clip stops before assembly (the clips already rendered stay); an unchanged
    rebuild (same plan, same clips, same options) assembles nothing (see `assemble.stamp`).
    `absolute_paths`: the .otio names its media by absolute `file://` URLs instead of paths
    relative to its folder."""
    report = render(plan, out_dir)
    if not report.ok:
        count = len(report.failures)
        raise StorycError(
            f"{count} clip{'s' if count != 1 else ''} failed, so the film was not assembled; "
            f"the rendered clips are in {out_dir / 'clips'}",
            hint=report.next_step,
        )
    # By number: with fallbacks (`provider: runway, fal`) a clip may come from another
    # provider's plan, under its own id; the film is made from the clips as rendered.
    plan = plan_as_rendered(plan, report)
    by_index = {rendered.clip.index: rendered.path for rendered in report.rendered}
    missing = [clip for clip in plan.clips if clip.index not in by_index]
    if missing:
        raise StorycError(f"clip {missing[0].index} was not rendered, so there is no film")
    clips = [by_index[clip.index] for clip in plan.clips]

    film = Film(
        path=out_dir / f"{stem}.mp4",
        subtitles=out_dir / f"{stem}.srt",
        edit=out_dir / f"{stem}.otio",
        up_to_date=False,
    )
    outputs = [film.path, film.subtitles, film.edit]
    options = {"absolute_paths": True} if absolute_paths else None
    if not force and is_up_to_date(out_dir, plan, clips, outputs, options):
        return Film(film.path, film.subtitles, film.edit, up_to_date=True)

    clear_stamp(out_dir)
    assembled = assemble_film(plan, clips, film.path, progress=progress)
    cues = write_srt(assembled.timeline, film.subtitles)
    write_otio(
        assembled.timeline,
        film.edit,
        plan.story.title,
        assembled.source_frames,
        absolute_paths=absolute_paths,
    )
    write_stamp(out_dir, plan, clips, outputs, options)
    return Film(
        film.path,
        film.subtitles,
        film.edit,
        up_to_date=False,
        assembly=assembled,
        subtitle_count=len(cues),
    )

"""`storyc build FILE`: compile, render (the free preview unless told otherwise), assemble.

Writes DIR/plan.json and DIR/clips/ (exactly as `storyc render` does, with every take of a
story with `takes` in DIR/takes/ and the picked take, or take 1, in the film), then DIR/<stem>.mp4
(H.264 + AAC, faststart), DIR/<stem>.srt and DIR/<stem>.otio. A rebuild with nothing changed
renders nothing and, because a small stamp records what the film was made from, does not
assemble again either. Before any of that, `quick_stamp` compares everything the last build
read and wrote with the files now on disk: when nothing changed, the command says so without
compiling (and without importing the front end, the renderers or the assembly).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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
from storyc.cli.quick_stamp import BuildKey, is_fresh
from storyc.cli.story_paths import default_out_dir, the_story
from storyc.errors import UsageError
from storyc.terminal import labelled, plain

if TYPE_CHECKING:
    from storyc.pipeline import Film
    from storyc.plan.schema import ClipPlan
    from storyc.providers.engine import RenderReport


def register(app: typer.Typer) -> None:
    @app.command()
    def build(
        file: Annotated[
            Path | None,
            typer.Argument(
                metavar="FILE",
                help="The .story file to build (default: the one in this folder).",
            ),
        ] = None,
        out: OutOption = None,
        provider: ProviderOption = None,
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
        absolute_paths: Annotated[
            bool,
            typer.Option(
                "--absolute-paths",
                help="Name the clips in NAME.otio by absolute file:// URLs (default: paths "
                "relative to it), for editing tools that cannot resolve relative ones.",
            ),
        ] = False,
        from_keyframes: FromKeyframesOption = False,
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
        file = the_story(file)
        out_dir = out or default_out_dir(file)
        console = Console(stderr=True)
        key = BuildKey.of(
            file,
            out_dir,
            provider=provider,
            from_keyframes=from_keyframes,
            absolute_paths=absolute_paths,
            allow_paths=allow_path or (),
        )
        # `--resubmit` asks to pay for clips again: that is work even when nothing changed.
        if not (force or resubmit or resubmit_uncertain) and is_fresh(key):
            _say_up_to_date(console, out_dir / f"{file.stem}.mp4")
            return
        build_story_film(
            file,
            out_dir,
            provider=provider,
            jobs=jobs,
            yes=yes,
            max_cost=max_cost,
            force=force,
            console=console,
            resubmit=resubmit or (),
            resubmit_uncertain=resubmit_uncertain,
            allow_paths=allow_path or (),
            absolute_paths=absolute_paths,
            from_keyframes=from_keyframes,
            stamp=key,
        )


_VALUE_OPTIONS: dict[str, str] = {
    "--out": "out",
    "-o": "out",
    "--provider": "provider",
    "-p": "provider",
    "--jobs": "jobs",
    "-j": "jobs",
    "--max-cost": "max_cost",
    "--allow-path": "allow_path",
}
_FLAG_OPTIONS: dict[str, str] = {
    "--yes": "yes",
    "-y": "yes",
    "--absolute-paths": "absolute_paths",
    "--from-keyframes": "from_keyframes",
}
"""The options `up_to_date_before_parsing` reads. Anything else (`--force`, `--resubmit`,
`--help`, `--`, bundled short flags, a misspelling) leaves the command to typer; a test
checks these against the options `build` declares."""


def up_to_date_before_parsing(args: list[str]) -> bool:
    """`storyc build ARGS` when the stamp says nothing changed: print so and answer True,
    before typer converts the options (its converters import pydantic). Any argument this
    plain reading is not sure of, or a stamp that does not match, answers False, and typer
    runs the command as usual (with its own messages for bad options)."""
    import math

    values: dict[str, list[str]] = {}
    flags: set[str] = set()
    files: list[str] = []
    rest = iter(args)
    for arg in rest:
        name, equals, inline = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if name in _VALUE_OPTIONS:
            value = inline if equals else next(rest, None)
            if value is None:
                return False
            values.setdefault(_VALUE_OPTIONS[name], []).append(value)
        elif arg in _FLAG_OPTIONS:
            flags.add(_FLAG_OPTIONS[arg])
        elif arg.startswith("-") or files:
            return False
        else:
            files.append(arg)
    try:
        jobs = int(values.get("jobs", ["4"])[-1])
        budget = float(values.get("max_cost", ["0"])[-1])
    except ValueError:
        return False
    if jobs < 1 or not (math.isfinite(budget) and budget >= 0):
        return False
    try:
        file = the_story(Path(files[0]) if files else None)
    except UsageError:
        return False
    out_dir = Path(values["out"][-1]) if "out" in values else default_out_dir(file)
    key = BuildKey.of(
        file,
        out_dir,
        provider=values["provider"][-1] if "provider" in values else None,
        from_keyframes="from_keyframes" in flags,
        absolute_paths="absolute_paths" in flags,
        allow_paths=[Path(p) for p in values.get("allow_path", [])],
    )
    if not is_fresh(key):
        return False
    _say_up_to_date(Console(stderr=True), out_dir / f"{file.stem}.mp4")
    return True


def _say_up_to_date(console: Console, film: Path) -> None:
    console.print(
        labelled("up to date:", "green", f"{film} (nothing changed since the last build)")
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
    absolute_paths: bool = False,
    from_keyframes: bool = False,
    stamp: BuildKey | None = None,
) -> Path:
    """The whole `build` command (compile, then `storyc.pipeline.build_film` with the
    terminal's approval, bars and lines); returns the film's path. With `stamp`, every file
    the build reads is watched, and a successful build records them for `is_fresh`."""
    from storyc.cli import quick_stamp

    build = partial(
        _build,
        file,
        out_dir,
        provider=provider,
        jobs=jobs,
        yes=yes,
        max_cost=max_cost,
        force=force,
        console=console,
        resubmit=resubmit,
        resubmit_uncertain=resubmit_uncertain,
        allow_paths=allow_paths,
        absolute_paths=absolute_paths,
        from_keyframes=from_keyframes,
    )
    if stamp is None:
        return build().path
    quick_stamp.clear(out_dir)  # a build that fails must leave no stamp behind
    before = quick_stamp.StoryRead.now(file)
    with quick_stamp.watching_files() as seen:
        film = build()
    from storyc.providers.cache import cache_dir_for

    quick_stamp.record(
        stamp, before, seen, maybe_inputs=_maybe_inputs(file), unlisted_roots=[cache_dir_for(file)]
    )
    return film.path


def _maybe_inputs(file: Path) -> list[Path]:
    """Files that change the build by appearing: the picks lock, the user's config, and the
    lint config `storyc.check.policy.find_config` looks for in every folder above the story."""
    from storyc.plan.takes import lock_path
    from storyc.sandbox import user_config_path

    folder = file.resolve().parent
    lint = [
        d / name for d in (folder, *folder.parents) for name in ("storyc.toml", "pyproject.toml")
    ]
    return [lock_path(file), user_config_path(), *lint]


def _build(
    file: Path,
    out_dir: Path,
    *,
    provider: str | None,
    jobs: int,
    yes: bool,
    max_cost: float | None,
    force: bool,
    console: Console,
    resubmit: Sequence[str],
    resubmit_uncertain: bool,
    allow_paths: Sequence[Path],
    absolute_paths: bool,
    from_keyframes: bool,
) -> Film:
    from storyc.assemble import RichAssemblyProgress
    from storyc.cli.fallback_view import chain_of, compile_chain, render_chain_in_terminal
    from storyc.cli.progress_view import render_in_terminal
    from storyc.cli.takes_view import render_every_take
    from storyc.pipeline import build_film
    from storyc.probe import ffmpeg_exe

    ffmpeg_exe()  # no ffmpeg: one clear message before anything starts
    compilation = compile_for_render(
        file, provider, out_dir, allow_paths=allow_paths, from_keyframes=from_keyframes
    )
    plan = compilation.plan
    assert plan is not None
    chain = chain_of(compilation, provider)
    plans = compile_chain(file, compilation, chain) if len(chain) > 1 else [plan]

    def render(plan: ClipPlan, out_dir: Path) -> RenderReport:
        options = dict(
            yes=yes,
            provider=plan.story.provider,
            jobs=jobs,
            force=force,
            max_cost=max_cost,
            resubmit=resubmit,
            resubmit_uncertain=resubmit_uncertain,
            references=compilation.policy,
        )
        # A story with takes: every take first (one cost prompt for them all), to DIR/takes/;
        # the film then uses each clip's picked take (take 1 unless `storyc pick` chose).
        render_every_take(file, compilation, out_dir, console, **options)
        if len(chain) > 1:  # `provider: runway, fal`: a clip runway refuses goes to fal
            return render_chain_in_terminal(plans, out_dir, console=console, **options)
        return render_in_terminal(plan, out_dir, console=console, **options)

    with RichAssemblyProgress(console) as progress:
        film = build_film(
            plan,
            out_dir,
            file.stem,
            render=render,
            force=force,
            progress=progress,
            absolute_paths=absolute_paths,
        )
    if film.up_to_date or film.assembly is None:
        _say_up_to_date(console, film.path)
        return film
    assembled = film.assembly
    timeline = assembled.timeline
    console.print(plain(assembled.describe()))
    for note in assembled.notes:
        console.print(labelled("note:", "yellow", note))
    lines = f"{film.subtitle_count} line{'s' if film.subtitle_count != 1 else ''}"
    console.print(
        labelled(
            "film:",
            "green",
            f"{film.path} ({assembled.duration_ms / 1000:.2f} s, {timeline.width}x"
            f"{timeline.height}, {float(timeline.fps):g} fps); subtitles: "
            f"{film.subtitles.name} ({lines}); edit: {film.edit.name}",
        )
    )
    return film

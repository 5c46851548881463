"""`storyc compile` (plan.json and one prompt file per clip) and `storyc plan` (the table)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from storyc.cli.options import AllowPathOption, OutOption, ProviderOption
from storyc.cli.shared import compile_or_exit, default_out_dir, the_story
from storyc.frontend import Compilation, compile_file
from storyc.fsutil import write_atomic
from storyc.plan.planner import scene_notes
from storyc.plan.schema import ClipPlan
from storyc.terminal import plain
from storyc.units import format_duration, timecode

TemplatesOption = Annotated[
    Path | None,
    typer.Option(
        "--templates", help="A folder of your own prompt templates (<family>.j2), searched first."
    ),
]


def write_plan(plan: ClipPlan, out_dir: Path) -> list[Path]:
    """Write plan.json and NN.prompt.txt atomically; return the written paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / "plan.json"]
    write_atomic(out_dir / "plan.json", plan.to_json())
    for clip in plan.clips:
        path = out_dir / f"{clip.index:02d}.prompt.txt"
        write_atomic(path, clip.prompt + "\n")
        written.append(path)
    return written


NARROW = 110
"""Below this many columns `plan_table` merges columns so that nothing is cut."""


def plan_table(
    plan: ClipPlan, width: int | None = None, takes: Mapping[int, int] | None = None
) -> Table:
    """The clip table. Timecodes, lengths and costs never wrap or shrink; the writer's words
    (scene, shots, transition) fold. Narrower than `NARROW` columns (CI logs, pipes, an
    80-column terminal), the scene joins the shots and the render length joins the play
    length, so the table still fits.

    Shots show their number (`#3`, what `storyc pick` takes) and label. `takes` (clip index
    -> number of takes, `plan.takes.take_counts`) adds a takes column (the take the film
    uses, of how many) and the cost of rendering every take, when a clip has more than one."""
    narrow = width is not None and width < NARROW
    counts = {i: n for i, n in (takes or {}).items() if n > 1}
    # Title and cells are `Text`: titles, scene names and labels are the writer's words.
    table = Table(
        title=plain(
            f"{plan.story.title}: {plan.story.model} on {plan.story.provider}, {plan.story.size}",
            "table.title",
        )
    )
    film_at = max([len(timecode(c.film_start)) for c in plan.clips] + [len("film at")])

    def number(header: str, min_width: int | None = None) -> None:
        table.add_column(header, justify="right", no_wrap=True, min_width=min_width)

    def words(header: str, ratio: int) -> None:
        table.add_column(header, overflow="fold", ratio=ratio)

    number("clip")
    if narrow:
        words("scene: shots", 3)
        number("film at", film_at)
        number("plays/renders")
    else:
        words("scene", 1)
        words("shots", 3)
        number("film at", film_at)
        number("plays")
        number("renders")
        number("slack")
    words("then", 1)
    if counts:
        number("take")
    number("cost")
    for clip in plan.clips:
        shots = ", ".join(
            f"#{s.index}{' ' + s.label if s.label else ''} "
            f"({format_duration(s.end - s.start)}, l.{s.line})"
            for s in clip.shots
        )
        then = clip.transition.kind + (
            f" {format_duration(clip.transition.duration)}" if clip.transition.duration else ""
        )
        renders = f"{clip.render_ms // 1000} s"
        if narrow:
            middle = [
                plain(f"{clip.scene}: {shots}"),
                timecode(clip.film_start),
                f"{format_duration(clip.duration)}/{renders}",
            ]
        else:
            middle = [
                plain(clip.scene),
                plain(shots),
                timecode(clip.film_start),
                format_duration(clip.duration),
                renders,
                format_duration(clip.slack) if clip.slack else "-",
            ]
        take = [f"{clip.take}/{counts.get(clip.index, 1)}"] if counts else []
        n = counts.get(clip.index, 1)
        cost = f"${clip.cost_usd:.2f}" + (f" x{n}" if n > 1 else "")
        table.add_row(str(clip.index), *middle, plain(then), *take, cost)
    slack = sum(c.slack for c in plan.clips)
    table.caption = (
        f"film {timecode(plan.duration)}, {len(plan.clips)} clips, {plan.render_seconds} s rendered "
        f"({format_duration(slack)} trimmed), estimated cost ${plan.cost_usd:.2f}"
    )
    if counts:
        renders = sum(counts.get(c.index, 1) for c in plan.clips)
        every = sum(c.cost_usd * counts.get(c.index, 1) for c in plan.clips)
        table.caption += (
            f"; with every take: {renders} renders, estimated cost ${every:.2f} "
            "(`render` and `build` make them all; `storyc pick FILE SHOT TAKE` chooses)"
        )
    return table


def notes_lines(compilation: Compilation) -> list[str]:
    """The `note:` lines of a compiled story, scene by scene (the scene's own, then each
    shot's with where it is written); one line saying so when there are none."""
    plan, story = compilation.plan, compilation.story
    if plan is None or story is None:
        return []
    lines: list[str] = []
    for scene in story.scenes:
        shots = [s for clip in plan.clips if clip.scene_index == scene.index for s in clip.shots]
        own = scene_notes(scene)
        if not own and not any(s.notes for s in shots):
            continue
        lines.append(f"Scene {scene.index}" + (f" · {scene.title}" if scene.title else "") + ":")
        lines += [f"  note: {text}" for text in own]
        for shot in shots:
            where = f"{shot.label or '#' + str(shot.index)} (l.{shot.line})"
            lines += [f"  {where}: {text}" for text in shot.notes]
    return lines or ["no notes"]


def _take_counts(compilation: Compilation) -> dict[int, int]:
    from storyc.plan.takes import take_counts

    if compilation.story is None or compilation.plan is None:
        return {}
    return take_counts(compilation.story, compilation.plan)


def cost_table(path: Path, compilation: Compilation) -> Table | None:
    """What the same story would cost on every provider and model that serves its model."""
    from storyc.plan.capabilities import load_table

    story = compilation.story
    if story is None:
        return None
    table = Table(title="the same story elsewhere")
    for column in ("provider", "model", "clips", "rendered", "cost"):
        table.add_column(column)
    for offering in load_table().offerings:
        if offering.model != story.header.model:
            continue
        other = compile_file(path, provider=offering.provider, policy=compilation.policy)
        if other.plan is None:
            errors = sum(d.is_error for d in other.diagnostics)
            table.add_row(
                plain(offering.provider), plain(offering.model), "-", "-", f"{errors} error(s)"
            )
            continue
        table.add_row(
            plain(offering.provider),
            plain(offering.model),
            str(len(other.plan.clips)),
            f"{other.plan.render_seconds} s",
            f"${other.plan.cost_usd:.2f}",
        )
    return table


def register(app: typer.Typer) -> None:
    @app.command("compile")
    def compile_command(
        file: Annotated[Path, typer.Argument(help="The .story file.")],
        out: OutOption = None,
        provider: ProviderOption = None,
        templates: TemplatesOption = None,
        allow_path: AllowPathOption = None,
    ) -> None:
        """Write DIR/plan.json and one NN.prompt.txt per clip: exactly what would be sent."""
        compilation = compile_or_exit(file, provider, templates, allow_path)
        assert compilation.plan is not None
        out_dir = out or default_out_dir(file)
        written = write_plan(compilation.plan, out_dir)
        console = Console()
        console.print(plan_table(compilation.plan, console.width, _take_counts(compilation)))
        console.print(plain(f"wrote {len(written)} files to {out_dir}/"))

    @app.command("plan")
    def plan_command(
        file: Annotated[
            Path | None,
            typer.Argument(
                metavar="FILE", help="The .story file (default: the one in this folder)."
            ),
        ] = None,
        provider: ProviderOption = None,
        templates: TemplatesOption = None,
        compare: Annotated[
            bool,
            typer.Option(
                "--compare",
                help="Also show what the story costs on every provider of its model "
                "(always shown for the free preview).",
            ),
        ] = False,
        allow_path: AllowPathOption = None,
        notes: Annotated[
            bool,
            typer.Option("--notes", help="Also list the story's `note:` lines, scene by scene."),
        ] = False,
    ) -> None:
        """Print the clip table: durations, render lengths, slack and estimated cost."""
        file = the_story(file)
        compilation = compile_or_exit(file, provider, templates, allow_path)
        assert compilation.plan is not None
        console = Console()
        console.print(plan_table(compilation.plan, console.width, _take_counts(compilation)))
        if notes:
            for line in notes_lines(compilation):
                console.print(plain(line))
        if compare or compilation.plan.story.provider == "preview":
            table = cost_table(file, compilation)
            if table is not None:
                console.print(table)

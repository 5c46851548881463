"""`storyc compile` (plan.json and one prompt file per clip) and `storyc plan` (the table)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from storyc.cli.options import AllowPathOption, OutOption, ProviderOption
from storyc.cli.shared import compile_or_exit, default_out_dir, the_story
from storyc.frontend import Compilation, compile_file
from storyc.fsutil import write_atomic
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


def plan_table(plan: ClipPlan, width: int | None = None) -> Table:
    """The clip table. Timecodes, lengths and costs never wrap or shrink; the writer's words
    (scene, shots, transition) fold. Narrower than `NARROW` columns (CI logs, pipes, an
    80-column terminal), the scene joins the shots and the render length joins the play
    length, so the table still fits."""
    narrow = width is not None and width < NARROW
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
    number("cost")
    for clip in plan.clips:
        shots = ", ".join(
            f"{s.label or '#' + str(s.index)} ({format_duration(s.end - s.start)}, l.{s.line})"
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
        table.add_row(str(clip.index), *middle, plain(then), f"${clip.cost_usd:.2f}")
    slack = sum(c.slack for c in plan.clips)
    table.caption = (
        f"film {timecode(plan.duration)}, {len(plan.clips)} clips, {plan.render_seconds} s rendered "
        f"({format_duration(slack)} trimmed), estimated cost ${plan.cost_usd:.2f}"
    )
    return table


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
        console.print(plan_table(compilation.plan, console.width))
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
    ) -> None:
        """Print the clip table: durations, render lengths, slack and estimated cost."""
        file = the_story(file)
        compilation = compile_or_exit(file, provider, templates, allow_path)
        assert compilation.plan is not None
        console = Console()
        console.print(plan_table(compilation.plan, console.width))
        if compare or compilation.plan.story.provider == "preview":
            table = cost_table(file, compilation)
            if table is not None:
                console.print(table)

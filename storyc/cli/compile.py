"""`storyc compile` (plan.json and one prompt file per clip) and `storyc plan` (the table)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from storyc.cli.check import OutputFormat, print_diagnostics
from storyc.cli.options import AllowPathOption, OutOption
from storyc.errors import StorycError
from storyc.frontend import Compilation, compile_file
from storyc.language.builder import format_ms
from storyc.plan.schema import ClipPlan
from storyc.sandbox import policy_for
from storyc.terminal import plain

ProviderOption = Annotated[
    str | None,
    typer.Option(
        "--provider",
        "-p",
        help="Compile for this provider instead of the header's (preview, openai, fal, prodia).",
    ),
]
TemplatesOption = Annotated[
    Path | None,
    typer.Option(
        "--templates", help="A folder of your own prompt templates (<family>.j2), searched first."
    ),
]


def default_out_dir(story: Path) -> Path:
    return Path("build") / story.stem


def compile_or_exit(
    path: Path,
    provider: str | None,
    templates: Path | None = None,
    allow_paths: Sequence[Path] | None = None,
) -> Compilation:
    """Compile, show diagnostics, and stop with exit code 1 if there are errors.

    References must live in the story's project folder, in an `allow_paths` folder
    (`--allow-path`) or in one the user's config allows; `compilation.policy` says which."""
    if templates is not None and not templates.is_dir():
        raise StorycError(f"template folder {templates} does not exist", exit_code=2)
    policy = policy_for(path, allow_paths or ())
    compilation = compile_file(path, provider=provider, template_dir=templates, policy=policy)
    shown = [d for d in compilation.diagnostics if d.severity.value != "info"]
    if shown:
        visible = Compilation(compilation.source_path, compilation.source, compilation.story, shown)
        print_diagnostics([visible], OutputFormat.full, Console(stderr=True, soft_wrap=True))
    if compilation.has_errors or compilation.plan is None:
        errors = sum(d.is_error for d in compilation.diagnostics)
        raise StorycError(
            f"{path} has {errors} error{'s' if errors != 1 else ''}; nothing was compiled",
            hint=f"run `storyc check {path}` for the details",
        )
    # The takes a writer picked (`storyc pick`) live in `<stem>.story.lock`; every command
    # that compiles honours them, so plan.json, render and build agree.
    from storyc.plan.takes import apply_picks, read_picks

    assert compilation.story is not None
    picks = read_picks(path)
    if picks:
        compilation.plan = apply_picks(compilation.story, compilation.plan, picks)
    return compilation


def write_plan(plan: ClipPlan, out_dir: Path) -> list[Path]:
    """Write plan.json and NN.prompt.txt atomically; return the written paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / "plan.json"]
    _atomic_write(out_dir / "plan.json", plan.to_json())
    for clip in plan.clips:
        path = out_dir / f"{clip.index:02d}.prompt.txt"
        _atomic_write(path, clip.prompt + "\n")
        written.append(path)
    return written


def _atomic_write(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def plan_table(plan: ClipPlan) -> Table:
    # Title and cells are `Text`: titles, scene names and labels are the writer's words.
    table = Table(
        title=plain(
            f"{plan.story.title}: {plan.story.model} on {plan.story.provider}, {plan.story.size}",
            "table.title",
        )
    )
    for column, justify in (
        ("clip", "right"),
        ("scene", "left"),
        ("shots", "left"),
        ("film at", "right"),
        ("plays", "right"),
        ("renders", "right"),
        ("slack", "right"),
        ("then", "left"),
        ("cost", "right"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for clip in plan.clips:
        shots = ", ".join(
            f"{s.label or '#' + str(s.index)} ({format_ms(s.end - s.start)}, l.{s.line})"
            for s in clip.shots
        )
        then = clip.transition.kind + (
            f" {format_ms(clip.transition.duration)}" if clip.transition.duration else ""
        )
        table.add_row(
            str(clip.index),
            plain(clip.scene),
            plain(shots),
            _timecode(clip.film_start),
            format_ms(clip.duration),
            f"{clip.render_ms // 1000} s",
            format_ms(clip.slack) if clip.slack else "-",
            plain(then),
            f"${clip.cost_usd:.2f}",
        )
    slack = sum(c.slack for c in plan.clips)
    table.caption = (
        f"film {_timecode(plan.duration)}, {len(plan.clips)} clips, {plan.render_seconds} s rendered "
        f"({format_ms(slack)} trimmed), estimated cost ${plan.cost_usd:.2f}"
    )
    return table


def _timecode(ms: int) -> str:
    minutes, rest = divmod(ms, 60_000)
    return f"{minutes}:{rest / 1000:06.3f}"


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
        console.print(plan_table(compilation.plan))
        console.print(plain(f"wrote {len(written)} files to {out_dir}/"))

    @app.command("plan")
    def plan_command(
        file: Annotated[Path, typer.Argument(help="The .story file.")],
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
        compilation = compile_or_exit(file, provider, templates, allow_path)
        assert compilation.plan is not None
        console = Console()
        console.print(plan_table(compilation.plan))
        if compare or compilation.plan.story.provider == "preview":
            table = cost_table(file, compilation)
            if table is not None:
                console.print(table)

"""`storyc board FILE`: DIR/board.html, a storyboard of the story with a picture per shot.

The work is `storyc.board.make.make_board`; this command adds the terminal: the preview's
progress bars (on a terminal), the diagnostics and the notes.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from storyc.board.make import BoardResult, make_board, shown_diagnostics
from storyc.cli.options import AllowPathOption, OutOption, ProviderOption
from storyc.cli.shared import default_out_dir
from storyc.errors import StorycError
from storyc.frontend import Compilation
from storyc.sandbox import policy_for
from storyc.terminal import labelled

if TYPE_CHECKING:
    from storyc.pipeline import RenderStep
    from storyc.plan.schema import ClipPlan
    from storyc.providers.engine import RenderReport


def preview_in_terminal(console: Console) -> RenderStep:
    """The board's render step with bars and a summary, shown only on a terminal."""
    from storyc.cli.progress_view import render_in_terminal

    shown = console if console.is_terminal else Console(file=io.StringIO())

    def render(plan: ClipPlan, out_dir: Path) -> RenderReport:
        return render_in_terminal(plan, out_dir, console=shown, provider="preview")

    return render


def print_board_diagnostics(compilation: Compilation, console: Console) -> None:
    from storyc.cli.shared import OutputFormat, print_diagnostics

    shown = shown_diagnostics(compilation.diagnostics)
    if shown:
        visible = Compilation(compilation.source_path, compilation.source, compilation.story, shown)
        print_diagnostics([visible], OutputFormat.full, console)


def register(app: typer.Typer) -> None:
    @app.command()
    def board(
        file: Annotated[Path, typer.Argument(help="The .story file.")],
        out: OutOption = None,
        provider: ProviderOption = None,
        allow_path: AllowPathOption = None,
    ) -> None:
        """Write DIR/board.html: a storyboard with a picture, the timing and the prompt of
        every shot, and the cost on every provider.

        Clips not rendered yet are rendered with the free preview (cached), so every shot
        has a picture. Open the page in any browser; click a picture to play the shot. Takes
        show side by side; to pick one with a click, serve the board with `storyc watch --serve`.
        Exit status: 0 the board is written, 1 the story has errors (the board then lists them).
        """
        console = Console(stderr=True, soft_wrap=True)
        out_dir = out or default_out_dir(file)
        policy = policy_for(file, allow_path or ())
        result = make_board(
            file, out_dir, provider=provider, render=preview_in_terminal(console), policy=policy
        )
        print_board_diagnostics(result.compilation, console)
        if result.compilation.plan is None:
            errors = sum(d.is_error for d in result.compilation.diagnostics)
            raise StorycError(
                f"{file} has {errors} error{'s' if errors != 1 else ''}; "
                f"the board at {result.path} lists them",
                hint=f"run `storyc check {file}` for the details",
            )
        if result.page is not None:
            for note in result.page.notes:
                console.print(labelled("note:", "yellow", note))
        shots = sum(len(s.cards) for s in result.page.scenes) if result.page else 0
        console.print(
            labelled(
                "board:",
                "green",
                f"{result.path} ({shots} shots, "
                f"{len(result.rendered)} clip(s) rendered with the preview)",
            )
        )


__all__ = ["BoardResult", "make_board", "preview_in_terminal"]

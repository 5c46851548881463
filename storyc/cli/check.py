"""`storyc check FILE...`: every mistake with its line and a fix hint."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from storyc.check.diagnostics import (
    summary_line,
)
from storyc.cli.options import AllowPathOption, ProviderOption
from storyc.cli.shared import OutputFormat, print_diagnostics, stories_in
from storyc.frontend import compile_file
from storyc.sandbox import ReferencePolicy, allowed_paths


def register(app: typer.Typer) -> None:
    @app.command()
    def check(
        files: Annotated[
            list[Path] | None,
            typer.Argument(
                metavar="FILE", help="Story files or folders to check (default: this folder)."
            ),
        ] = None,
        provider: ProviderOption = None,
        output: Annotated[
            OutputFormat,
            typer.Option(
                "--format", help="full: snippets with carets; concise: one line each; json: a list."
            ),
        ] = OutputFormat.full,
        allow_path: AllowPathOption = None,
    ) -> None:
        """Check stories and report every problem with file:line:col, a code and a hint.

        Exit status: 0 clean or warnings only, 1 errors, 2 usage problems.
        """
        console = Console(soft_wrap=True)
        allowed = allowed_paths(allow_path or ())
        compilations = [
            compile_file(path, provider=provider, policy=ReferencePolicy.for_story(path, allowed))
            for path in stories_in(files or [Path()])
        ]
        everything = print_diagnostics(compilations, output, console)
        if output is not OutputFormat.json:
            notes = sum(d.severity.value == "info" for d in everything)
            line = summary_line(everything)
            if notes:
                line += f" ({notes} note{'s' if notes != 1 else ''})"
            Console(stderr=True).print(line, highlight=False)
        if any(d.is_error for d in everything):
            raise typer.Exit(1)

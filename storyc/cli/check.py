"""`storyc check FILE...`: every mistake with its line and a fix hint."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from storyc.check.diagnostics import (
    Diagnostic,
    render_concise,
    render_full,
    render_json,
    sorted_diagnostics,
    summary_line,
)
from storyc.cli.options import AllowPathOption
from storyc.errors import UsageError
from storyc.frontend import Compilation, compile_file
from storyc.sandbox import ReferencePolicy, allowed_paths
from storyc.terminal import plain


class OutputFormat(StrEnum):
    full = "full"
    concise = "concise"
    json = "json"


_STYLE = {"error": "bold red", "warning": "bold yellow", "info": "bold cyan"}


def print_diagnostics(
    compilations: list[Compilation], output: OutputFormat, console: Console
) -> list[Diagnostic]:
    """Show the diagnostics of several files in one format; return them all."""
    everything = sorted_diagnostics(d for c in compilations for d in c.diagnostics)
    if output is OutputFormat.json:
        console.print_json(render_json(everything)) if everything else console.out("[]")
        return everything
    for compilation in compilations:
        for diagnostic in compilation.diagnostics:
            if output is OutputFormat.concise:
                console.print(plain(render_concise(diagnostic)))
                continue
            text = render_full(diagnostic, compilation.source)
            head, _, rest = text.partition("\n")
            # Text, not markup: the message and the snippet are the story's own words.
            console.print(plain(head, _STYLE[diagnostic.severity.value]))
            console.print(plain(rest + "\n"))
    return everything


def stories_in(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(path.rglob("*.story")))
        else:
            found.append(path)
    if not found:
        raise UsageError("no .story files found in the given folders")
    return found


def register(app: typer.Typer) -> None:
    @app.command()
    def check(
        files: Annotated[list[Path], typer.Argument(help="Story files or folders to check.")],
        provider: Annotated[
            str | None,
            typer.Option(
                "--provider",
                "-p",
                help="Check against this provider instead of the header's "
                "(preview, openai, fal, prodia).",
            ),
        ] = None,
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
            for path in stories_in(files)
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

"""`storyc fmt FILE...`: rewrite stories in the canonical layout, proven safe each time."""

from __future__ import annotations

import difflib
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from storyc.cli.shared import stories_in
from storyc.errors import StorycError
from storyc.frontend import read_story
from storyc.fsutil import normalise_newlines, write_atomic
from storyc.terminal import diff_text, labelled, plain
from storyc.tooling.fmt import FormatError, format_checked


def unified_diff(path: Path, before: str, after: str, label: str = "formatted") -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=f"{path}",
            tofile=f"{path} ({label})",
        )
    )


def write_story(path: Path, text: str, original: str) -> None:
    """Replace the file in one step (a crash leaves the old or the new text, never half),
    keeping Windows line endings if the file had them."""
    if "\r\n" in original:
        text = text.replace("\n", "\r\n")
    try:
        write_atomic(path, text)
    except OSError as exc:
        raise StorycError(f"{path}: cannot write it ({exc.strerror})", exit_code=2) from None


def register(app: typer.Typer) -> None:
    @app.command("fmt")
    def fmt_command(
        files: Annotated[list[Path], typer.Argument(help="Story files or folders to format.")],
        check: Annotated[
            bool, typer.Option("--check", help="Write nothing; exit 1 if a file would change.")
        ] = False,
        diff: Annotated[
            bool, typer.Option("--diff", help="Write nothing; print what would change.")
        ] = False,
    ) -> None:
        """Format stories in the one canonical layout.

        Every run proves itself: the result compiles to the same story and prompts,
        formatting it again changes nothing, and every comment survives; otherwise the file
        is left alone and the reason printed.

        Exit status: 0 done (or nothing to change), 1 `--check`/`--diff` found changes,
        2 a file could not be formatted (syntax errors, a failed safety check) or read.
        """
        out = Console(soft_wrap=True, highlight=False)
        err = Console(stderr=True, highlight=False)
        changed: list[Path] = []
        failed = 0
        paths = stories_in(files)
        for path in paths:
            original = read_story(path)
            source = normalise_newlines(original)
            try:
                formatted = format_checked(source)
            except FormatError as exc:
                failed += 1
                err.print(labelled("error:", "bold red", f"{path}: {exc.message}"))
                continue
            if formatted == source:
                continue
            changed.append(path)
            if diff:
                out.out(diff_text(unified_diff(path, source, formatted), out.is_terminal), end="")
            elif check:
                out.print(plain(f"would reformat {path}"))
            else:
                write_story(path, formatted, original)
        verb = "would be reformatted" if check or diff else "reformatted"
        unchanged = len(paths) - len(changed) - failed
        summary = f"{len(changed)} file{'s' if len(changed) != 1 else ''} {verb}"
        summary += f", {unchanged} left unchanged" if unchanged else ""
        summary += f", {failed} could not be formatted" if failed else ""
        sys.stdout.flush()  # the summary goes to stderr: keep it after the diffs
        err.print(summary + ".")
        if failed:
            raise typer.Exit(2)
        if changed and (check or diff):
            raise typer.Exit(1)

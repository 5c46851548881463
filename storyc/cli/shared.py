"""What the commands share: showing diagnostics, finding stories, compiling or stopping.

A command parses its options, calls the library and prints; the printing several commands
do alike lives here, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path

from rich.console import Console

from storyc.check.diagnostics import (
    Diagnostic,
    render_concise,
    render_full,
    render_json,
    sorted_diagnostics,
)
from storyc.cli.story_paths import default_out_dir, the_story  # noqa: F401 (re-exported)
from storyc.errors import StorycError, UsageError
from storyc.frontend import Compilation, compile_file
from storyc.sandbox import policy_for
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
    return compilation

"""`storyc import FILE.fountain [-o FILE.story]`: a Fountain screenplay as a story.

The screenplay is read with the bounds of a story (a regular file of at most 16 MB, UTF-8,
a byte order mark dropped), converted by `storyc.tooling.fountain_import`, checked, and
written in one step (`write_atomic`) beside it as `NAME.story` unless `-o` says where. An
existing file is never replaced without `--force`. (The module is not `import.py`: `import`
is a Python keyword.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from storyc.check.diagnostics import has_errors
from storyc.errors import StorycError, UsageError
from storyc.fsutil import write_atomic
from storyc.language.fountain import parse_fountain
from storyc.language.source import decode_story, read_story_bytes
from storyc.plan.capabilities import load_table
from storyc.terminal import labelled, plain
from storyc.tooling.fountain_import import Imported, import_fountain

DEFAULT_MODEL = "sora-2"
"""The model a story without `model:` uses (and `storyc init` writes)."""


def read_fountain(path: Path) -> str:
    """The screenplay's text, read as a story is read: refused unless a regular UTF-8 file
    within the size cap."""
    return decode_story(read_story_bytes(path), str(path))


def import_file(source: Path, *, model: str = DEFAULT_MODEL) -> Imported:
    """The story for the Fountain screenplay at `source` (nothing is written)."""
    table = load_table()
    offerings = [o for o in table.offerings if o.model == model]
    if not offerings:
        raise UsageError(
            f"`{model}` is not a model storyc knows",
            hint=f"one of: {', '.join(table.models())}",
        )
    title = source.stem.replace("_", " ").replace("-", " ").strip() or "Imported screenplay"
    return import_fountain(
        parse_fountain(read_fountain(source)),
        source_name=source.name,
        fallback_title=title,
        model=model,
        lengths=offerings[0].lengths,
    )


def register(app: typer.Typer) -> None:
    @app.command("import")
    def import_command(
        source: Annotated[
            Path, typer.Argument(metavar="FILE", help="The Fountain screenplay (.fountain).")
        ],
        output: Annotated[
            Path | None,
            typer.Option(
                "--output", "-o", metavar="FILE", help="The story to write (default: FILE.story)."
            ),
        ] = None,
        force: Annotated[
            bool, typer.Option("--force", help="Replace the output file if it exists.")
        ] = False,
        model: Annotated[
            str,
            typer.Option(
                "--model",
                metavar="MODEL",
                help="The story's model: its clip lengths bound each shot's length.",
            ),
        ] = DEFAULT_MODEL,
    ) -> None:
        """Turn a Fountain screenplay into a story that checks clean.

        Scene headings become scenes and locations, action paragraphs shots, character cues
        dialogue and characters (with looks to describe). The story's header comment says
        what was guessed. Then `storyc check` and `storyc plan` the result.
        """
        target = output if output is not None else source.with_suffix(".story")
        if target.suffix.lower() == ".fountain" or target.resolve() == source.resolve():
            raise UsageError(
                f"{target} is the screenplay itself", hint="write to a .story file: -o FILE.story"
            )
        if (target.exists() or target.is_symlink()) and not force:
            raise UsageError(
                f"{target} already exists; storyc import writes nothing over it",
                hint="choose another file with -o, or replace it with --force",
            )
        imported = import_file(source, model=model)
        _refuse_errors(imported, target)
        try:
            write_atomic(target, imported.text)
        except OSError as exc:
            raise StorycError(f"{target}: cannot write it ({exc.strerror})", exit_code=2) from None
        console = Console()
        console.print(labelled("created:", "green", target))
        console.print(
            plain(
                f"{imported.scenes} scenes, {imported.shots} shots, "
                f"{len(set(imported.speakers.values()))} characters, "
                f"{len(imported.speeches)} lines of dialogue"
            )
        )
        console.print(plain(f"next: describe each character's look, then storyc check {target}"))


def _refuse_errors(imported: Imported, target: Path) -> None:
    """An import that would not check clean is a bug: say so rather than write it."""
    from storyc.frontend import analyze_source

    result = analyze_source(imported.text, str(target), want_plan=False)
    if has_errors(result.diagnostics):
        first = next(d for d in result.diagnostics if d.is_error)
        raise StorycError(
            f"the imported story would not check clean ({first.code} at line "
            f"{first.span.line}: {first.message}); nothing was written",
            hint="please report it with the screenplay",
        )

"""`storyc init [DIR]`: a new project that checks clean and builds with the free preview.

Writes DIR/NAME.story (NAME is DIR's name), DIR/refs/ for reference pictures and clips,
DIR/storyc.toml (it marks the project folder and holds the lint settings, see
docs/config.md) and DIR/.gitignore (the build output and storyc's cache). It never
overwrites: if one of those files is already there, nothing is written.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from storyc.errors import UsageError
from storyc.terminal import labelled, plain

STORY_TEMPLATE = """\
# A new story. Edit it, then: storyc check, storyc plan, storyc build.
# The language: docs/language.md in storyc's repository, or `storyc rule` for the checks.
title: {title}
model: sora-2
size: 1280x720
style: 35mm film look, warm grade, shallow depth of field

# Reference pictures and clips go in refs/, e.g.  cameo ana: "refs/ana.png"
character ana:
    look: a woman in her 30s in a yellow raincoat

location pier:
    look: a wooden pier at dawn, calm grey sea
    light: soft overcast morning light

scene "First light" at pier:
    shot wide 4s:
        camera: slow dolly in along the pier
        action: @ana walks to the end of the pier and stops.
        ambient: gulls, gentle waves against the posts

    cut crossfade 0.5s

    shot close-up 4s:
        camera: close-up, handheld, slight drift
        action: @ana looks out to sea and smiles.
        @ana (quietly): "Right on time."
"""

CONFIG_TEMPLATE = """\
# This file marks the project folder: a story may only read files inside it (plus the
# folders you allow with --allow-path or in ~/.config/storyc/config.toml).
# Which rules `storyc check` and `storyc lint` report: codes (S101), names
# (undeclared-name), prefixes (S1) or ALL. The reference is docs/config.md.
select = ["ALL"]
ignore = []
"""

GITIGNORE_TEMPLATE = """\
# storyc: the films, clips and plans it writes, and its render cache
build/
.storyc/
"""


def story_name(folder: Path) -> str:
    """A file name for the story from its folder's name (`My Film` -> `my-film`)."""
    name = re.sub(r"[^\w.-]+", "-", folder.resolve().name.strip().lower()).strip("-.")
    return name or "story"


def init_project(folder: Path) -> list[Path]:
    """Write a new project into `folder` (made if missing); return the paths written."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} is a file, not a folder")
    name = story_name(folder)
    title = name.replace("-", " ").replace("_", " ").strip().capitalize() or "Story"
    files = {
        folder / f"{name}.story": STORY_TEMPLATE.format(title=title),
        folder / "storyc.toml": CONFIG_TEMPLATE,
        folder / ".gitignore": GITIGNORE_TEMPLATE,
    }
    existing = [path for path in files if path.exists() or path.is_symlink()]
    refs = folder / "refs"
    if refs.exists() and not refs.is_dir():
        existing.append(refs)
    if existing:
        raise UsageError(
            f"{', '.join(str(p) for p in existing)} already exist{'s' if len(existing) == 1 else ''}; "
            "storyc init writes nothing over an existing file",
            hint="choose a new folder: storyc init DIR",
        )
    refs.mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        with path.open("x", encoding="utf-8", newline="\n") as out:
            out.write(text)
    return [*files, refs]


def register(app: typer.Typer) -> None:
    @app.command("init")
    def init_command(
        folder: Annotated[
            Path,
            typer.Argument(
                metavar="DIR",
                help="The folder of the new project (made if missing; default: here).",
            ),
        ] = Path("."),
    ) -> None:
        """Start a new project: a story that checks clean, refs/, storyc.toml, .gitignore.

        Then `cd DIR && storyc build` makes its film with the free offline preview.
        Existing files are never overwritten.
        """
        written = init_project(folder)
        console = Console()
        story = written[0]
        console.print(
            labelled("created:", "green", f"{story}, {written[1]}, {written[2]}, {written[3]}/")
        )
        where = "" if folder.resolve() == Path.cwd() else f"cd {folder} && "
        console.print(plain(f"next: {where}storyc check && storyc build  (the free preview)"))

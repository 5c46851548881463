"""Which story a command means and where its output goes: path logic alone, so a command can
find its files without importing the front end (`storyc build` checks its stamp first)."""

from __future__ import annotations

from pathlib import Path

from storyc.errors import UsageError


def the_story(file: Path | None) -> Path:
    """The story a command was given, or else the one `.story` file in the working folder
    (so `storyc init demo && cd demo && storyc build` needs no file name)."""
    if file is not None:
        return file
    here = sorted(Path().glob("*.story"))
    if len(here) == 1:
        return here[0]
    if not here:
        raise UsageError(
            "no story named and no .story file in this folder",
            hint="name one (storyc build FILE), or start one with `storyc init DIR`",
        )
    raise UsageError(
        f"{len(here)} .story files here ({', '.join(p.name for p in here)}); name the one you mean"
    )


def default_out_dir(story: Path) -> Path:
    return Path("build") / story.stem

"""Where the grammar and templates live, both in a wheel and in a source checkout.

A wheel carries them as `storyc/_shipped/{grammar,templates}` (see pyproject's
force-include); an editable install or a plain checkout reads the top-level folders.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def shipped_dir(name: str) -> Path:
    """Return the folder `name` ("grammar" or "templates") that this install uses."""
    for candidate in (_PACKAGE_DIR / "_shipped" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"storyc is installed without its {name} folder")


def grammar_path() -> Path:
    return shipped_dir("grammar") / "story.lark"


def templates_dir() -> Path:
    return shipped_dir("templates")

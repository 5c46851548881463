"""A small two-scene story for the board and watch tests, written into a temp folder."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

STORY = """\
title: Two <Rooms> & a Hall
model: sora-2
size: 1280x720
seed: 7

cameo mara: "refs/mara.mp4"
    look: barista in her 30s, green apron

scene "Kitchen":
    shot wide 4s:
        camera: slow dolly in
        light: warm tungsten
        action: @mara opens the fridge.
        sfx: the fridge hums

    shot close-up 4s:
        camera: close-up on the hands
        action: @mara pours milk into a glass.
        @mara (quietly): "Last one."

scene "Hall":
    shot medium 4s:
        camera: locked-off medium shot
        action: the hall light flickers on.
        ambient: distant traffic
"""

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CHROMIUM = Path("/usr/bin/chromium")


def write_story(folder: Path, text: str = STORY, name: str = "rooms.story") -> Path:
    """The story plus the cameo reference it names, in `folder`."""
    (folder / "refs").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(EXAMPLES / "refs" / "mara.mp4", folder / "refs" / "mara.mp4")
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Debian's chromium, headless, driven by PyPI playwright; the test skips (saying why)
    where either is missing."""
    import pytest

    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (/usr/bin/chromium); .ci/run installs it")
    sync_api = pytest.importorskip("playwright.sync_api", reason="PyPI playwright not installed")
    with sync_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()

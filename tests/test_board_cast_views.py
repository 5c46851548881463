"""The board's cast strip shows a cameo's further images (`side:`, `back:`, `outfit:`), each
as a still made through the story's sandbox, in the order the planner sends them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image

from storyc.board.make import make_board

STORY = """\
title: Views
model: sora-2
size: 1280x720

cameo mara: "refs/mara.png"
    look: barista in her 30s
    outfit: "refs/mara-apron.png"
    side: "refs/mara-side.png"

scene "Cafe":
    shot wide 2s:
        camera: static
        action: @mara wipes the counter.
"""


def _write(folder: Path, text: str = STORY) -> Path:
    refs = folder / "refs"
    refs.mkdir(parents=True, exist_ok=True)
    for name, colour in (("mara", (200, 40, 40)), ("mara-side", (40, 200, 40))):
        Image.new("RGB", (320, 320), colour).save(refs / f"{name}.png")
    Image.new("RGB", (320, 320), (40, 40, 200)).save(refs / "mara-apron.png")
    story = folder / "views.story"
    story.write_text(text, encoding="utf-8")
    return story


def _views(html: str) -> list[tuple[str, str]]:
    """(view key, the img src or "" when it has no still) per view, in page order."""
    spans = re.findall(r'<span class="view" data-view="(\w+)"[^>]*>(.*?)</span>', html)
    return [(key, (re.findall(r'src="([^"]+)"', inner) or [""])[0]) for key, inner in spans]


def test_cast_strip_shows_each_view_with_its_still(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORYC_CACHE_DIR", str(tmp_path / "cache"))
    story = _write(tmp_path)
    make_board(story, tmp_path / "out")
    html = (tmp_path / "out" / "board.html").read_text(encoding="utf-8")
    views = _views(html)
    assert [key for key, _ in views] == ["side", "outfit"]  # the order they are sent in
    colours = []
    for _key, src in views:
        with Image.open(tmp_path / "out" / src) as still:
            colours.append(still.convert("RGB").resize((1, 1)).getpixel((0, 0)))
    side, outfit = colours
    assert side[1] > 150 > side[0]  # the green side view
    assert outfit[2] > 150 > outfit[0]  # the blue outfit
    assert 'title="side · mara-side.png"' in html and "refs/mara-side" not in html

    # Built again: the view stills are kept (not pruned as stale), nothing new is made.
    before = sorted(p.name for p in (tmp_path / "out" / "board").iterdir())
    make_board(story, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out" / "board").iterdir()) == before


def test_view_names_are_text_not_markup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYC_CACHE_DIR", str(tmp_path / "cache"))
    story = _write(tmp_path, STORY.replace("refs/mara-side.png", "refs/<b>side.png"))
    Image.new("RGB", (64, 64), (40, 200, 40)).save(tmp_path / "refs" / "<b>side.png")
    make_board(story, tmp_path / "out")
    html = (tmp_path / "out" / "board.html").read_text(encoding="utf-8")
    assert "side · &lt;b&gt;side.png" in html and "<b>side" not in html

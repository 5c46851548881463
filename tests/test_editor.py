"""The editor's questions answered from the model (the LSP tests cover the protocol)."""

from __future__ import annotations

import pytest

from storyc.check.provider import FileFacts
from storyc.frontend import analyze_source
from storyc.language.model import Story
from storyc.tooling.editor import (
    RenameRefused,
    completions,
    folding_ranges,
    hover_text,
    rename_edits,
    symbol_at,
    timecode,
)
from storyc.tooling.lint import apply_edits

SOURCE = """\
title: T
model: sora-2

preset golden:
    light: low sun

location cafe:
    look: a narrow corner cafe
    ambient: quiet chatter

character mara:
    look: a barista

scene "One" at cafe:
    shot 4s with golden:
        action: @mara opens.
"""


def story(source: str = SOURCE) -> Story:
    result = analyze_source(source, "t.story", read_facts=lambda _p: FileFacts(exists=False))
    assert result.story is not None
    return result.story


def at(needle: str, shift: int = 0) -> tuple[int, int]:
    index = SOURCE.index(needle) + shift
    line = SOURCE[:index].count("\n") + 1
    return line, index - SOURCE.rfind("\n", 0, index)


def test_hover_on_a_preset_and_a_location_shows_their_cues() -> None:
    s = story()
    preset = symbol_at(s, *at("golden:\n        action", 1))
    assert preset is not None and preset.kind == "preset"
    assert "- light: low sun" in hover_text(s, preset, None)
    location = symbol_at(s, *at("cafe:\n    shot", 1))
    assert location is not None and location.kind == "location"
    text = hover_text(s, location, None)
    assert "- look: a narrow corner cafe" in text and "- ambient: quiet chatter" in text


def test_completion_after_with_and_at() -> None:
    lines = SOURCE.split("\n")
    line = lines.index("    shot 4s with golden:") + 1
    names = [e.label for e in completions(SOURCE, story(), line, len("    shot 4s with g") + 1)]
    assert names == ["golden"]
    line = lines.index('scene "One" at cafe:') + 1
    places = [e.label for e in completions(SOURCE, story(), line, len('scene "One" at ') + 1)]
    assert places == ["cafe"]


def test_rename_a_preset_everywhere() -> None:
    s = story()
    target = symbol_at(s, *at("golden:\n    light", 1))
    assert target is not None
    renamed = apply_edits(SOURCE, rename_edits(s, target, "dusk"))
    assert "preset dusk:" in renamed and "with dusk:" in renamed and "golden" not in renamed


@pytest.mark.parametrize(("new", "why"), [("two words", "is not a name"), ("cafe", None)])
def test_rename_refuses_bad_names(new: str, why: str | None) -> None:
    s = story()
    target = symbol_at(s, *at("golden:\n    light", 1))
    assert target is not None
    if why is None:
        rename_edits(s, target, new)  # a preset may share a location's name
        return
    with pytest.raises(RenameRefused, match=why):
        rename_edits(s, target, new)


def test_a_name_cannot_take_a_declared_one() -> None:
    source = SOURCE.replace("character mara:", "character kid:\n    look: a boy\n\ncharacter mara:")
    s = story(source)
    line = source[: source.index("@mara")].count("\n") + 1
    mara = symbol_at(s, line, len("        action: @m"))
    assert mara is not None and mara.name == "mara"
    with pytest.raises(RenameRefused, match="already declared"):
        rename_edits(s, mara, "kid")


def test_folding_covers_blocks_and_shots() -> None:
    ranges = folding_ranges(SOURCE)
    assert (14, 16) in ranges and (15, 16) in ranges and (4, 5) in ranges


def test_timecode() -> None:
    assert [timecode(ms) for ms in (0, 4000, 62_500, 61_050)] == [
        "0:00.000",
        "0:04.000",
        "1:02.500",
        "1:01.050",
    ]

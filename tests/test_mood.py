"""`mood:` is a cue like `light:`: layered, worded by every template, said once when shared."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyc.frontend import analyze_source

STORY = """title: Mood
model: {model}
clips: packed

location dock:
    look: a wooden dock at night
    mood: tense, hushed

scene "One" at dock:
    shot wide 4s:
        action: A boat drifts in.
    shot close-up 4s:
        action: A rope tightens.
        mood: sudden relief
"""


@pytest.mark.parametrize("model", ["sora-2", "veo-3.1", "kling-3-pro"])
def test_mood_reaches_every_template(model: str, tmp_path: Path) -> None:
    result = analyze_source(STORY.format(model=model), str(tmp_path / "m.story"))
    assert not result.has_errors, result.diagnostics
    text = "\n".join(result.prompts)
    assert "Mood: Tense, hushed" in text
    assert "Mood: Sudden relief" in text


def test_a_mood_every_shot_shares_is_said_once(tmp_path: Path) -> None:
    same = STORY.format(model="sora-2").replace("        mood: sudden relief\n", "")
    result = analyze_source(same, str(tmp_path / "m.story"))
    assert not result.has_errors, result.diagnostics
    [prompt] = result.prompts
    assert prompt.count("Mood: Tense, hushed") == 1


def test_mood_is_not_an_unknown_key(tmp_path: Path) -> None:
    result = analyze_source(STORY.format(model="sora-2"), str(tmp_path / "m.story"))
    assert not any(d.code == "S107" for d in result.diagnostics)

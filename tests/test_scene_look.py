"""A scene varies its location: its own `look:` (the prompt's Setting) and cues over the
location's (docs/language.md, "A scene's own look of its location")."""

from __future__ import annotations

from storyc.frontend import analyze_source
from storyc.plan.keyframes import keyframe_prompt
from storyc.tooling.fmt import format_checked

STORY = """\
title: Two Times
provider: preview

location dock:
    look: a wooden dock on a grey harbour
    light: sodium lamps, deep night
    ambient: water lapping at the pilings

scene "Night" at dock:
    shot wide 4s:
        action: a ferry leaves the dock.

scene "Dawn" at dock:
    look: the same wooden dock at dawn, mist on the water
    light: low pink sun through the mist

    shot wide 4s:
        action: gulls land on the empty dock.
"""


def test_a_scene_look_checks_clean_and_is_the_scenes() -> None:
    analysis = analyze_source(STORY, "two.story")
    assert [d.code for d in analysis.diagnostics] == []
    night, dawn = analysis.story.scenes
    assert night.look is None
    assert dawn.look == "the same wooden dock at dawn, mist on the water"
    assert dawn.look_span is not None and dawn.look_span.line == 14
    assert all(c.key != "look" for c in dawn.cues)  # not a cue folded into the shots


def test_the_prompts_show_the_variation() -> None:
    plan = analyze_source(STORY, "two.story").plan
    assert plan is not None
    night, dawn = (clip.prompt for clip in plan.clips)
    assert "Setting: A wooden dock on a grey harbour" in night
    assert "Sodium lamps, deep night" in night
    assert "Setting: The same wooden dock at dawn, mist on the water" in dawn
    assert "grey harbour" not in dawn and "Sodium" not in dawn
    assert "Low pink sun through the mist" in dawn
    assert "Water lapping at the pilings" in night and "Water lapping at the pilings" in dawn


def test_the_keyframe_prompt_uses_the_scene_look() -> None:
    story = analyze_source(STORY, "two.story").story
    assert "Setting: the same wooden dock at dawn" in keyframe_prompt(story, 2)
    assert "Setting: a wooden dock on a grey harbour" in keyframe_prompt(story, 1)


def test_two_looks_join_and_fmt_keeps_them() -> None:
    text = STORY.replace(
        "    light: low pink sun", "    look: gulls on the railings\n    light: low pink sun"
    )
    story = analyze_source(text, "two.story").story
    assert story.scenes[1].look == (
        "the same wooden dock at dawn, mist on the water; gulls on the railings"
    )
    assert format_checked(STORY) == STORY

"""The shortcuts that keep checking and planning fast at 10,000 shots say what the long way
says (issue 15): each test pits one against the plain computation it stands for.

The whole front end is also compared before and after such changes with
`bench/dump_outputs.py` (diagnostics, plans and prompts of the golden corpus, every rule's
examples and generated stories, for every row of the model table)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from storyc.check.habits import screenplay_speaker
from storyc.frontend import analyze_source
from storyc.language.builder import build_story
from storyc.language.model import Story
from storyc.language.parse import parse_story
from storyc.plan.capabilities import load_table
from storyc.plan.planner import cameos_in, group_clips
from storyc.plan.prompt import render_prompts

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from compile import generate_story  # noqa: E402


def _story(text: str, file: str = "<story>") -> Story:
    parsed = parse_story(text, file)
    story, _ = build_story(parsed.items, parsed.source, file)
    return story


def _people(*names: str) -> str:
    declared = "".join(f"character {n}:\n    look: someone\n" for n in names)
    shot = 'scene "S":\n    shot 4s:\n        action: rain.\n'
    return f"title: T\nmodel: sora-2\n\n{declared}\n{shot}"


def test_a_screenplay_speaker_is_looked_up_in_the_story_asked_about() -> None:
    # The names are kept for the last story asked about; asking about another must not
    # answer from the first one's people.
    ines, theo = _story(_people("ines")), _story(_people("Theo", "theo"))
    for _ in range(2):
        assert screenplay_speaker("INES", ines) == "ines"
        assert screenplay_speaker("ines", theo) is None
        assert screenplay_speaker("THEO", theo) == "Theo"  # the first of a name wins
        assert screenplay_speaker("theo", ines) is None


@pytest.mark.parametrize("row", load_table().offerings, ids=lambda o: f"{o.provider}-{o.model}")
def test_grouped_clips_name_the_cameos_their_shots_name(row: object) -> None:
    story = _story(generate_story(300, seed=3), str(ROOT / "examples" / "bench.story"))
    drafts = group_clips(story, row)  # type: ignore[arg-type]
    assert any(d.cameo_names for d in drafts)
    for draft in drafts:
        assert draft.cameo_names == cameos_in(draft.shots, story)


@pytest.mark.parametrize(
    "camera",
    ["wide, then CUT TO a close-up", "Smash Cut to the street", "a jump cut, then calm"],
)
def test_a_cut_inside_a_camera_cue_is_found_in_any_case(camera: str) -> None:
    text = f'title: T\nmodel: sora-2\n\nscene "S":\n    shot 4s:\n        camera: {camera}\n        action: rain.\n'
    assert "C302" in {d.code for d in analyze_source(text).diagnostics}


def test_a_cut_word_that_is_no_cut_is_left_alone() -> None:
    text = 'title: T\nmodel: sora-2\n\nscene "S":\n    shot 4s:\n        camera: the cutlery, then a haircut\n        action: rain.\n'
    assert "C302" not in {d.code for d in analyze_source(text).diagnostics}


def test_prompts_rendered_twice_are_the_same() -> None:
    # The context is converted to attributes in place and cues are cased through a cache:
    # nothing of one render may leak into the next.
    story = _story(generate_story(120, seed=5), str(ROOT / "examples" / "bench.story"))
    row = load_table().offering("openai", "sora-2")
    assert row is not None
    first = render_prompts(group_clips(story, row), story, row)
    again = render_prompts(group_clips(story, row), story, row)
    assert first == again
    assert all("\ue000" not in p and "\ue001" not in p for p in first)

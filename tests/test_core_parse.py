"""The grammar accepts every shared example as written and keeps free text free."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyc.language.builder import build_story
from storyc.language.parse import parse_story
from storyc.units import parse_duration
from tests.conftest import example_paths

SHARED = Path(__file__).resolve().parents[2] / "shared" / "spec" / "examples-v1"


@pytest.mark.parametrize("path", example_paths(), ids=lambda p: p.name)
def test_every_example_parses_without_diagnostics(path: Path) -> None:
    parsed = parse_story(path.read_text(), str(path))
    assert parsed.diagnostics == []
    story, problems = build_story(parsed.items, parsed.source, str(path))
    assert problems == []
    assert story.header.title
    assert story.shots


@pytest.mark.skipif(
    not SHARED.is_dir(), reason="the shared spec folder is not beside this checkout"
)
def test_examples_are_the_shared_ones_unchanged() -> None:
    for shared in sorted(SHARED.glob("*.story")):
        assert (
            Path(__file__).resolve().parent.parent / "examples" / shared.name
        ).read_text() == shared.read_text()


def _one_shot(body: str) -> str:
    return f'title: T\nscene "S":\n    shot 4s:\n        {body}\n'


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("action: flower #7 and C# minor", "flower #7 and C# minor"),
        ('action: a sign reading "no # here" # a comment', 'a sign reading "no # here"'),
        ("lens: 35mm, f/2.8, 0:04 — ünïcode 🎬", "35mm, f/2.8, 0:04 — ünïcode 🎬"),
        ("action: #hashtag at start", "#hashtag at start"),
        ("action: it's Mara's \"12\" record", "it's Mara's \"12\" record"),
        ("action: a # real comment", "a"),
    ],
)
def test_free_text_passes_through_untouched(line: str, expected: str) -> None:
    parsed = parse_story(_one_shot(line))
    assert parsed.diagnostics == []
    story, _ = build_story(parsed.items, parsed.source)
    assert story.shots[0].own_cues[0].text == expected


def test_comments_stand_anywhere() -> None:
    source = (
        "# opening comment\n"
        "title: T   # trailing\n"
        "#\n"
        'scene "S":  # after a block header\n'
        "    # inside a scene\n"
        "    shot 4s: # after a shot header\n"
        "        # inside a shot\n"
        "# at column one inside a block\n"
        "        action: x\n"
    )
    parsed = parse_story(source)
    assert parsed.diagnostics == []
    story, _ = build_story(parsed.items, parsed.source)
    assert story.header.title == "T"
    assert story.shots[0].cue("action") == "x"


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("4s", 4000),
        ("3.5s", 3500),
        ("0:04", 4000),
        ("1500ms", 1500),
        ("1:02.5", 62500),
        ("0.25s", 250),
    ],
)
def test_durations(text: str, ms: int) -> None:
    assert parse_duration(text) == ms


def test_spans_point_at_the_source() -> None:
    source = _one_shot("action: @mara waves")
    parsed = parse_story(source)
    story, _ = build_story(parsed.items, parsed.source)
    ref = story.shots[0].own_cues[0].references[0]
    assert (ref.name, ref.span.line, ref.span.column, ref.span.end_column) == ("mara", 4, 17, 22)


def test_possessive_reference_resolves_to_the_name() -> None:
    parsed = parse_story(_one_shot("action: @mara's cup steams"))
    story, _ = build_story(parsed.items, parsed.source)
    assert [r.name for r in story.shots[0].own_cues[0].references] == ["mara"]


def test_presets_and_locations_fold_into_shots_with_the_shot_winning() -> None:
    source = (
        "title: T\n"
        "location cafe:\n    look: brick walls\n    light: tungsten\n    ambient: chatter\n"
        "preset storm:\n    light: overcast\n    sfx: thunder\n"
        'scene "S" at cafe:\n'
        "    shot 4s with storm:\n        action: x\n        sfx: a cup breaks\n"
    )
    parsed = parse_story(source)
    story, _ = build_story(parsed.items, parsed.source)
    shot = story.shots[0]
    assert shot.cue("light") == "overcast"
    assert shot.cue("ambient") == "chatter"
    assert shot.cue("sfx") == "a cup breaks"
    assert {c.key: c.origin for c in shot.cues}["light"] == "preset"


def test_transitions_attach_to_the_shot_before_them() -> None:
    source = (
        'title: T\nscene "A":\n    shot 4s:\n        action: x\n    cut crossfade 0.5s\n'
        "    shot 4s:\n        action: y\n"
        "cut dip 1s\n"
        'scene "B":\n    shot 4s:\n        action: z\n'
    )
    parsed = parse_story(source)
    story, _ = build_story(parsed.items, parsed.source)
    first, second = story.scenes
    assert first.transitions[0] is not None and first.transitions[0].kind == "crossfade"
    assert first.transitions[0].duration_ms == 500
    assert first.transitions[1] is not None and first.transitions[1].kind == "dip"
    assert second.transitions == (None,)

"""The editor's caches (built scenes, rendered prompts): an analysis that reuses them is
byte-for-byte the one that builds and renders everything again, whatever the edit history
(issue 15, item 3)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lark import Token, Tree

from storyc.check.provider import FileFacts, resolve_offering
from storyc.language.builder import build_story
from storyc.language.parse import parse_block, parse_story
from storyc.plan.capabilities import load_table
from storyc.plan.planner import group_clips
from storyc.plan.prompt import PromptCache, render_prompt, render_prompts
from storyc.tooling.incremental import Analysis, DocumentAnalyzer

STORY = """\
title: T
model: kling-3-pro
style: warm grade

character mara:
    look: a barista
    voice: warm alto

character ben:
    look: a courier

location cafe:
    look: a corner cafe
    light: tungsten

preset moody:
    light: low key
    music: cello

scene "One" at cafe:
    shot wide 4s:
        camera: slow dolly in
        action: @mara opens the door.

    shot 4s:
        action: @ben waves.
        @mara (quietly): "Morning."

scene "Two":
    shot 5s with moody:
        action: @mara leaves.
        avoid: text

    shot 3s:
        action: @ben follows.
"""

EDITS = [
    "",
    "x",
    "        action: @ben runs.",
    "        light: neon",
    "    shot 4s:",
    "    look: a tall barista",
    "style: cold grade",
    "model: sora-2",
    '        @ben: "Hi."',
    "",
    "    cut fade 1s",
    "cut crossfade 0.5s",
    'scene "Three" at cafe:',
    "    shot 2s with moody:",
    "preset moody:",
    "location cafe:",
    "    light: harsh noon",
    "    music: brass band",
    "    camera: handheld",
    "    avoid: logos",
    "# a comment",
    "        action: @ben runs.  # quick",
    "    shot 2s:  # storyc: ignore[S104]",
]


def analyzer(cached: bool) -> DocumentAnalyzer:
    a = DocumentAnalyzer("/tmp/t.story", read_facts=lambda _p: FileFacts(exists=False))
    if not cached:
        a.prompt_cache = None
        a.scene_cache = None
        a.shift_moved_blocks = False
    return a


def seen(analysis: Analysis) -> tuple[list[str], list[str], str, list[list[str]], list[str]]:
    story = analysis.compilation.story
    # `repr` shows every field of every node; the fields set are compared on their own.
    fields_set = [sorted(s.model_fields_set) for s in story.shots] if story else []
    return (
        [repr(d) for d in analysis.diagnostics],
        list(analysis.compilation.prompts),
        repr(story),
        fields_set,
        [repr(c) for c in analysis.comments],
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 60),
            st.sampled_from(["replace", "insert", "delete"]),
            st.sampled_from(EDITS),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_cached_prompts_are_what_rendering_again_gives(edits: list[tuple[int, str, str]]) -> None:
    cached = analyzer(cached=True)
    text = STORY
    first = cached.analyze(text, 1)
    assert first.compilation.prompts  # the story is planned: prompts are compared
    for version, (line, how, new) in enumerate(edits, start=2):
        lines = text.split("\n")
        index = line % len(lines)
        if how == "replace":
            lines[index] = new
        elif how == "insert":
            lines.insert(index, new)
        else:
            del lines[index]
        text = "\n".join(lines)
        assert seen(cached.analyze(text, version)) == seen(analyzer(cached=False).analyze(text))


def test_a_cache_hit_gives_the_shot_prompts_too() -> None:
    parsed = parse_story(STORY, "/tmp/t.story")
    story, _ = build_story(parsed.items, parsed.source, "/tmp/t.story")
    offering, _ = resolve_offering(story, load_table(), story.header.provider, "/tmp/t.story")
    assert offering is not None
    fresh = group_clips(story, offering)
    expected = [render_prompt(d, story, offering) for d in fresh]
    assert any(d.shot_prompts for d in fresh)  # a packed kling clip is sent shot by shot
    cache: PromptCache = {}
    for _ in range(2):  # the second round is all hits
        drafts = group_clips(story, offering)
        assert render_prompts(drafts, story, offering, None, cache) == expected
        assert [d.shot_prompts for d in drafts] == [d.shot_prompts for d in fresh]
    assert 0 < len(cache) <= len(expected)


def test_the_cache_holds_only_the_current_story() -> None:
    a = analyzer(cached=True)
    a.analyze(STORY, 1)
    assert a.prompt_cache
    before = set(a.prompt_cache)
    a.analyze(STORY.replace("@mara opens the door.", "@mara shuts the door."), 2)
    after = set(a.prompt_cache)
    assert len(after) == len(before) and len(before - after) == 1


def test_an_edit_in_one_scene_builds_that_scene_alone() -> None:
    a = analyzer(cached=True)
    a.analyze(STORY, 1)
    assert a.scene_cache is not None
    a.scene_cache.hits = a.scene_cache.misses = 0
    edited = a.analyze(STORY.replace("@ben follows.", "@ben runs after her."), 2)
    assert (a.scene_cache.hits, a.scene_cache.misses) == (1, 1)
    assert edited.story is not None
    assert edited.story.scenes[1].shots[1].cue("action") == "@ben runs after her."
    assert seen(edited) == seen(analyzer(cached=False).analyze(edited.source))


def test_a_changed_declaration_builds_the_scenes_that_use_it_again() -> None:
    a = analyzer(cached=True)
    a.analyze(STORY, 1)
    assert a.scene_cache is not None
    a.scene_cache.hits = a.scene_cache.misses = 0
    edited = a.analyze(STORY.replace("light: tungsten", "light: neon").replace("cello", "harp"), 2)
    assert edited.story is not None
    one, two = edited.story.scenes
    assert [s.cue("light") for s in one.shots] == ["neon", "neon"]  # scene One is at cafe
    assert two.shots[0].cue("music") == "harp"  # its first shot is `with moody`
    assert a.scene_cache.misses == 2 and a.scene_cache.hits == 0
    assert seen(edited) == seen(analyzer(cached=False).analyze(edited.source))


def test_a_scene_that_moved_is_numbered_and_placed_anew() -> None:
    a = analyzer(cached=True)
    a.analyze(STORY, 1)
    assert a.scene_cache is not None
    a.scene_cache.hits = a.scene_cache.misses = 0
    moved = STORY.replace('scene "One" at cafe:\n', 'scene "One" at cafe:\n    shot 1s:\n', 1)
    edited = a.analyze(moved, 2)
    assert edited.story is not None
    last = edited.story.scenes[1].shots[-1]
    assert last.index == 5 and last.span.line == STORY.split("\n").index("    shot 3s:") + 2
    # Scene One changed; scene Two, one line lower and one shot later, is built again.
    assert (a.scene_cache.hits, a.scene_cache.misses) == (0, 2)
    assert seen(edited) == seen(analyzer(cached=False).analyze(moved))


def test_a_moved_scene_keeps_the_spans_of_what_it_folds_in() -> None:
    a = analyzer(cached=True)
    a.analyze(STORY, 1)
    moved = STORY.replace('scene "One" at cafe:', '# an opening\nscene "One" at cafe:', 1)
    edited = a.analyze(moved, 2)
    assert edited.story is not None
    light = next(c for c in edited.story.scenes[0].shots[0].cues if c.key == "light")
    assert (light.origin, light.span.line) == (
        "location",
        STORY.split("\n").index("    light: tungsten") + 1,
    )
    assert seen(edited) == seen(analyzer(cached=False).analyze(moved))


def _positions(items: list[Tree]) -> list[tuple[object, ...]]:
    found = []
    for item in items:
        for token in item.scan_values(lambda _: True):
            assert isinstance(token, Token)
            where = (token.start_pos, token.line, token.column)
            ends = (token.end_line, token.end_column, token.end_pos)
            found.append((token.type, str(token), *where, *ends))
    return found


@pytest.mark.parametrize("lines", [3, -2])
def test_a_block_moved_by_lines_is_the_block_parsed_there(lines: int) -> None:
    block = 'scene "One" at cafe:\n    shot wide 4s:\n        action: @mara opens.\n'
    a = analyzer(cached=True)
    a.analyze("\n" * 5 + block, 1)
    moved = a.analyze("\n" * (5 + lines) + block, 2)
    fresh, _ = parse_block(6 + lines, block)
    assert _positions(moved.parsed.items) == _positions(fresh)
    assert len(_positions(fresh)) > 5

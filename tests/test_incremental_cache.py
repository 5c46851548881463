"""The editor's prompt cache: an analysis that reuses prompts is byte-for-byte the one that
renders every prompt again, whatever the edit history (issue 15, item 3)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from storyc.check.provider import FileFacts, resolve_offering
from storyc.language.builder import build_story
from storyc.language.parse import parse_story
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
]


def analyzer(cached: bool) -> DocumentAnalyzer:
    a = DocumentAnalyzer("/tmp/t.story", read_facts=lambda _p: FileFacts(exists=False))
    if not cached:
        a.prompt_cache = None
    return a


def seen(analysis: Analysis) -> tuple[list[str], list[str]]:
    return [repr(d) for d in analysis.diagnostics], list(analysis.compilation.prompts)


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

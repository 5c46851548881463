"""Issue 15, round 3: the shortcuts that took the 10,000-shot compile under a second must
give what the plain ways give. Each test compares a shortcut with the plain computation it
replaced, on the examples, a generated story and stories written to hit the edge cases.
(`bench/dump_outputs.py` compares whole outputs; these name the piece that broke.)"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from jinja2 import TemplateError

from storyc.check.provider import check_story_against, resolve_offering
from storyc.language.builder import build_story
from storyc.language.model import AVOID, Cue, Shot, Story
from storyc.language.parse import parse_story
from storyc.plan.capabilities import load_table
from storyc.plan.planner import (
    _mentions,
    _planned_cues,
    clip_avoid,
    draft_avoid,
    group_clips,
    shot_mentions,
    shot_notes,
)
from storyc.plan.prompt import _render_template, template_environment
from tests.conftest import example_paths

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from compile import generate_story

LAYERED = """title: Layers
model: sora-2
avoid: text, logos

cameo mara: "refs/mara.mp4"
    look: a barista
character kid:
    look: a boy

location cafe:
    look: a cafe
    light: warm practicals
    avoid: neon
    ambient: espresso machine

preset night:
    light: moonlight
    avoid: Neon, crowds
    mood: calm

preset empty:

scene "One" at cafe:
    grade: soft
    shot 2s with night:
        camera: dolly in on @mara
        action: @mara wipes the bar
        avoid: crowds
    shot 1s:
        action: a shot without a preset, before the scene's next cues
    grade: hard
    avoid: rain
    shot 3s:
        camera: wide
        camera: then close on @kid
        light: lamp
        action: @kid waits
        note: a note
        note:
        @mara (quietly): "Hi."
    shot 2s with empty:
        action: nothing
        avoid:
    shot 2s with ghost:
        action: an undeclared preset
        sfx: a bell
        music: a tune

scene "Two":
    shot 2s:
        action: @kid and @mara, @kid again
        avoid: @kid's kite
"""


def _stories() -> list[tuple[str, str]]:
    found = [(path.name, path.read_text(encoding="utf-8")) for path in example_paths()]
    found.append(("generated", generate_story(300)))
    found.append(("layered", LAYERED))
    return found


def _built(text: str) -> Story:
    parsed = parse_story(text, "/tmp/story/x.story")
    story, _ = build_story(parsed.items, parsed.source, "/tmp/story/x.story")
    return story


def _plain_fold(layers: Sequence[Sequence[Cue]]) -> list[Cue]:
    """The fold as the builder wrote it before it kept the layers under a shot's own cues
    per scene: later layers win per key, `avoid:` layers combine."""
    by_key: dict[str, list[Cue]] = {}
    for layer in layers:
        in_layer: dict[str, list[Cue]] = {}
        for cue in layer:
            in_layer.setdefault(cue.key, []).append(cue)
        if AVOID in in_layer and AVOID in by_key:
            in_layer[AVOID] = by_key[AVOID] + in_layer[AVOID]
        by_key.update(in_layer)
    return [cue for cues in by_key.values() for cue in cues]


@pytest.mark.parametrize(("name", "text"), _stories(), ids=[n for n, _ in _stories()])
def test_each_shot_has_the_cues_of_its_layers_folded(name: str, text: str) -> None:
    story = _built(text)
    locations = {loc.name: loc for loc in story.locations}
    presets = {preset.name: preset for preset in story.presets}
    folded = 0
    for scene in story.scenes:
        location = locations.get(scene.location) if scene.location else None
        for shot in scene.shots:
            # The scene cues a shot sees are those written above it.
            above = [c for c in scene.cues if c.span.line < shot.span.line]
            layers: list[Sequence[Cue]] = [location.cues] if location else []
            layers.append(above)
            if shot.preset in presets:
                layers.append(presets[shot.preset].cues)
            layers.append(shot.own_cues)
            assert list(shot.cues) == _plain_fold(layers), f"shot {shot.index}"
            folded += 1
    assert folded == len(story.shots) > 0


def test_the_layered_story_folds_what_it_was_written_for() -> None:
    """The story above exercises what the per-scene fold could get wrong."""
    shots = _built(LAYERED).shots
    first, before, second, third, fourth = shots[:5]
    assert [c.text for c in first.cues if c.key == AVOID] == ["neon", "Neon, crowds", "crowds"]
    assert [c.text for c in first.cues if c.key == "grade"] == ["soft"]
    assert [c.text for c in before.cues if c.key in ("grade", AVOID)] == ["neon", "soft"]
    # A scene cue written between two shots reaches the second only (beside the first
    # one: a key written twice in one layer keeps both).
    assert [c.text for c in second.cues if c.key == "grade"] == ["soft", "hard"]
    assert [c.text for c in second.cues if c.key == AVOID] == ["neon", "rain"]
    assert [c.text for c in third.cues if c.key == AVOID] == ["neon", "rain", ""]
    # An undeclared preset adds nothing.
    assert [c.text for c in fourth.cues if c.key == "light"] == ["warm practicals"]


@pytest.mark.parametrize(("name", "text"), _stories(), ids=[n for n, _ in _stories()])
def test_shot_mentions_are_each_shots_mentions(name: str, text: str) -> None:
    story = _built(text)
    expected = []
    for shot in story.shots:
        found: dict[str, None] = {}
        _mentions(shot, found)
        expected.append(list(found))
    assert [list(names) for names in shot_mentions(story)] == expected
    if name == "layered":
        assert expected[0] == ["mara"] and expected[5] == ["kid", "mara"]


@pytest.mark.parametrize(("name", "text"), _stories(), ids=[n for n, _ in _stories()])
def test_given_mentions_change_no_diagnostic_and_no_draft(name: str, text: str) -> None:
    story = _built(text)
    table = load_table()
    for row in table.offerings:
        offering = row
        mentions = shot_mentions(story)
        alone = list(check_story_against(story, offering, {}, "x.story"))
        given = list(check_story_against(story, offering, {}, "x.story", mentions))
        assert given == alone, row.provider
        plain = group_clips(story, offering)
        shared = group_clips(story, offering, None, mentions)
        assert shared == plain, row.provider
        # The grouping never writes into the mentions it is given.
        assert mentions == shot_mentions(story)


def test_a_drafts_avoid_is_worked_out_again_when_its_shots_change() -> None:
    story = _built(LAYERED)
    offering, _ = resolve_offering(story, load_table(), "openai", "x.story")
    assert offering is not None
    drafts = group_clips(story, offering)
    for draft in drafts:
        assert draft_avoid(draft, story) == clip_avoid(story, draft.shots)
        assert draft_avoid(draft, story) == clip_avoid(story, draft.shots)  # kept
    first, last = drafts[0], drafts[-1]
    assert draft_avoid(first, story) != draft_avoid(last, story)
    first.shots = list(last.shots)  # the same draft, other shots: not the kept answer
    assert draft_avoid(first, story) == clip_avoid(story, last.shots)
    copy = replace(last, shots=[story.shots[0]])  # a copy does not carry it over
    assert copy.avoid_memo is None
    assert draft_avoid(copy, story) == clip_avoid(story, [story.shots[0]])


def _plain_planned_cues(shot: Shot) -> tuple[str | None, ...]:
    def joined(keys: set[str]) -> str | None:
        texts = [c.text for c in shot.cues if c.key in keys]
        return "; ".join(texts) if texts else None

    sound = [c.text for c in shot.cues if c.key in {"ambient", "sfx", "music"}]
    return (
        joined({"camera"}),
        joined({"light"}),
        joined({"action"}),
        "; ".join(sound) or None,
    )


@pytest.mark.parametrize(("name", "text"), _stories(), ids=[n for n, _ in _stories()])
def test_planned_cues_and_notes_are_the_plain_joins(name: str, text: str) -> None:
    for shot in _built(text).shots:
        assert _planned_cues(shot) == _plain_planned_cues(shot)
        notes = tuple(c.text for c in shot.own_cues if c.key == "note" and c.text.strip())
        assert shot_notes(shot) == notes
    second = _built(LAYERED).shots[2]
    assert _planned_cues(second)[0] == "wide; then close on @kid"
    assert shot_notes(second) == ("a note",)


_SHIPPED = ("sora.j2", "kling.j2", "veo.j2")


@pytest.mark.parametrize("name", _SHIPPED)
def test_templates_render_as_jinja_renders_them(name: str) -> None:
    from storyc.plan.prompt import _Cast, prompt_context

    env = template_environment(None)
    template = env.get_template(name)
    story = _built(LAYERED)
    offering, _ = resolve_offering(story, load_table(), "openai", "x.story")
    assert offering is not None
    for draft in group_clips(story, offering):
        values = prompt_context(draft, story, offering, _Cast(story, offering, []), True, True)
        assert _render_template(env, template, values) == template.render(values)


def test_a_broken_user_template_fails_as_jinja_fails(tmp_path: Path) -> None:
    (tmp_path / "sora.j2").write_text("Style\n{{ nope.x }}\n", encoding="utf-8")
    (tmp_path / "kling.j2").write_text("{% include 'bad.j2' %}", encoding="utf-8")
    (tmp_path / "bad.j2").write_text("{% if %}", encoding="utf-8")
    env = template_environment(str(tmp_path))
    for name in ("sora.j2", "kling.j2"):
        template = env.get_template(name)
        with pytest.raises(TemplateError) as plain:
            template.render({})
        with pytest.raises(TemplateError) as ours:
            _render_template(env, template, {})
        assert type(ours.value) is type(plain.value)
        assert str(ours.value) == str(plain.value)
        assert getattr(ours.value, "lineno", None) == getattr(plain.value, "lineno", None)


def _plain_render(draft, story, offering, template_dir):  # type: ignore[no-untyped-def]
    """`_render` as it was written before: `Template.render`, then a regular expression."""
    from storyc.plan.prompt import _Cast, _reads_shared, prompt_context

    env = template_environment(str(template_dir) if template_dir else None)
    template = env.get_template(f"{offering.family}.j2")
    cast = _Cast(story, offering, draft.cameo_names)
    values = prompt_context(draft, story, offering, cast, _reads_shared(env, template), True)
    text = cast.finish(template.render(values))
    lines = [line.rstrip() for line in text.strip().split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


def test_prompts_are_rendered_as_before(tmp_path: Path) -> None:
    from storyc.plan.prompt import _render

    # A writer's template with runs of blank lines of every length, and spaces on them.
    (tmp_path / "sora.j2").write_text(
        "A {{ title }}\n\n\n\nB\n  \n \n\n\n\n\nC {{ shots | length }}\n\n\n", encoding="utf-8"
    )
    table = load_table()
    compared = written = 0
    for text in (LAYERED, generate_story(60)):
        story = _built(text)
        for offering in table.offerings:
            for template_dir in (None, tmp_path if offering.family == "sora" else None):
                for draft in group_clips(story, offering):
                    ours = _render(draft, story, offering, template_dir)
                    assert ours == _plain_render(draft, story, offering, template_dir)
                    compared += 1
                    if template_dir is not None:
                        assert ours.startswith("A Bench 60\n\nB\n\nC ") or ours.startswith(
                            "A Layers\n\nB\n\nC "
                        )
                        written += 1
    assert compared > 100 and written > 10


def test_built_nodes_share_their_field_names() -> None:
    """`maker` stores field by field so a node's dict is split (its keys shared by the
    class): a `Span` takes about 170 bytes where a dict of its own made it about 300. Each
    pass over a long story reads fewer cache lines for it (issue 15)."""
    import tracemalloc

    from storyc.language.model import Span, span_at

    span_at(1, 1, 1, 2)  # the class's shared keys exist before the count
    tracemalloc.start()
    try:
        made = [span_at(line, 1, line, 9) for line in range(2_000)]
        per_node = tracemalloc.get_traced_memory()[0] / len(made)
    finally:
        tracemalloc.stop()
    assert per_node < 230, per_node
    assert made[5] == Span(line=5, column=1, end_line=5, end_column=9)
    assert list(made[5].__dict__) == ["line", "column", "end_line", "end_column"]

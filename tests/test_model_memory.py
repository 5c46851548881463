"""Issue 15, memory: the built model shares what it can (one `model_fields_set` per kind of
node, folded cues, repeated texts) and the front end drops the syntax trees once the model
is built. Sharing is only safe while nothing mutates what is shared: these tests prove it
for the ways a node can be changed, and that dropping the trees changes no diagnostic."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from storyc.check.policy import RuleSelection
from storyc.frontend import analyze_source
from storyc.language.builder import build_story
from storyc.language.comments import comments_of
from storyc.language.model import Cue, Span, built, maker, span_at
from storyc.language.parse import parse_story

STORY = """\
title: Shared
preset night:
    light: blue moonlight
    avoid: lens flare
location dock:
    look: a wooden dock
    ambient: water against the posts
scene "One" at dock:
    shot wide 4s with night:
        camera: slow push in  # a comment to keep
        action: @kid waits.
    shot wide 4s with night:
        camera: slow push in
        action: @kid waits.
character kid:
    look: a kid in a yellow coat
"""


def _story() -> tuple[object, object]:
    parsed = parse_story(STORY)
    story, diagnostics = build_story(parsed.items, parsed.source)
    assert not diagnostics
    return story, parsed


def test_nodes_of_one_maker_share_their_fields_set() -> None:
    make = maker(Span, "line", "column", "end_line", "end_column")
    first, second = make(1, 1, 1, 2), make(2, 1, 2, 2)
    assert first.model_fields_set is second.model_fields_set
    assert span_at(1, 1, 1, 2).model_fields_set is span_at(3, 1, 3, 2).model_fields_set
    assert Span.at(1, 1, 1, 2).model_fields_set is Span.at(3, 1, 3, 2).model_fields_set


def test_a_node_cannot_be_changed_so_its_shared_fields_set_cannot_either() -> None:
    first, second = span_at(1, 1, 1, 2), span_at(2, 1, 2, 2)
    shared = set(second.model_fields_set)
    with pytest.raises(ValidationError):
        first.line = 5
    assert second.model_fields_set == shared


def test_model_copy_copies_the_fields_set_before_adding_to_it() -> None:
    span = Span.at(1, 1, 1, 2)
    make = maker(Cue, "key", "text", "span", "key_span", "text_span")
    cue, other = make("camera", "x", span, span, span), make("light", "y", span, span, span)
    moved = cue.model_copy(update={"origin": "preset"})
    assert moved.model_fields_set == {"key", "text", "span", "key_span", "text_span", "origin"}
    assert (
        cue.model_fields_set
        == other.model_fields_set
        == set(("key", "text", "span", "key_span", "text_span"))
    )
    assert moved.model_fields_set is not cue.model_fields_set
    assert built(Cue, key="camera", text="x", span=span, key_span=span, text_span=span) == cue


def test_folded_cues_are_the_declarations_own_objects() -> None:
    story, _ = _story()
    preset = story.presets[0]  # type: ignore[attr-defined]
    location = story.locations[0]  # type: ignore[attr-defined]
    for shot in story.scenes[0].shots:  # type: ignore[attr-defined]
        inherited = [c for c in shot.cues if c.origin != "shot"]
        assert inherited
        for cue in inherited:
            source = preset.cues if cue.origin == "preset" else location.cues
            assert any(cue is declared for declared in source), cue


def test_a_text_written_twice_is_held_once() -> None:
    story, _ = _story()
    first, second = story.scenes[0].shots  # type: ignore[attr-defined]
    assert first.own_cues[0].text == "slow push in"
    assert first.own_cues[0].text is second.own_cues[0].text
    assert first.own_cues[0].key is second.own_cues[0].key
    assert first.label is second.label
    assert first.duration_text is second.duration_text
    assert first.own_cues[1].references[0].name is second.own_cues[1].references[0].name


def test_without_trees_keeps_the_comments_it_is_asked_to() -> None:
    _, parsed = _story()
    expected = comments_of(parsed.source, parsed.items)  # type: ignore[attr-defined]
    assert expected  # the story has comments
    light = parsed.without_trees(keep_comments=True)  # type: ignore[attr-defined]
    assert light.items == []
    assert light.comments() == expected
    assert light.diagnostics == parsed.diagnostics  # type: ignore[attr-defined]
    bare = parsed.without_trees(keep_comments=False)  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError):
        bare.comments()  # read from no trees, every line would look broken


@pytest.mark.parametrize("rules", [None, RuleSelection()])
def test_dropping_the_trees_changes_no_diagnostic(rules: RuleSelection | None) -> None:
    # `kid` (line 15) is now never named, and suppressed; `ghost` (line 17) is not.
    source = STORY.replace("character kid:", "character kid:  # storyc: ignore[S103]")
    source = source.replace("@kid waits.", "nothing happens.") + "character ghost:\n"
    dropped = analyze_source(source, "s.story", rules=rules)
    kept = analyze_source(source, "s.story", rules=rules, parsed=parse_story(source, "s.story"))
    assert [d.model_dump() for d in dropped.diagnostics] == [
        d.model_dump() for d in kept.diagnostics
    ]
    codes = [(d.code, d.span.line) for d in dropped.diagnostics]
    assert ("S103", 17) in codes  # `ghost`, not suppressed
    if rules is not None:  # the suppression on `kid`'s line was read from the kept comments
        assert ("S103", 15) not in codes
    else:
        assert ("S103", 15) in codes

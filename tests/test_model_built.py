"""Issue 15, item 2: the builder makes its model without pydantic's validation (`built`,
`Span.at`). Every node it makes must be the node validation would have made: the same
values (tuples, not lists), defaults and `model_fields_set`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from storyc.language.builder import build_story
from storyc.language.model import Cue, Node, Span, built, maker
from storyc.language.parse import parse_story
from tests.conftest import example_paths

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from compile import generate_story


def _check(node: object, seen: list[int]) -> None:
    if isinstance(node, tuple):
        for item in node:
            _check(item, seen)
        return
    if not isinstance(node, BaseModel):
        assert not isinstance(node, list | dict | set), node
        return
    assert isinstance(node, Node)
    given = {name: getattr(node, name) for name in node.model_fields_set}
    validated = type(node)(**given)
    assert validated == node
    assert repr(validated) == repr(node)
    assert validated.model_fields_set == node.model_fields_set
    assert hash(validated) == hash(node)
    seen[0] += 1
    for name in type(node).model_fields:
        _check(getattr(node, name), seen)


@pytest.mark.parametrize(
    "source",
    [pytest.param(p.read_text(encoding="utf-8"), id=p.name) for p in example_paths()]
    + [pytest.param(generate_story(300), id="generated-300")],
)
def test_the_built_model_is_the_validated_model(source: str) -> None:
    parsed = parse_story(source)
    story, _ = build_story(parsed.items, parsed.source)
    seen = [0]
    _check(story, seen)
    assert seen[0] > 10


def test_built_refuses_a_missing_or_unknown_field() -> None:
    span = Span.at(1, 1, 1, 2)
    with pytest.raises(TypeError):
        built(Cue, key="camera", text="x", span=span, key_span=span)
    with pytest.raises(TypeError):
        built(Cue, key="camera", text="x", span=span, key_span=span, text_span=span, nope=1)
    assert built(Cue, key="camera", text="x", span=span, key_span=span, text_span=span) == Cue(
        key="camera", text="x", span=span, key_span=span, text_span=span
    )


def test_a_model_made_by_hand_is_still_validated() -> None:
    with pytest.raises(ValidationError):
        Span(line="one", column=1, end_line=1, end_column=2)  # type: ignore[arg-type]


def test_built_takes_fields_in_any_order() -> None:
    span = Span.at(1, 1, 1, 2)
    other = Span.at(2, 1, 2, 2)
    first = built(Cue, key="camera", text="x", span=span, key_span=other, text_span=span)
    second = built(Cue, text_span=span, key_span=other, span=span, text="x", key="camera")
    assert first == second == Cue(key="camera", text="x", span=span, key_span=other, text_span=span)
    assert repr(first) == repr(second)


def test_a_maker_refuses_an_unknown_or_missing_field_when_made() -> None:
    with pytest.raises(TypeError):
        maker(Cue, "key", "text", "span", "key_span")
    with pytest.raises(TypeError):
        maker(Span, "line", "column", "end_line", "end_column", "width")
    make = maker(Span, "end_column", "end_line", "column", "line")
    assert make(4, 3, 2, 1) == Span(line=1, column=2, end_line=3, end_column=4)
    assert repr(make(4, 3, 2, 1)) == "Span(line=1, column=2, end_line=3, end_column=4)"

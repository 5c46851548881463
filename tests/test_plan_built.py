"""Issue 15: `finish_plan` makes its shots, clips and transitions without pydantic's
validation (`storyc.unchecked.maker`). Every object it makes must be the one validation
would have made from the same fields: equal, with the same repr (so an int is not where a
float belongs, nor a list where a tuple does) and the same `model_fields_set`."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from storyc.frontend import analyze_source
from storyc.plan.capabilities import load_table
from storyc.plan.schema import Clip, ClipPlan, PlannedDialogue, PlannedShot, PlannedTransition
from storyc.unchecked import maker
from tests.conftest import example_paths

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from compile import REFS, generate_story

_MODEL = re.compile(r"(?m)^model:[^\n]*$")
_PROVIDER = re.compile(r"(?m)^provider:[^\n]*\n")


def _check(node: object, seen: list[int]) -> None:
    if isinstance(node, tuple):
        for item in node:
            _check(item, seen)
        return
    if not isinstance(node, BaseModel):
        return
    given = {name: getattr(node, name) for name in node.model_fields_set}
    validated = type(node)(**given)
    assert validated == node
    assert repr(validated) == repr(node)
    assert validated.model_fields_set == node.model_fields_set
    seen[0] += 1
    for name in type(node).model_fields:
        _check(getattr(node, name), seen)


def _on_every_row(text: str) -> list[str]:
    """The story once per row of the model table (as `bench/dump_outputs.py` swaps it)."""
    bare = _PROVIDER.sub("", text)
    return [
        _MODEL.sub(f"model: {row.model}\nprovider: {row.provider}", bare, count=1)
        for row in load_table().offerings
    ]


@pytest.mark.parametrize("path", example_paths(), ids=lambda p: p.name)
def test_the_built_plan_is_the_validated_plan_on_every_row(path: Path) -> None:
    planned = 0
    for source in _on_every_row(path.read_text(encoding="utf-8")):
        result = analyze_source(source, str(path))
        if result.plan is None:
            continue
        planned += 1
        seen = [0]
        _check(result.plan, seen)
        assert seen[0] > 3
        # And the JSON round trip gives the same plan back.
        assert ClipPlan.from_json(result.plan.to_json()) == result.plan
    assert planned >= 5


def test_the_built_plan_of_a_generated_story_is_the_validated_plan(tmp_path: Path) -> None:
    # Dialogue, transitions, cameos, first frames and seeds: every field is filled somewhere.
    shutil.copytree(REFS, tmp_path / "refs")
    path = tmp_path / "bench.story"
    result = analyze_source(generate_story(300), str(path))
    assert result.plan is not None
    seen = [0]
    _check(result.plan, seen)
    assert seen[0] > 300
    clips = result.plan.clips
    assert any(c.cameos for c in clips) and any(c.input_reference for c in clips)
    assert any(s.dialogue for c in clips for s in c.shots)
    assert any(c.transition.kind != "cut" for c in clips)


def test_a_maker_makes_what_validation_makes() -> None:
    make = maker(PlannedDialogue, "speaker", "delivery", "text", "line")
    made = make("mara", None, "Hi.", 7)
    validated = PlannedDialogue(speaker="mara", delivery=None, text="Hi.", line=7)
    assert made == validated and repr(made) == repr(validated)
    assert made.model_fields_set == validated.model_fields_set
    assert maker(PlannedTransition)() == PlannedTransition()
    assert maker(PlannedTransition)().model_fields_set == set()


def test_a_maker_refuses_unknown_missing_or_repeated_fields() -> None:
    with pytest.raises(TypeError, match="unknown or repeated"):
        maker(PlannedDialogue, "speaker", "text", "line", "nope")
    with pytest.raises(TypeError, match="unknown or repeated"):
        maker(PlannedDialogue, "speaker", "speaker", "text", "line")
    with pytest.raises(TypeError, match="missing fields"):
        maker(PlannedShot, "index")


def test_a_maker_refuses_a_model_whose_validators_it_would_skip() -> None:
    fields = [name for name, info in Clip.model_fields.items() if info.is_required()]
    with pytest.raises(TypeError, match="_drop_spelled_seconds"):
        maker(Clip, *fields)
    assert maker(Clip, *fields, skips=("_drop_spelled_seconds",)) is not None


def test_a_plan_read_from_outside_is_still_validated() -> None:
    with pytest.raises(ValidationError):
        PlannedTransition(kind="wipe")  # type: ignore[arg-type]

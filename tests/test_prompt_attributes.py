"""Issue 15: the shipped templates get their context as attributes, made so as it is built
(`prompt_context(..., attributes=True)`), not converted afterwards. Both must give the
template the same values: the context made with attributes is what `_as_attributes` makes
of the plain one, on every clip of the examples and of a generated story."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from storyc.frontend import analyze_source
from storyc.plan.capabilities import load_table
from storyc.plan.planner import group_clips
from storyc.plan.prompt import _as_attributes, _Cast, _Values, prompt_context
from tests.conftest import example_paths

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from compile import REFS, generate_story


def _plain(value: object) -> object:
    """The value with every `_Values` as the dict it wraps, marking where one was."""
    if isinstance(value, _Values):
        return {"<attributes>": {k: _plain(v) for k, v in value.__dict__.items()}}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _stories(tmp_path: Path) -> list[tuple[str, str]]:
    shutil.copytree(REFS, tmp_path / "refs")
    found = [(p.read_text(encoding="utf-8"), str(p)) for p in example_paths()]
    return [*found, (generate_story(200), str(tmp_path / "bench.story"))]


@pytest.mark.parametrize("share", [True, False])
def test_a_context_made_with_attributes_is_the_converted_plain_one(
    tmp_path: Path, share: bool
) -> None:
    compared = 0
    for source, file in _stories(tmp_path):
        story = analyze_source(source, file).story
        assert story is not None
        offering = load_table().offering(story.header.provider, story.header.model or "")
        assert offering is not None
        for draft in group_clips(story, offering):
            plain = prompt_context(draft, story, offering, _Cast(story, offering, []), share)
            made = prompt_context(
                draft, story, offering, _Cast(story, offering, []), share, attributes=True
            )
            assert _plain(made) == _plain(_as_attributes(plain))
            compared += 1
    assert compared > 50

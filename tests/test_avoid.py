"""The `avoid:` cue: layers that combine, the negative prompt where the model takes one (and
the SDK's own types say so for Runway), `Avoid: ...` in the prompt elsewhere, and C306."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_render_runway import problems, sdk_params

from storyc.frontend import analyze_source
from storyc.plan.capabilities import load_table
from storyc.providers.runway import build_request

STORY = """\
title: Avoid
model: {model}
provider: {provider}
avoid: text, watermarks

character mara:
    look: a keeper in a yellow coat

location street:
    look: a wet street at night
    avoid: crowds

preset night:
    avoid: daylight

scene "Rain" at street:
    shot a 4s with night:
        action: a taxi passes.
        avoid: logos; @mara
    shot b 4s:
        action: rain on the glass.
"""


def _plan(tmp_path: Path, model: str, provider: str, text: str = STORY):
    source = text.format(model=model, provider=provider)
    result = analyze_source(source, str(tmp_path / "avoid.story"))
    assert result.plan is not None, [d.message for d in result.diagnostics]
    return result


def test_layers_combine_and_go_to_the_negative_prompt(tmp_path: Path) -> None:
    result = _plan(tmp_path, "veo-3.1", "fal")
    shot_a, shot_b = result.story.shots
    assert [c.text for c in shot_a.cues if c.key == "avoid"] == [
        "crowds",
        "daylight",
        "logos; @mara",
    ]
    assert [c.text for c in shot_b.cues if c.key == "avoid"] == ["crowds"]
    (clip,) = result.plan.clips  # packed: the clip avoids what any of its shots avoids
    assert clip.avoid == "text, watermarks, crowds, daylight, logos, mara"
    assert clip.request["input"]["negative_prompt"] == clip.avoid
    assert "Avoid" not in clip.prompt
    # `@mara` in an avoid cue sends no reference and is no mention
    assert not any(d.code == "S101" for d in result.diagnostics)


def test_folded_into_the_prompt_where_the_model_takes_no_negative_prompt(tmp_path: Path) -> None:
    for model, provider in (("seedance-2", "fal"), ("sora-2", "openai"), ("gen-4.5", "runway")):
        offering = load_table().offering(provider, model)
        assert offering is not None and not offering.negative_prompt
        (clip,) = _plan(tmp_path, model, provider).plan.clips
        assert clip.prompt.rstrip().endswith(
            "Avoid: text, watermarks, crowds, daylight, logos, mara."
        ), clip.prompt
        body = clip.request.get("input", clip.request)
        assert "negative_prompt" not in body and "negativePrompt" not in body


def test_runway_veo_sends_negative_prompt_as_the_sdk_types_it(tmp_path: Path) -> None:
    for model in ("veo-3.1", "veo-3.1-fast"):
        (clip,) = _plan(tmp_path, model, "runway").plan.clips
        offering = load_table().offering("runway", model)
        request = build_request(clip, offering)
        assert request.body["negativePrompt"] == clip.avoid
        assert problems(request.body, sdk_params(request.path, clip.api_model)) == []


def test_a_story_without_avoid_plans_as_before(tmp_path: Path) -> None:
    text = STORY.replace("avoid: text, watermarks\n", "").replace("    avoid: crowds\n", "")
    text = text.replace("preset night:\n    avoid: daylight\n", "preset night:\n    light: moon\n")
    text = text.replace("        avoid: logos; @mara\n", "")
    (clip,) = _plan(tmp_path, "veo-3.1", "fal", text).plan.clips
    assert clip.avoid is None
    assert "negative_prompt" not in clip.request["input"]
    assert "avoid" not in clip.model_dump(mode="json")


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ("        avoid:\n", "this `avoid:` says nothing to avoid"),
        ("        avoid: Text, sirens\n", "`Text` is already avoided here"),
        ("        avoid: CROWDS\n", "`CROWDS` is already avoided here"),
        ("        avoid: sirens, sirens\n", "`sirens` is already avoided here"),
    ],
)
def test_c306_empty_or_repeated(tmp_path: Path, lines: str, message: str) -> None:
    text = STORY.replace("        avoid: logos; @mara\n", lines)
    result = analyze_source(text.format(model="veo-3.1", provider="fal"), str(tmp_path / "a.story"))
    found = [d for d in result.diagnostics if d.code == "C306"]
    assert [d.message for d in found] == [message]
    assert found[0].span.line == text.splitlines().index(lines.rstrip("\n")) + 1


def test_c306_is_quiet_on_distinct_items(tmp_path: Path) -> None:
    result = _plan(tmp_path, "veo-3.1", "fal")
    assert not [d for d in result.diagnostics if d.code == "C306"]

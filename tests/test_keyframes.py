"""Keyframes (`storyc keyframes`, `keyframe:` on a shot): one still per shot from an image
model, through the clips' cache, journal, claims and consent: never paid twice. Each image
provider is rendered against the loopback fake (real PNGs); the preview works offline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fakeprovider import FakeProvider
from PIL import Image

from storyc.frontend import compile_file
from storyc.plan.keyframes import image_offering, plan_keyframes
from storyc.providers.keyframes import keyframes_to_dir
from storyc.sandbox import policy_for

FAKE_MEDIA: list[tuple[int, int, int]] = []

STORY = """\
title: Harbour
model: {model}
style: ink wash
seed: 7

character mara:
  look: a tall woman in a red coat

scene "Harbour":
  shot s1 4s:
    camera: push in
    action: @mara looks out to sea
  shot s2 4s:
    action: waves break on the pier
"""

# (provider, a model the story may name there, the video size it plans)
CASES = {
    "fal": "veo-3.1",
    "runway": "veo-3.1",
    "openai": "sora-2",
}


def _compile(tmp_path: Path, model: str = "veo-3.1", extra: str = "") -> Any:
    story = tmp_path / "s.story"
    story.write_text(STORY.format(model=model) + extra, encoding="utf-8")
    compilation = compile_file(story, policy=policy_for(story))
    assert not compilation.has_errors, [str(d) for d in compilation.diagnostics]
    return story, compilation


def _make(story: Path, plan: Any, out: Path, cache: Path, seen: list[Any]) -> Any:
    return keyframes_to_dir(
        plan, out, story_path=story, cache_dir=cache, approve=seen.append, jobs=2
    )


def test_preview_keyframes_work_offline_and_are_cached(tmp_path: Path) -> None:
    story, compilation = _compile(tmp_path)
    plan = plan_keyframes(compilation.story, compilation.plan, "preview")
    assert [c.cost_usd for c in plan.clips] == [0.0, 0.0]
    first = _make(story, plan, tmp_path / "out", tmp_path / "cache", [])
    assert first.report.ok and first.report.submitted == 2
    names = [p.name for p in first.files]
    assert names == ["01-s1.png", "02-s2.png"]
    with Image.open(first.files[0]) as image:
        assert image.size == tuple(int(n) for n in compilation.plan.clips[0].size.split("x"))
    again = _make(story, plan, tmp_path / "out", tmp_path / "cache", [])
    assert again.report.submitted == 0 and again.report.cached == 2


def test_prompt_carries_style_cues_and_looks(tmp_path: Path) -> None:
    _, compilation = _compile(tmp_path)
    plan = plan_keyframes(compilation.story, compilation.plan, "fal")
    prompt = plan.clips[0].prompt
    assert "ink wash" in prompt and "push in" in prompt and "red coat" in prompt
    assert "@" not in prompt


@pytest.mark.parametrize("provider", sorted(CASES))
def test_each_provider_sends_the_planned_request_and_pays_once(
    provider: str, fake: FakeProvider, env: dict[str, str], tmp_path: Path
) -> None:
    story, compilation = _compile(tmp_path, CASES[provider])
    plan = plan_keyframes(compilation.story, compilation.plan, provider)
    offering = image_offering(provider)
    assert offering is not None
    assert all(c.cost_usd > 0 for c in plan.clips)
    seen: list[Any] = []
    cache = Path(env["STORYC_CACHE_DIR"])
    made = _make(story, plan, tmp_path / "out", cache, seen)
    assert made.report.ok, [str(f) for f in made.report.failures]
    assert len(seen) == 1 and len(seen[0].to_pay) == 2
    assert seen[0].cost == pytest.approx(sum(c.cost_usd for c in plan.clips))
    submits = fake.requests("submit", provider)
    assert len(submits) == 2
    sent = sorted((json.loads(s.body) for s in submits), key=lambda b: json.dumps(b))
    if provider == "fal":
        planned = [c.request["input"] for c in plan.clips]
        assert {s.path for s in submits} == {f"/fal/{offering.api_model}"}
    else:
        planned = [c.request["body"] for c in plan.clips]
    assert sent == sorted(planned, key=lambda b: json.dumps(b))
    for file, clip in zip(made.files, plan.clips, strict=True):
        with Image.open(file) as image:
            assert f"{image.size[0]}x{image.size[1]}" == clip.size
    # A second run pays for nothing and asks nothing.
    seen.clear()
    again = _make(story, plan, tmp_path / "out2", cache, seen)
    assert again.report.ok and again.report.submitted == 0 and again.report.cached == 2
    assert len(fake.requests("submit", provider)) == 2
    assert not seen or not seen[0].to_pay


def test_fal_and_runway_requests_match_the_vendor_shapes(tmp_path: Path) -> None:
    _, compilation = _compile(tmp_path)
    fal = plan_keyframes(compilation.story, compilation.plan, "fal").clips[0].request
    assert fal["app"] == "fal-ai/flux-1/dev"
    assert fal["input"]["image_size"] == {"width": 1280, "height": 720}
    assert fal["input"]["seed"] == 7 and fal["input"]["num_images"] == 1
    runway = plan_keyframes(compilation.story, compilation.plan, "runway").clips[0].request
    assert runway["path"] == "/v1/text_to_image"
    assert runway["body"]["model"] == "gen4_image" and runway["body"]["ratio"] == "1280:720"
    from runwayml.types import text_to_image_create_params as params

    allowed = params.Gen4Image.__annotations__
    wire = {"prompt_text": "promptText", "reference_images": "referenceImages"}
    names = {wire.get(name, name) for name in allowed}
    assert set(runway["body"]) <= names


def test_unanswered_create_is_uncertain_and_not_sent_again(
    fake: FakeProvider, env: dict[str, str], tmp_path: Path
) -> None:
    story, compilation = _compile(tmp_path, "sora-2")
    plan = plan_keyframes(compilation.story, compilation.plan, "openai")
    fake.faults.after["submit"] = [502, 502]  # made (and paid), the answer lost on the way
    cache = Path(env["STORYC_CACHE_DIR"])
    first = _make(story, plan, tmp_path / "out", cache, [])
    assert len(first.report.uncertain) == 2
    assert len(fake.requests("submit", "openai")) == 2
    seen: list[Any] = []
    again = _make(story, plan, tmp_path / "out", cache, seen)
    assert len(again.report.uncertain) == 2
    assert len(fake.requests("submit", "openai")) == 2  # never sent on a guess
    assert seen and len(seen[0].uncertain) == 2 and not seen[0].to_pay


def test_paid_keyframes_need_approval(
    fake: FakeProvider, env: dict[str, str], tmp_path: Path
) -> None:
    from storyc.errors import StorycError

    story, compilation = _compile(tmp_path)
    plan = plan_keyframes(compilation.story, compilation.plan, "fal")
    with pytest.raises(StorycError, match="nobody approved"):
        keyframes_to_dir(plan, tmp_path / "out", story_path=story, cache_dir=tmp_path / "c")
    with pytest.raises(StorycError, match="over --max-cost"):
        keyframes_to_dir(
            plan, tmp_path / "out", story_path=story, cache_dir=tmp_path / "c", max_cost=0.001
        )
    assert not fake.requests("submit")


def test_own_keyframe_is_checked_and_not_planned(tmp_path: Path) -> None:
    boards = tmp_path / "boards"
    boards.mkdir()
    Image.new("RGB", (640, 360), (9, 9, 9)).save(boards / "s1.png")
    story = tmp_path / "s.story"
    text = STORY.format(model="veo-3.1").replace(
        "    camera: push in\n", '    camera: push in\n    keyframe: "boards/s1.png"\n'
    )
    story.write_text(text, encoding="utf-8")
    compilation = compile_file(story, policy=policy_for(story))
    assert not compilation.has_errors
    assert "boards" not in compilation.plan.clips[0].prompt  # a picture, not prompt words
    plan = plan_keyframes(compilation.story, compilation.plan, "preview")
    assert [c.shots[0].index for c in plan.clips] == [2]
    assert plan.own == {1: str((boards / "s1.png").resolve())}

    story.write_text(text.replace("boards/s1.png", "boards/none.png"), encoding="utf-8")
    missing = compile_file(story, policy=policy_for(story))
    assert any(d.code == "P210" and "keyframe" in d.message for d in missing.diagnostics)

    (tmp_path / "boards" / "notes.png").write_text("not a picture", encoding="utf-8")
    story.write_text(text.replace("boards/s1.png", "boards/notes.png"), encoding="utf-8")
    foreign = compile_file(story, policy=policy_for(story))
    assert any(d.code in ("P210", "P219") for d in foreign.diagnostics)

    story.write_text(text.replace("boards/s1.png", "/etc/hostname"), encoding="utf-8")
    outside = compile_file(story, policy=policy_for(story))
    assert any(d.code == "P218" for d in outside.diagnostics)

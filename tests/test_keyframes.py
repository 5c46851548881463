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


def test_preview_stills_carry_their_drawing_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storyc.providers import keyframes

    story, compilation = _compile(tmp_path)
    plan = plan_keyframes(compilation.story, compilation.plan, "preview")
    cache = tmp_path / "cache"
    first = _make(story, plan, tmp_path / "out", cache, [])
    assert first.report.submitted == 2
    version = keyframes.STILL_DRAWING_VERSION
    drawn = {p.name for p in (cache / "keyframes").glob("kf-*")}
    assert drawn == {f"{c.id}.draw{version}.png" for c in plan.clips}
    assert _make(story, plan, tmp_path / "out", cache, []).report.cached == 2

    # An upgraded storyc (the next drawing version) draws the cards again, without --force.
    monkeypatch.setattr(keyframes.PreviewStillCache, "suffix", f".draw{version + 1}.png")
    again = _make(story, plan, tmp_path / "out", cache, [])
    assert again.report.ok and again.report.cached == 0  # drawn anew (the journal resumes)
    redrawn = {p.name for p in (cache / "keyframes").glob(f"kf-*.draw{version + 1}.png")}
    assert redrawn == {f"{c.id}.draw{version + 1}.png" for c in plan.clips}
    assert keyframes.still_cache("fal", cache).path_for("kf-1") == cache / "kf-1.png"


CAMEO_STORY = """\
title: Harbour
model: veo-3.1
seed: 7

cameo mara: "refs/mara.png"
  look: a tall woman in a red coat

scene "Harbour":
  shot s1 4s:
    action: @mara looks out to sea
  shot s2 4s:
    action: waves break on the pier
"""


def _cameo_story(tmp_path: Path) -> tuple[Path, Any]:
    (tmp_path / "refs").mkdir()
    Image.new("RGB", (256, 256), (200, 30, 30)).save(tmp_path / "refs" / "mara.png")
    story = tmp_path / "s.story"
    story.write_text(CAMEO_STORY, encoding="utf-8")
    compilation = compile_file(story, policy=policy_for(story))
    assert not compilation.has_errors, [str(d) for d in compilation.diagnostics]
    return story, compilation


def test_runway_stills_name_the_cameos_they_are_sent(tmp_path: Path) -> None:
    from typing import get_args, get_type_hints

    from runwayml.types import text_to_image_create_params as params

    _, compilation = _cameo_story(tmp_path)
    plan = plan_keyframes(compilation.story, compilation.plan, "runway")
    first, second = (c.request["body"] for c in plan.clips)
    assert first["referenceImages"] == [{"uri": "<upload of mara.png>", "tag": "mara"}]
    assert "@mara looks out to sea" in first["promptText"]
    assert "Characters: @mara: a tall woman" in first["promptText"]
    assert [c.path for c in plan.clips[0].cameos] == [str((tmp_path / "refs/mara.png").resolve())]
    assert "referenceImages" not in second and "@" not in second["promptText"]
    assert plan.clips[1].cameos == ()
    # The body is a `Gen4Image` as the SDK types it (keys by their wire aliases).
    wire = {"prompt_text": "promptText", "reference_images": "referenceImages"}
    fields = {wire.get(name, name) for name in params.Gen4Image.__annotations__}
    assert set(first) <= fields
    reference_fields = set(params.Gen4ImageReferenceImage.__annotations__)
    for reference in first["referenceImages"]:
        assert set(reference) <= reference_fields and "uri" in reference
    assert first["ratio"] in get_args(get_type_hints(params.Gen4Image)["ratio"])
    assert get_type_hints(params.Gen4ImageReferenceImage) == {"uri": str, "tag": str}
    # fal and OpenAI rows take no references: the same shot sends no picture there.
    fal = plan_keyframes(compilation.story, compilation.plan, "fal")
    assert fal.clips[0].cameos == () and "@" not in fal.clips[0].prompt


def test_reference_tags_follow_runway_rules() -> None:
    from storyc.plan.keyframes import reference_tag

    assert reference_tag("mara") == "mara"
    assert reference_tag("al") == "al_ref"
    assert reference_tag("old-man") == "old_man"
    assert reference_tag("_7up") == "c_7up"
    assert reference_tag("a_very_long_cameo_name") == "a_very_long_came"
    assert reference_tag("mara", ["mara"]) == "mara_2"


def test_runway_uploads_the_cameo_and_a_rerun_sends_nothing(
    fake: FakeProvider, env: dict[str, str], tmp_path: Path
) -> None:
    story, compilation = _cameo_story(tmp_path)
    plan = plan_keyframes(compilation.story, compilation.plan, "runway")
    seen: list[Any] = []
    cache = Path(env["STORYC_CACHE_DIR"])
    made = _make(story, plan, tmp_path / "out", cache, seen)
    assert made.report.ok, [str(f) for f in made.report.failures]
    # The consent listing names the cameo's picture, for the still that sends it.
    assert [(u.path.name, u.clips) for u in seen[0].uploads] == [("mara.png", (1,))]
    assert len(fake.requests("upload-start", "runway")) == 1
    assert len(fake.requests("upload", "runway")) == 1
    bodies = [json.loads(s.body) for s in fake.requests("submit", "runway")]
    sent = [b for b in bodies if "referenceImages" in b]
    assert len(bodies) == 2 and len(sent) == 1
    (reference,) = sent[0]["referenceImages"]
    assert reference["uri"].startswith("runway://uploads/") and reference["tag"] == "mara"
    assert "@mara" in sent[0]["promptText"]
    # A rerun: nothing uploaded, nothing submitted.
    again = _make(story, plan, tmp_path / "out2", cache, [])
    assert again.report.ok and again.report.submitted == 0 and again.report.cached == 2
    assert len(fake.requests("upload-start", "runway")) == 1
    assert len(fake.requests("submit", "runway")) == 2


def test_a_cameo_picture_outside_the_sandbox_is_refused_before_paying(
    fake: FakeProvider, env: dict[str, str], tmp_path: Path
) -> None:
    from storyc.errors import StorycError
    from storyc.sandbox import ReferencePolicy

    story, compilation = _cameo_story(tmp_path)
    plan = plan_keyframes(compilation.story, compilation.plan, "runway")
    elsewhere = ReferencePolicy(project_root=(tmp_path / "out").resolve())
    with pytest.raises(StorycError, match="may not leave this machine"):
        keyframes_to_dir(
            plan,
            tmp_path / "out",
            story_path=story,
            cache_dir=Path(env["STORYC_CACHE_DIR"]),
            approve=lambda run: None,
            references=elsewhere,
        )
    assert not fake.requests(provider="runway")


def test_keyframes_command_lists_the_pictures_it_sends(fake: FakeProvider, tmp_path: Path) -> None:
    from cli_support import storyc_main
    from fakeprovider.testing import provider_env

    _cameo_story(tmp_path)
    env = provider_env(fake, tmp_path / "cache")
    args = ["keyframes", "s.story", "-p", "runway", "-o", "out", "--yes"]
    made = storyc_main(args, cwd=tmp_path, env=env)
    assert made.returncode == 0, made.stderr
    said = " ".join(made.stderr.split())
    assert "files sent to runway" in said and "refs/mara.png" in said
    assert len(fake.requests("upload", "runway")) == 1
    again = storyc_main(args, cwd=tmp_path, env=env)
    assert again.returncode == 0 and "0 made now, 2 from the cache" in again.stderr
    assert len(fake.requests("submit", "runway")) == 2

"""fal and Prodia as their vendors define them (issue 11): Kling's `multi_prompt` for a packed
clip, Veo reference-to-video at 8 s, Veo 4k prices, Seedance and Wan 2.7 reference images,
no `generate_audio` for Wan, no `duration` for Prodia's Veo, fal uploads as fal-client 1.0.3
makes them; and the fakes refuse what the vendors refuse."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from fakeprovider import FakeProvider, make_png
from fakeprovider.testing import provider_env, storyc

from storyc.frontend import compile_file
from storyc.plan.capabilities import load_table
from storyc.plan.planner import shot_seconds
from storyc.plan.schema import ClipPlan

FAKE_MEDIA = ((1920, 1080, 12), (1920, 1080, 3), (1280, 720, 8))

KLING = load_table().offering("fal", "kling-3-pro")


def _story(folder: Path, header: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    make_png(folder / "refs" / "mara.png", 512, 512)
    make_png(folder / "dawn.png", 1920, 1080)
    story = folder / "s.story"
    story.write_text(header.strip() + "\n\n" + body.strip() + "\n", encoding="utf-8")
    return story


KLING_HEADER = """
title: harbour
model: kling-3-pro
provider: fal

cameo mara: "refs/mara.png"
    look: a keeper in a yellow coat
"""
KLING_SHOTS = """
scene "Harbour":
    shot 5s from "dawn.png":
        camera: static wide shot
        action: the beam sweeps the fog.
    shot 4s:
        camera: close-up
        action: @mara waves.
        sfx: a foghorn
    shot 2.5s:
        action: gulls circle.
    shot 3s:
        action: the tide rises.
"""


def test_shot_seconds_keeps_every_shot_but_the_last_exact() -> None:
    assert KLING is not None
    assert shot_seconds([5000, 4000, 2500], KLING) == (5, 4, 3)
    assert shot_seconds([5000, 4000], KLING) == (5, 4)
    assert shot_seconds([2500, 3000], KLING) is None  # 2.5 s cannot be followed
    assert shot_seconds([2000, 3000], KLING) is None  # a shot lasts 3 s or more
    assert shot_seconds([8000, 8000], KLING) is None  # 15 s at most
    assert shot_seconds([3000] * 5, KLING) == (3,) * 5
    assert shot_seconds([3000] * 6, KLING) is None  # 18 s
    assert shot_seconds([5000], KLING) is None  # one shot is one prompt


def test_a_packed_kling_clip_is_planned_as_shots(tmp_path: Path) -> None:
    compilation = compile_file(_story(tmp_path, KLING_HEADER, KLING_SHOTS))
    assert compilation.plan is not None, compilation.diagnostics
    first, second = compilation.plan.clips
    assert [s.render_ms for s in first.shots] == [5000, 4000, 3000]
    assert first.render_ms == 12000 and first.duration == 11500
    assert first.request["app"] == "fal-ai/kling-video/v3/pro/image-to-video"
    sent = first.request["input"]
    assert "prompt" not in sent and sent["shot_type"] == "customize"
    assert [s["duration"] for s in sent["multi_prompt"]] == ["5", "4", "3"]
    assert sent["duration"] == "12"
    assert [s["prompt"] for s in sent["multi_prompt"]] == [s.prompt for s in first.shots]
    assert "@Element1 (a keeper in a yellow coat) waves" in sent["multi_prompt"][1]["prompt"]
    assert sent["elements"] == [
        {
            "frontal_image_url": "<upload of mara.png>",
            "reference_image_urls": ["<upload of mara.png>"],
        }
    ]
    # The 3 s shot after a 2.5 s one has its own clip: one prompt, no per-shot fields.
    assert second.request["input"]["prompt"] == second.prompt
    assert second.shots[0].prompt is None
    assert "prompt" not in second.model_dump(mode="json")["shots"][0]


def test_a_packed_kling_clip_arrives_as_multi_prompt(fake: FakeProvider, tmp_path: Path) -> None:
    story = _story(tmp_path / "project", KLING_HEADER, KLING_SHOTS)
    out = tmp_path / "out"
    env = provider_env(fake, tmp_path / "cache")
    run = storyc(["render", str(story), "--yes", "-o", str(out)], env, tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    plan = ClipPlan.read(out / "plan.json")
    sent = [json.loads(s.body) for s in fake.requests("submit", "fal") if s.status == 200]
    shots = [body for body in sent if "multi_prompt" in body]
    assert len(shots) == 1
    assert [(s["prompt"], s["duration"]) for s in shots[0]["multi_prompt"]] == [
        (shot.prompt, str(shot.render_ms // 1000)) for shot in plan.clips[0].shots
    ]
    uploads = fake.requests("upload", "fal")
    assert {u.headers.get("x-fal-file-name") for u in uploads} == {"dawn.png", "mara.png"}


def test_veo_clips_with_cameos_are_planned_at_8_seconds(tmp_path: Path) -> None:
    story = _story(
        tmp_path,
        'title: t\nmodel: veo-3.1-fast\nprovider: fal\nclips: per-shot\n\ncameo mara: "refs/mara.png"',
        'scene "A":\n    shot 4s:\n        action: @mara waves.\n    shot 4s:\n        action: rain.',
    )
    compilation = compile_file(story)
    assert compilation.plan is not None, compilation.diagnostics
    with_mara, rain = compilation.plan.clips
    assert with_mara.request["app"] == "fal-ai/veo3.1/fast/reference-to-video"
    assert with_mara.request["input"]["duration"] == "8s" and with_mara.render_ms == 8000
    assert with_mara.slack == 4000 and with_mara.cost_usd == pytest.approx(8 * 0.10)
    assert rain.request["input"]["duration"] == "4s"


def test_veo_at_4k_has_its_own_price() -> None:
    table = load_table()
    veo, fast = table.offering("fal", "veo-3.1"), table.offering("fal", "veo-3.1-fast")
    assert veo is not None and fast is not None
    assert veo.usd_per_second_for("3840x2160", with_audio=True) == 0.60
    assert veo.usd_per_second_for("3840x2160", with_audio=False) == 0.40
    assert fast.usd_per_second_for("2160x3840", with_audio=True) == 0.35
    assert fast.usd_per_second_for("2160x3840", with_audio=False) == 0.30
    assert fast.usd_per_second_for("1920x1080", with_audio=False) == 0.10


def test_seedance_and_wan_27_take_reference_images(tmp_path: Path) -> None:
    for model, app, field, tag in (
        ("seedance-2", "bytedance/seedance-2.0/fast/reference-to-video", "image_urls", "@Image1"),
        ("wan-2.7", "fal-ai/wan/v2.7/reference-to-video", "reference_image_urls", "Mara"),
    ):
        story = _story(
            tmp_path / model,
            f'title: t\nmodel: {model}\nprovider: fal\n\ncameo mara: "refs/mara.png"',
            'scene "A":\n    shot 5s:\n        action: @mara waves.',
        )
        compilation = compile_file(story)
        assert compilation.plan is not None, compilation.diagnostics
        (clip,) = compilation.plan.clips
        assert clip.request["app"] == app
        assert clip.request["input"][field] == ["<upload of mara.png>"]
        assert tag in clip.request["input"]["prompt"]
        assert "generate_audio" not in clip.request["input"] or model == "seedance-2"


def test_no_wan_request_carries_generate_audio(tmp_path: Path) -> None:
    for model in ("wan-2.6", "wan-2.7"):
        story = _story(
            tmp_path / model,
            f"title: t\nmodel: {model}\nprovider: fal",
            'scene "A":\n    shot 5s:\n        action: rain.\n        sfx: thunder',
        )
        compilation = compile_file(story)
        assert compilation.plan is not None, compilation.diagnostics
        assert "generate_audio" not in compilation.plan.clips[0].request["input"]


def test_prodia_veo_jobs_carry_no_duration(tmp_path: Path) -> None:
    story = _story(
        tmp_path,
        "title: t\nmodel: veo-3.1-fast\nprovider: prodia",
        'scene "A":\n    shot 5s:\n        action: rain.',
    )
    compilation = compile_file(story)
    assert compilation.plan is not None, compilation.diagnostics
    (clip,) = compilation.plan.clips
    assert "duration" not in clip.request["config"] and clip.render_ms == 8000


def _post(fake: FakeProvider, path: str, body: dict[str, object], auth: str) -> httpx.Response:
    return httpx.post(f"{fake.root}{path}", json=body, headers={"Authorization": auth})


def test_the_fakes_refuse_what_the_vendors_refuse(fake: FakeProvider) -> None:
    fal = f"Key {fake.keys['fal']}"
    prodia = f"Bearer {fake.keys['prodia']}"
    wan = _post(fake, "/fal/wan/v2.6/text-to-video", {"prompt": "x", "generate_audio": True}, fal)
    assert wan.status_code == 422 and "generate_audio" in wan.text
    kling = "/fal/fal-ai/kling-video/v3/pro/text-to-video"
    both = {"prompt": "x", "multi_prompt": [{"prompt": "a", "duration": "5"}]}
    assert _post(fake, kling, both, fal).status_code == 422
    short = {"multi_prompt": [{"prompt": "a", "duration": "2"}]}
    assert _post(fake, kling, short, fal).status_code == 422
    long = {"multi_prompt": [{"prompt": "a", "duration": "8"}, {"prompt": "b", "duration": "8"}]}
    assert _post(fake, kling, long, fal).status_code == 422
    seven = [{"prompt": "a", "duration": "3"}] * 7
    assert _post(fake, kling, {"multi_prompt": seven}, fal).status_code == 422
    mismatch = {"multi_prompt": [{"prompt": "a", "duration": "5"}], "duration": "6"}
    assert _post(fake, kling, mismatch, fal).status_code == 422
    good = {"multi_prompt": [{"prompt": "a", "duration": "5"}], "duration": "5"}
    assert _post(fake, kling, {**good, "shot_type": "customize"}, fal).status_code == 200
    veo_ref = {"prompt": "x", "image_urls": [], "duration": "4s"}
    assert (
        _post(fake, "/fal/fal-ai/veo3.1/fast/reference-to-video", veo_ref, fal).status_code == 422
    )
    job = {"type": "inference.veo.fast.txt2vid.v2", "config": {"prompt": "x", "duration": 8}}
    refused = _post(fake, "/prodia/v2/job/async", job, prodia)
    assert refused.status_code == 400 and "duration" in refused.text
    job["config"] = {"prompt": "x"}
    assert _post(fake, "/prodia/v2/job/async", job, prodia).status_code == 201


def test_every_fal_and_prodia_row_cites_its_source_and_date() -> None:
    from storyc.plan import capability_docs

    page = capability_docs.PROVIDERS_PATH.read_text(encoding="utf-8")
    assert capability_docs.updated_sources(page, load_table()) == page, (
        "run `python -m storyc.plan.capability_docs`"
    )
    for offering in load_table().offerings:
        if offering.provider in ("fal", "prodia"):
            assert offering.source and offering.checked == "2026-11-30", offering.model
            assert f"| `{offering.model}` | `{offering.provider}` |" in page

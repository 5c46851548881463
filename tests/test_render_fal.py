"""The fal renderer against a fake fal queue, storage and CDN on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakeprovider import FakeProvider, make_png
from fakeprovider.testing import (
    StoryShot,
    assert_key_errors,
    assert_refusals_reported,
    assert_secret_free,
    kill_once_journaled,
    make_clip,
    make_plan,
    provider_env,
    render,
    storyc,
    write_story,
)

from storyc.frontend import compile_file
from storyc.plan.capabilities import load_table
from storyc.probe import probe
from storyc.providers.fal import FalRenderer, build_request

URL_FIELDS = {"image_url", "image_urls", "start_image_url", "elements"}


# The clips the fake provider serves (width, height, seconds); see tests/conftest.py.
FAKE_MEDIA = ((1280, 720, 4), (1280, 720, 6), (1920, 1080, 5))


def test_every_kind_of_clip_arrives_through_faults(
    fake: FakeProvider, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORYC_HTTP_TIMEOUT_S", "0.5")
    frame = make_png(tmp_path / "frame.png", 1280, 720)
    face = make_png(tmp_path / "mara.png", 512, 512)
    clips = [
        make_clip("fal", "veo-3.1-fast", 1, "veo text to video", seed=7, audio=False),
        make_clip("fal", "veo-3.1-fast", 2, "veo from a frame", seconds=6, input_reference=frame),
        make_clip("fal", "veo-3.1", 3, "veo with mara", seconds=8, cameos=[("mara", face)]),
        make_clip("fal", "kling-3-pro", 4, "kling text", size="1920x1080", seconds=5),
        make_clip(
            "fal",
            "kling-3-pro",
            5,
            "kling @Element1 from a frame",
            size="1920x1080",
            seconds=5,
            input_reference=frame,
            cameos=[("mara", face)],
        ),
        make_clip("fal", "seedance-2", 6, "seedance text", seed=3),
        make_clip("fal", "wan-2.6", 7, "wan text", seconds=5, size="1920x1080"),
    ]
    # A 429 says the job was not taken: retried. (A 5xx may have been: see test_claims.py.)
    fake.faults.script("submit", 429, 429)
    fake.faults.retry_after = "0"
    fake.faults.retry_after = "0.2"
    fake.faults.script("status", 500, 0)
    fake.faults.script("result", 502)
    fake.faults.script("upload", 503)
    fake.faults.script("download", 500)
    fake.faults.slow = {"status": 1}
    fake.faults.cut_downloads = 1
    fake.faults.truncated_downloads = 1

    report = render(make_plan(clips), FalRenderer(), tmp_path / "cache", jobs=7)

    assert report.ok, [str(f) for f in report.failures]
    assert [fake.submit_count(c.prompt) for c in clips] == [1] * len(clips)
    apps = {job.prompt: job.extra["app"] for job in fake.jobs.values()}
    assert apps == {
        "veo text to video": "fal-ai/veo3.1/fast",
        "veo from a frame": "fal-ai/veo3.1/fast/image-to-video",
        "veo with mara": "fal-ai/veo3.1/reference-to-video",
        "kling text": "fal-ai/kling-video/v3/pro/text-to-video",
        "kling @Element1 from a frame": "fal-ai/kling-video/v3/pro/image-to-video",
        "seedance text": "bytedance/seedance-2.0/fast/text-to-video",
        "wan text": "wan/v2.6/text-to-video",
    }
    for rendered in report.rendered:
        assert probe(rendered.path).size == rendered.clip.size
    # Each image went up once (one token), with the token, never the key.
    uploads = [s for s in fake.requests("upload") if s.status == 200]
    assert len(uploads) == 2 and len(fake.requests("token")) == 1
    assert all(s.headers["authorization"].startswith("Bearer ") for s in uploads)
    # Videos come from the CDN (another origin) without the key.
    downloads = fake.requests("download")
    assert len(downloads) == len(clips) + 3
    assert all("authorization" not in s.headers for s in downloads)


def test_the_input_agrees_with_the_request_the_compiler_shows(tmp_path: Path) -> None:
    refs = tmp_path / "refs"
    make_png(refs / "fan.png", 1280, 720)
    make_png(refs / "mara.png", 512, 512)
    story = tmp_path / "veo.story"
    write_story(
        story,
        provider="fal",
        model="veo-3.1-fast",
        header="seed: 42",
        cameos={"mara": "refs/mara.png"},
        shots=[
            StoryShot("@mara unlocks the door", 4),
            StoryShot("the fan turns", 6, image="refs/fan.png"),
            StoryShot("steam rises from a cup", 8),
        ],
    )
    compilation = compile_file(story)
    assert compilation.plan is not None, compilation.diagnostics
    offering = load_table().offering("fal", "veo-3.1-fast")
    assert offering is not None
    for clip in compilation.plan.clips:
        request = build_request(clip, offering)
        assert clip.request == {"app": request.app, "input": request.body}
        # Files are named, never inlined: each placeholder stands for one upload.
        uploads = {f.placeholder: Path(f.path).name for f in request.files}
        assert set(uploads.values()) == {
            Path(p).name for p in [clip.input_reference, *(c.path for c in clip.cameos)] if p
        }
        assert all(text == f"<upload of {name}>" for text, name in uploads.items())
    assert [c.request["input"].keys() & URL_FIELDS for c in compilation.plan.clips] == [
        {"image_urls"},
        {"image_url"},
        set(),
    ]


def test_refused_and_failed_requests_are_reported_in_fals_words(
    fake: FakeProvider, env: dict[str, str], tmp_path: Path
) -> None:
    assert_refusals_reported(
        fake,
        FalRenderer(),
        tmp_path / "cache",
        lambda index, prompt: make_clip("fal", "veo-3.1-fast", index, prompt),
        failed=f"body.prompt: {fake.faults.moderation_message}",
    )


def test_a_clip_the_app_cannot_take_fails_before_anything_is_sent(
    fake: FakeProvider, env: dict[str, str], tmp_path: Path
) -> None:
    face = make_png(tmp_path / "mara.png", 512, 512)
    clip = make_clip(
        "fal",
        "kling-3-pro",
        1,
        "kling cameo without a frame",
        size="1920x1080",
        seconds=5,
        cameos=[("mara", face)],
    )

    report = render(make_plan([clip]), FalRenderer(), tmp_path / "cache")

    (failure,) = report.failures
    assert "first frame" in failure.message
    assert fake.requests() == []


def test_a_refused_or_missing_key_is_one_clear_error(
    fake: FakeProvider, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert_key_errors(
        monkeypatch,
        FalRenderer,
        "FAL_KEY",
        "fal-wrong-key-0123456789:abcdefghij",
        make_clip("fal", "veo-3.1-fast", 1, "wrong key"),
    )


def test_storyc_render_killed_with_sigkill_resumes_without_paying_twice(
    fake: FakeProvider, tmp_path: Path
) -> None:
    make_png(tmp_path / "refs" / "fan.png", 1280, 720)
    write_story(
        tmp_path / "spot.story",
        provider="fal",
        model="veo-3.1-fast",
        shots=[
            StoryShot("a paper boat drifts", 4),
            StoryShot("the fan turns", 6, image="refs/fan.png"),
            StoryShot("rain on a window", 4),
        ],
    )
    env = provider_env(fake, tmp_path / "cache")
    fake.faults.job_seconds = 120
    command = ["render", "spot.story", "--yes", "-o", "out"]

    status, output = kill_once_journaled(command, env, tmp_path, tmp_path / "cache", count=3)

    assert status == -9, output
    fake.release()
    rerun = storyc(command, env, tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    assert len(list((tmp_path / "out" / "clips").glob("*.mp4"))) == 3
    assert fake.total_submits() == 3 and set(fake.submits.values()) == {1}
    third = storyc(command, env, tmp_path)
    assert third.returncode == 0 and fake.total_submits() == 3
    assert_secret_free(
        [tmp_path], [output, rerun.stdout, rerun.stderr, third.stderr], [fake.keys["fal"]]
    )

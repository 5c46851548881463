"""The Prodia renderer against a fake Prodia v2 job API on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from fakeprovider import FakeProvider, make_png
from fakeprovider.testing import (
    StoryShot,
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

from storyc.plan.capabilities import load_table
from storyc.probe import probe
from storyc.providers.errors import KeyRefused, MissingKey
from storyc.providers.prodia import (
    ProdiaRenderer,
    build_request,
    parse_multipart,
    prodia_message,
)

# The clips the fake provider serves (width, height, seconds); see tests/conftest.py.
FAKE_MEDIA = ((1280, 720, 4), (1920, 1080, 8), (720, 1280, 4))


def test_every_clip_arrives_through_faults_on_the_async_api(
    fake: FakeProvider, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORYC_HTTP_TIMEOUT_S", "0.5")
    frame = make_png(tmp_path / "frame.png", 1920, 1080)
    clips = [
        make_clip("prodia", "sora-2", 1, "sora text to video", seed=42),
        make_clip("prodia", "sora-2", 2, "sora portrait", size="720x1280"),
        make_clip(
            "prodia",
            "sora-2-pro",
            3,
            "pro from a frame",
            size="1920x1080",
            seconds=8,
            input_reference=frame,
        ),
        make_clip("prodia", "veo-3.1-fast", 4, "veo with sound", seed=9, seconds=8),
    ]
    # A 429 says the job was not taken: retried. (A 5xx may have been: see test_claims.py.)
    fake.faults.script("submit", 429, 429)
    fake.faults.retry_after = "0"
    fake.faults.retry_after = "0.2"
    fake.faults.script("status", 500, 0)
    fake.faults.script("result", 502)
    fake.faults.script("download", 503)
    fake.faults.slow = {"status": 1}
    fake.faults.cut_downloads = 1
    fake.faults.truncated_downloads = 1

    report = render(make_plan(clips), ProdiaRenderer(), tmp_path / "cache")

    assert report.ok, [str(f) for f in report.failures]
    assert [fake.submit_count(c.prompt) for c in clips] == [1, 1, 1, 1]
    jobs = {job.prompt: job.extra for job in fake.jobs.values()}
    assert jobs["sora text to video"]["type"] == "inference.sora-2.txt2vid.v1"
    assert jobs["sora text to video"]["config"] == {
        "prompt": "sora text to video",
        "aspect_ratio": "16:9",
        "duration": 4,
        "seed": 42,
    }
    assert jobs["pro from a frame"]["type"] == "inference.sora-2.pro.img2vid.v1"
    assert jobs["pro from a frame"]["config"]["resolution"] == "1080p"
    assert jobs["veo with sound"]["config"]["generate_audio"] is True
    for rendered in report.rendered:
        info = probe(rendered.path)
        assert info.size == rendered.clip.size and info.duration_ms == rendered.clip.render_ms
    assert all(s.path.startswith("/prodia/v2/job/async") for s in fake.requests("submit"))


def test_a_job_type_without_async_falls_back_to_the_blocking_call(
    fake: FakeProvider, env: dict[str, str], tmp_path: Path
) -> None:
    fake.faults.prodia_sync_only = ["inference.sora-2.txt2vid.v1"]
    clips = [make_clip("prodia", "sora-2", i, f"sync clip {i}") for i in (1, 2)]

    report = render(make_plan(clips), ProdiaRenderer(), tmp_path / "cache")

    assert report.ok, [str(f) for f in report.failures]
    assert [fake.submit_count(c.prompt) for c in clips] == [1, 1]
    paths = [s.path for s in fake.requests("submit")]
    # One refused async try teaches the renderer; the rest go straight to /v2/job.
    assert paths.count("/prodia/v2/job") == 2 and paths.count("/prodia/v2/job/async") <= 2
    assert not list((tmp_path / "cache" / "prodia-spool").glob("*.mp4"))


def test_sync_mode_sends_the_image_as_a_part_and_reads_the_multipart_answer(
    fake: FakeProvider, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORYC_PRODIA_MODE", "sync")
    frame = make_png(tmp_path / "frame.jpg", 1280, 720)
    clip = make_clip("prodia", "sora-2", 1, "sync from a frame", input_reference=frame)

    report = render(make_plan([clip]), ProdiaRenderer(), tmp_path / "cache")

    assert report.ok, [str(f) for f in report.failures]
    (job,) = fake.jobs.values()
    assert job.extra["type"] == "inference.sora-2.img2vid.v1"
    assert job.extra["config"]["image"] == "input.jpg"
    assert probe(report.rendered[0].path).size == "1280x720"


def test_refused_and_failed_jobs_are_reported_in_prodias_words(
    fake: FakeProvider, env: dict[str, str], tmp_path: Path
) -> None:
    assert_refusals_reported(
        fake,
        ProdiaRenderer(),
        tmp_path / "cache",
        lambda index, prompt: make_clip("prodia", "sora-2", index, prompt),
        failed=fake.faults.moderation_message,
    )


def test_a_refused_or_missing_token_is_one_clear_error(
    fake: FakeProvider, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "prodia-wrong-token-0123456789abcdef"
    monkeypatch.setenv("PRODIA_TOKEN", wrong)

    async def submit_once() -> None:
        renderer = ProdiaRenderer()
        try:
            await renderer.submit(make_clip("prodia", "sora-2", 1, "wrong token"))
        finally:
            await renderer.aclose()

    with pytest.raises(KeyRefused) as refused:
        asyncio.run(submit_once())
    assert str(refused.value).startswith("prodia refused the API key")
    assert_secret_free([], [str(refused.value)], [wrong])

    monkeypatch.delenv("PRODIA_TOKEN")
    with pytest.raises(MissingKey, match="set PRODIA_TOKEN"):
        ProdiaRenderer()


def test_the_job_json_follows_the_offering() -> None:
    table = load_table()
    sora = table.offering("prodia", "sora-2")
    veo = table.offering("prodia", "veo-3.1")
    assert sora is not None and veo is not None
    clip = make_clip("prodia", "sora-2", 1, "harbour at dawn", size="720x1280", seconds=12)
    framed = clip.model_copy(update={"input_reference": "/stories/refs/harbour.png"})
    request = build_request(framed, sora)
    assert request.multipart and request.body == {
        "job": {
            "type": "inference.sora-2.img2vid.v1",
            "config": {
                "prompt": "harbour at dawn",
                "image": "input.png",
                "aspect_ratio": "9:16",
                "duration": 12,
            },
        },
        "input": "@harbour.png;filename=input.png",
    }
    assert [(f.placeholder, f.path, f.part_filename) for f in request.files] == [
        ("@harbour.png;filename=input.png", "/stories/refs/harbour.png", "input.png")
    ]
    assert build_request(clip, sora).body == {
        "type": "inference.sora-2.txt2vid.v1",
        "config": {"prompt": "harbour at dawn", "aspect_ratio": "9:16", "duration": 12},
    }
    wide = make_clip("prodia", "veo-3.1", 2, "falls", size="1920x1080", seconds=8, audio=False)
    assert build_request(wide, veo).body["config"] == {
        "prompt": "falls",
        "aspect_ratio": "16:9",
        "resolution": "1080p",
        "generate_audio": False,
    }
    # The Veo job types take no `duration` (`unevaluatedProperties: false`): the fake refuses it.
    assert "duration" not in build_request(wide, veo).body["config"]


def test_multipart_answers_are_split_into_their_parts() -> None:
    video = b"\x00\x00\x00\x18ftypmp42\r\n--not-the-boundary\r\n\r\n\x00\xff"
    job = json.dumps({"id": "job-1", "error": "blocked"}).encode()
    body = (
        b'--b0undary\r\nContent-Disposition: form-data; name="job"; filename="job.json"\r\n'
        b"Content-Type: application/json\r\n\r\n" + job + b"\r\n"
        b'--b0undary\r\nContent-Disposition: form-data; name="output"; filename="video.mp4"\r\n'
        b"Content-Type: video/mp4\r\n\r\n" + video + b"\r\n--b0undary--\r\n"
    )
    content_type = 'multipart/form-data; boundary="b0undary"'

    parts = parse_multipart(body, content_type)

    assert [(p.name, p.filename, p.content_type) for p in parts] == [
        ("job", "job.json", "application/json"),
        ("output", "video.mp4", "video/mp4"),
    ]
    assert parts[1].data == video
    refused = httpx.Response(400, content=body, headers={"content-type": content_type})
    assert prodia_message(refused) == "blocked"


def test_storyc_render_killed_with_sigkill_resumes_without_paying_twice(
    fake: FakeProvider, tmp_path: Path
) -> None:
    write_story(
        tmp_path / "spot.story",
        provider="prodia",
        model="sora-2",
        header="seed: 5",
        shots=[StoryShot(f"a kite rises, take {n}", 4) for n in range(1, 4)],
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
        [tmp_path], [output, rerun.stdout, rerun.stderr, third.stderr], [fake.keys["prodia"]]
    )

"""The OpenAI renderer against a fake OpenAI Videos API on 127.0.0.1 (tests/fakeprovider)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fakeprovider import FakeProvider, make_png
from fakeprovider.testing import (
    StoryShot,
    assert_key_errors,
    assert_secret_free,
    kill_once_journaled,
    make_clip,
    make_plan,
    provider_env,
    render,
    storyc,
    write_story,
)

from storyc.probe import probe
from storyc.providers.openai import OpenAIRenderer

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


# The clips the fake provider serves (width, height, seconds); see tests/conftest.py.
FAKE_MEDIA = ((1280, 720, 4), (1280, 720, 8))


def clips(count: int, tag: str, **kwargs: object) -> list:
    return [
        make_clip("openai", "sora-2", i, f"{tag}: clip {i}", **kwargs) for i in range(1, count + 1)
    ]


def test_every_clip_arrives_through_5xx_timeouts_dropped_and_cut_downloads(
    fake: FakeProvider, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORYC_HTTP_TIMEOUT_S", "0.5")
    image = make_png(tmp_path / "first.png", 1280, 720)
    plan_clips = [
        *clips(3, "faults"),
        make_clip("openai", "sora-2", 4, "faults: from an image", input_reference=image),
    ]
    # A 429 says the job was not taken: retried. (A 5xx may have been: see test_claims.py.)
    fake.faults.script("submit", 429, 429)
    fake.faults.retry_after = "0"
    fake.faults.script("status", 500, 0, 502)  # 0: the server hangs up without answering
    fake.faults.script("download", 503, 0)
    fake.faults.slow = {"status": 1}
    fake.faults.slow_s = 1.5  # longer than the 0.5 s timeout: the client gives up, retries
    fake.faults.cut_downloads = 1
    fake.faults.truncated_downloads = 1

    report = render(make_plan(plan_clips), OpenAIRenderer(), tmp_path / "cache")

    assert report.ok, [str(f) for f in report.failures]
    assert [fake.submit_count(c.prompt) for c in plan_clips] == [1, 1, 1, 1]
    for rendered in report.rendered:
        info = probe(rendered.path)
        assert (info.size, info.duration_ms, info.has_audio) == ("1280x720", 4000, True)
    # 2 bad answers + a cut file + a truncated one were fetched again.
    assert len(fake.requests("download")) == len(plan_clips) + 4
    assert fake.jobs[next(iter(fake.jobs))].extra["model"] == "sora-2"


def asked_sleeps(
    monkeypatch: pytest.MonkeyPatch, fake: FakeProvider, kind: str
) -> list[tuple[int, float]]:
    """Every `asyncio.sleep` asked for in this process from now on, with how many `kind`
    requests the server had seen when it was asked. The sleep still happens: this records
    what the code decided to wait, not how long the machine took."""
    real_sleep = asyncio.sleep
    asked: list[tuple[int, float]] = []

    def sleep(delay: float, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        asked.append((len(fake.requests(kind)), delay))
        return real_sleep(delay, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(asyncio, "sleep", sleep)
    return asked


def test_a_429_waits_as_long_as_retry_after_asks(
    fake: FakeProvider, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.faults.script("submit", 429)
    fake.faults.retry_after = "1"
    asked = asked_sleeps(monkeypatch, fake, "submit")

    report = render(make_plan(clips(1, "rate limited")), OpenAIRenderer(), tmp_path / "cache")

    assert report.ok
    first, second = fake.requests("submit")
    assert first.status == 429 and second.status == 200
    # Between the 429 and the retry the client asked for Retry-After's second (the backoff
    # base is 0.01 s here, so a wait computed without Retry-After would be 0.01-0.02 s).
    between = [delay for seen, delay in asked if seen == 1 and delay > 0]
    assert 1.0 in between, asked


def test_a_submit_whose_answer_never_came_is_not_sent_again(
    fake: FakeProvider, env: dict[str, str], tmp_path: Path
) -> None:
    fake.faults.script("submit", 0)  # the connection drops before any answer

    report = render(make_plan(clips(1, "lost answer")), OpenAIRenderer(), tmp_path / "cache")

    (failure,) = report.failures
    assert failure.uncertain and "may have reached openai" in failure.message
    assert "--resubmit 01" in failure.message
    assert len(fake.requests("submit")) == 1  # a second try could have paid twice


def test_polls_at_the_interval_openai_poll_after_ms_gives(
    fake: FakeProvider, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.faults.poll_after_ms = 300
    fake.faults.job_seconds = 1.2
    asked = asked_sleeps(monkeypatch, fake, "status")

    render(make_plan(clips(1, "polling")), OpenAIRenderer(), tmp_path / "cache")

    polls = len(fake.requests("status"))
    assert polls >= 2
    # After each status answer but the last, before the next status request, the engine
    # asked to wait the 0.3 s the answer gave (STORYC_POLL_INTERVAL_S is 0.05 here).
    for answered in range(1, polls):
        waits = [delay for seen, delay in asked if seen == answered and delay > 0]
        assert 0.3 in waits, (answered, asked)


def test_a_second_run_takes_everything_from_the_cache(
    fake: FakeProvider, env: dict[str, str], tmp_path: Path
) -> None:
    plan = make_plan(clips(3, "cached"))
    render(plan, OpenAIRenderer(), tmp_path / "cache")
    before = len(fake.requests())

    again = render(plan, OpenAIRenderer(), tmp_path / "cache")

    assert again.ok and again.cached == 3 and again.submitted == 0
    assert len(fake.requests()) == before  # not one request to the provider


def test_a_cameo_is_uploaded_once_per_key_and_file(
    fake: FakeProvider, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mara = [("mara", EXAMPLES / "refs" / "mara.mp4")]
    plan = make_plan(clips(2, "mara, a barista", cameos=mara))

    first = render(plan, OpenAIRenderer(), tmp_path / "cache")
    forced = render(
        make_plan(clips(2, "mara again", cameos=mara)), OpenAIRenderer(), tmp_path / "cache"
    )

    assert first.ok and forced.ok
    assert fake.character_uploads["mara"] == 1
    ids = {tuple(job.extra["characters"]) for job in fake.jobs.values()}
    assert len(ids) == 1 and next(iter(ids))[0].startswith("char_")
    stored = (tmp_path / "cache" / "uploads.json").read_text()
    assert next(iter(ids))[0] in stored

    other_key = "sk-another-account-9876543210zyxwvu"
    monkeypatch.setitem(fake.keys, "openai", other_key)
    monkeypatch.setenv("OPENAI_API_KEY", other_key)
    render(
        make_plan(clips(1, "mara, other account", cameos=mara)),
        OpenAIRenderer(),
        tmp_path / "cache",
    )
    assert fake.character_uploads["mara"] == 2
    assert_secret_free([tmp_path / "cache"], [], [other_key, env["OPENAI_API_KEY"]])


def test_the_key_can_travel_in_an_api_key_header(
    fake: FakeProvider, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.faults.openai_auth = "api-key"
    monkeypatch.setenv("STORYC_OPENAI_AUTH", "api-key")

    report = render(make_plan(clips(1, "azure style")), OpenAIRenderer(), tmp_path / "cache")

    assert report.ok
    seen = fake.requests(provider="openai")
    assert seen and all("api-key" in s.headers and "authorization" not in s.headers for s in seen)


def test_a_first_frame_of_the_wrong_size_is_reported_in_openais_words(
    fake: FakeProvider, env: dict[str, str], tmp_path: Path
) -> None:
    image = make_png(tmp_path / "small.png", 640, 360)
    good, bad = [
        *clips(1, "fine"),
        make_clip("openai", "sora-2", 2, "too small a first frame", input_reference=image),
    ]

    report = render(make_plan([good, bad]), OpenAIRenderer(), tmp_path / "cache")

    assert [r.clip.id for r in report.rendered] == [good.id]
    (failure,) = report.failures
    assert "Inpaint image must match the requested width and height" in failure.message
    assert failure.location == "stories/test.story:20"


def test_a_refused_or_missing_key_is_one_clear_error(
    fake: FakeProvider, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert_key_errors(
        monkeypatch,
        OpenAIRenderer,
        "OPENAI_API_KEY",
        "sk-wrong-key-abcdefghijklmnop0123",
        clips(1, "wrong key")[0],
    )


# --- the command line, end to end ------------------------------------------------------------


def test_storyc_render_reports_rejected_and_failed_clips_and_delivers_the_rest(
    fake: FakeProvider, tmp_path: Path
) -> None:
    shots = write_story(
        tmp_path / "spot.story",
        provider="openai",
        model="sora-2",
        shots=[
            StoryShot("a kettle whistles on the stove", 4),
            StoryShot("REJECT-JOB a crowd cheers in the square", 4),
            StoryShot("FAIL-JOB a dog chases a ball", 4),
        ],
    )
    env = provider_env(fake, tmp_path / "cache")

    result = storyc(["render", "spot.story", "--yes", "-o", "out"], env, tmp_path)

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.count(fake.faults.moderation_message) >= 2
    assert f"spot.story:{shots[1].line}" in result.stderr
    assert f"spot.story:{shots[2].line}" in result.stderr
    delivered = sorted(p.name for p in (tmp_path / "out" / "clips").glob("*.mp4"))
    assert len(delivered) == 1 and delivered[0].startswith("01-")
    assert all(n == 1 for n in fake.submits.values()) and len(fake.submits) == 2
    assert_secret_free([tmp_path], [result.stdout, result.stderr], [fake.keys["openai"]])


def test_storyc_render_killed_with_sigkill_resumes_without_paying_twice(
    fake: FakeProvider, tmp_path: Path
) -> None:
    write_story(
        tmp_path / "spot.story",
        provider="openai",
        model="sora-2",
        shots=[StoryShot(f"a paper boat drifts, take {n}", 4) for n in range(1, 4)],
    )
    env = provider_env(fake, tmp_path / "cache")
    fake.faults.job_seconds = 120  # the jobs are still running when the kill comes
    command = ["render", "spot.story", "--yes", "-o", "out"]

    status, output = kill_once_journaled(command, env, tmp_path, tmp_path / "cache", count=3)

    assert status == -9, output
    assert not list((tmp_path / "out").glob("clips/*.mp4"))
    fake.release()
    rerun = storyc(command, env, tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    assert len(list((tmp_path / "out" / "clips").glob("*.mp4"))) == 3
    assert fake.total_submits() == 3 and set(fake.submits.values()) == {1}

    third = storyc(command, env, tmp_path)
    assert third.returncode == 0 and fake.total_submits() == 3
    assert_secret_free(
        [tmp_path], [output, rerun.stdout, rerun.stderr, third.stderr], [fake.keys["openai"]]
    )


def test_storyc_render_with_a_wrong_or_missing_key_says_so_in_one_sentence(
    fake: FakeProvider, tmp_path: Path
) -> None:
    write_story(
        tmp_path / "spot.story",
        provider="openai",
        model="sora-2",
        shots=[StoryShot("a lighthouse blinks", 4)],
    )
    wrong = "sk-not-the-right-key-0123456789abc"
    command = ["render", "spot.story", "--yes", "-o", "out"]

    refused = storyc(command, provider_env(fake, tmp_path / "c1", OPENAI_API_KEY=wrong), tmp_path)
    missing = storyc(command, provider_env(fake, tmp_path / "c2", keys=False), tmp_path)

    for result in (refused, missing):
        assert result.returncode != 0
        assert "Traceback" not in result.stderr + result.stdout
        assert result.stderr.count("error:") == 1
    assert "openai refused the API key" in refused.stderr
    assert "set OPENAI_API_KEY" in missing.stderr
    assert fake.total_submits() == 0
    assert_secret_free([tmp_path], [refused.stdout, refused.stderr], [wrong])

"""One clock: whole milliseconds inside, one timecode form for people, exact frames and
samples at the assembly edge."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storyc.plan.capabilities import load_table
from storyc.plan.schema import Clip, ClipPlan
from storyc.units import (
    format_duration,
    frames_to_ms,
    frames_to_samples,
    frames_to_seconds,
    ms_to_frames,
    ms_to_samples,
    ms_to_seconds,
    parse_duration,
    seconds_text,
    seconds_to_ms,
    srt_time,
    timecode,
    whole_seconds,
)

NTSC = Fraction(30000, 1001)
RATES = [Fraction(24), Fraction(25), Fraction(30), NTSC, Fraction(24000, 1001)]


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "0:00.000"),
        (4000, "0:04.000"),
        (62_500, "1:02.500"),
        (61_050, "1:01.050"),
        (599_999, "9:59.999"),
        (3_723_004, "62:03.004"),
        (-1500, "-0:01.500"),
    ],
)
def test_timecode_is_minutes_seconds_milliseconds(ms: int, text: str) -> None:
    assert timecode(ms) == text


def test_every_view_uses_the_one_timecode() -> None:
    from storyc.board import page
    from storyc.providers import preview
    from storyc.tooling import editor

    assert page.timecode is preview.timecode is editor.timecode is timecode


def test_srt_time_is_the_subrip_format() -> None:
    assert srt_time(62_500) == "00:01:02,500"
    assert srt_time(3_723_004) == "01:02:03,004"
    assert srt_time(0) == "00:00:00,000"


@given(st.integers(min_value=0, max_value=10 * 3_600_000))
def test_a_timecode_reads_back_as_the_same_milliseconds(ms: int) -> None:
    assert parse_duration(timecode(ms)) == ms


@given(st.integers(min_value=0, max_value=10 * 3_600_000))
def test_a_formatted_duration_reads_back_as_the_same_milliseconds(ms: int) -> None:
    assert parse_duration(format_duration(ms)) == ms
    assert seconds_to_ms(ms_to_seconds(ms)) == ms


@pytest.mark.parametrize(
    ("text", "ms"),
    [("4s", 4000), ("3.5s", 3500), ("1500ms", 1500), ("0:04", 4000), ("1:02.5", 62_500)],
)
def test_durations_in_the_story_syntax(text: str, ms: int) -> None:
    assert parse_duration(text) == ms


@pytest.mark.parametrize("text", ["4", "s", "1:xx", "four s", ""])
def test_malformed_durations_are_none(text: str) -> None:
    assert parse_duration(text) is None


def test_durations_for_people() -> None:
    assert [format_duration(ms) for ms in (4000, 3500, 250, 0)] == ["4s", "3.5s", "0.25s", "0s"]
    assert seconds_text(12_000) == "12"


def test_whole_seconds_refuses_a_fraction() -> None:
    assert whole_seconds(8000) == 8
    with pytest.raises(ValueError):
        whole_seconds(8500)


@pytest.mark.parametrize("fps", RATES, ids=str)
@given(frame=st.integers(min_value=0, max_value=24 * 3600 * 10))
def test_a_frame_survives_a_round_trip_through_milliseconds(fps: Fraction, frame: int) -> None:
    # A frame lasts more than a millisecond, so its start time names it exactly.
    assert ms_to_frames(frames_to_ms(frame, fps), fps) == frame


@pytest.mark.parametrize("fps", RATES, ids=str)
@given(ms=st.integers(min_value=0, max_value=3_600_000 * 10))
def test_milliseconds_land_on_the_nearest_frame(fps: Fraction, ms: int) -> None:
    frame = ms_to_frames(ms, fps)
    # The frame's time is within half a frame of `ms` (and of a ms of rounding).
    assert abs(Fraction(frame) / fps - Fraction(ms, 1000)) <= 1 / (2 * fps)
    assert abs(frames_to_ms(frame, fps) - ms) <= Fraction(1000, 2) / fps + 1


def test_frames_and_samples_at_common_rates() -> None:
    assert ms_to_frames(1000, 24) == 24
    assert ms_to_frames(1000, 25) == 25
    assert ms_to_frames(1001, NTSC) == 30
    assert frames_to_ms(30, NTSC) == 1001
    assert frames_to_seconds(30, NTSC) == Fraction(1001, 1000)
    assert frames_to_samples(24, Fraction(24), 48_000) == 48_000
    assert frames_to_samples(30, NTSC, 48_000) == 48_048
    assert ms_to_samples(5, 48_000) == 240
    assert ms_to_samples(5, 44_100) == 220  # 220.5 rounds to even


def test_the_plan_keeps_integer_ms_and_spells_seconds_at_the_request_edge() -> None:
    table = load_table()
    fields = {
        "id": "c",
        "index": 1,
        "scene": "S",
        "scene_index": 1,
        "api_model": "x",
        "size": "1280x720",
        "render_ms": 8000,
        "duration": 7500,
        "slack": 500,
        "film_start": 0,
        "seed": None,
        "prompt": "p",
        "audio": True,
        "cost_usd": 0.0,
        "shots": (),
        "request": {},
    }
    for offering in table.offerings:
        clip = Clip(provider=offering.provider, model=offering.model, **fields)
        assert clip.render_seconds == 8
        assert clip.seconds == offering.seconds_value(8)
    assert "seconds" not in Clip.model_fields


def test_a_plan_written_with_spelled_seconds_still_reads() -> None:
    clip = {
        "id": "c",
        "index": 1,
        "scene": "S",
        "scene_index": 1,
        "provider": "openai",
        "model": "sora-2",
        "api_model": "sora-2",
        "size": "1280x720",
        "seconds": "8",
        "render_ms": 8000,
        "duration": 8000,
        "slack": 0,
        "film_start": 0,
        "seed": None,
        "prompt": "p",
        "audio": True,
        "cost_usd": 0.0,
        "shots": [],
        "request": {},
    }
    header = {
        "title": "T",
        "source": "t.story",
        "model": "sora-2",
        "provider": "openai",
        "size": "1280x720",
        "fps": None,
        "style": None,
        "seed": None,
        "clips": "packed",
    }
    plan = ClipPlan.model_validate(
        {"story": header, "clips": [clip], "duration": 8000, "render_seconds": 8, "cost_usd": 0}
    )
    assert plan.clips[0].seconds == "8"
    assert '"seconds"' not in plan.to_json().split('"request"')[0]

"""The offline preview renderer, read back from real MP4 files with the probe."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest
from render_clips import make_clip, make_plan

from storyc.frontend import compile_file
from storyc.probe import ProbeError, ffmpeg_exe, probe
from storyc.providers.base import Renderer
from storyc.providers.preview import (
    FPS,
    PreviewRenderer,
    draw_card,
    frame_count,
    render_clip,
    segments,
    timecode,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_segments_cover_the_render_length_in_whole_frames() -> None:
    # 1.37 s and 2.9 s do not fall on frame boundaries; the segments still add up exactly.
    clip = make_clip(render_ms=8000, shots=((0, 1370), (1370, 4270), (4270, 7100)))
    parts = segments(clip)
    assert [p.shot.index for p in parts if p.shot] == [1, 2, 3]
    assert sum(p.frames for p in parts) == frame_count(8000) == 192
    assert parts[0].frames == frame_count(1370)  # 32.88 -> 33 frames
    # The slack after the last shot (7.1 s .. 8 s) shows the last shot's card.
    assert parts[-1].frames == 192 - frame_count(4270)


def test_timecode_is_minutes_seconds_milliseconds() -> None:
    # The one form every view prints (storyc.units.timecode).
    assert timecode(83_500) == "1:23.500"
    assert timecode(0) == "0:00.000"


async def test_clip_has_the_planned_size_length_fps_and_an_aac_track(tmp_path: Path) -> None:
    clip = make_clip(render_ms=8000, shots=((0, 3000), (3000, 7500)), dialogue=True)
    output = tmp_path / "clip.mp4"
    await render_clip(clip, output)
    info = probe(output)
    assert (info.width, info.height) == (1280, 720)
    assert info.fps == FPS == 24
    assert info.video_frames == 8000 * 24 // 1000 == 192
    assert info.video_codec == "h264"
    assert info.pix_fmt == "yuv420p"
    assert info.audio_codec == "aac"
    assert info.audio_sample_rate == 48_000
    assert info.audio_duration_ms == 8000
    assert info.duration_ms == 8000


async def test_portrait_clip_keeps_its_size(tmp_path: Path) -> None:
    clip = make_clip(render_ms=4000, size="720x1280", shots=((0, 4000),))
    output = tmp_path / "portrait.mp4"
    await render_clip(clip, output)
    info = probe(output)
    assert (info.width, info.height, info.video_frames) == (720, 1280, 96)
    assert info.has_audio and info.audio_duration_ms == 4000


def _grey_frame(video: Path, seconds: float, size: str = "160x90") -> bytes:
    """One frame, scaled down and grey, as raw bytes (for comparing pictures)."""
    cmd = [ffmpeg_exe(), "-v", "error", "-ss", f"{seconds}", "-i", str(video), "-frames:v", "1"]
    cmd += ["-vf", f"scale={size},format=gray", "-f", "rawvideo", "-"]
    return subprocess.run(cmd, capture_output=True, check=True).stdout


async def test_cards_push_in_so_the_picture_moves(tmp_path: Path) -> None:
    clip = make_clip(render_ms=4000, shots=((0, 4000),))
    output = tmp_path / "clip.mp4"
    await render_clip(clip, output)
    first, last = _grey_frame(output, 0.0), _grey_frame(output, 3.9)
    changed = sum(1 for a, b in zip(first, last, strict=True) if abs(a - b) > 24)
    assert len(first) == 160 * 90
    assert changed > 100  # text drifted outward: a real push-in, not a still


def test_dialogue_is_drawn_as_a_subtitle_at_the_bottom() -> None:
    with_line = make_clip(dialogue=True)
    without = make_clip(dialogue=False)
    bottom = (0, 600, 1280, 720)
    speaking = draw_card(with_line, with_line.shots[0], 1280, 720).crop(bottom)
    silent = draw_card(without, without.shots[0], 1280, 720).crop(bottom)
    # The subtitle is white text on a black box; the silent card's bottom is background.
    assert (0, 0, 0) in {c for _, c in speaking.getcolors(1 << 20)}
    assert len(silent.getcolors(1 << 20)) == 1


async def test_preview_renderer_follows_the_protocol(tmp_path: Path) -> None:
    renderer = PreviewRenderer()
    assert isinstance(renderer, Renderer)
    assert renderer.paid is False
    clip = make_clip()
    job = await renderer.submit(clip)
    status = await renderer.status(clip, job)
    assert status.state == "completed"
    await renderer.download(clip, job, tmp_path / "out.mp4")
    assert probe(tmp_path / "out.mp4").video_frames == 96
    await renderer.aclose()


def test_probe_refuses_a_file_cut_short(tmp_path: Path) -> None:
    whole = tmp_path / "whole.mp4"
    asyncio.run(render_clip(make_clip(), whole))
    data = whole.read_bytes()
    (tmp_path / "head.mp4").write_bytes(data[: len(data) // 2])
    (tmp_path / "tail.mp4").write_bytes(data[len(data) // 2 :])
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "text.mp4").write_text("not a video")
    for name in ("head.mp4", "tail.mp4", "empty.mp4", "text.mp4", "missing.mp4"):
        with pytest.raises(ProbeError):
            probe(tmp_path / name)


@pytest.mark.slow
async def test_every_shared_example_renders_to_plan(tmp_path: Path) -> None:
    """All four shared examples: every clip at its planned size and length. (How fast is
    measured by `bench/render.py preview`, not asserted here: a test cannot know the machine.)"""
    clips = []
    for story in sorted(EXAMPLES.glob("*.story")):
        compilation = compile_file(story, provider="preview")
        assert compilation.plan is not None, f"{story.name} does not compile"
        clips += compilation.plan.clips
    assert len(clips) >= 4
    plan = make_plan(list(clips))
    renderer = PreviewRenderer()
    gate = asyncio.Semaphore(4)

    async def one(n: int) -> Path:
        async with gate:
            path = tmp_path / f"{n:02d}.mp4"
            await renderer.download(plan.clips[n], await renderer.submit(plan.clips[n]), path)
            return path

    # The timeout only guards the test run against a hang (a few seconds is usual).
    paths = await asyncio.wait_for(
        asyncio.gather(*(one(n) for n in range(len(plan.clips)))), timeout=300
    )
    for clip, path in zip(plan.clips, paths, strict=True):
        info = probe(path)
        assert info.size == clip.size
        assert info.video_frames == clip.render_ms * 24 // 1000
        assert info.audio_codec == "aac" and info.audio_duration_ms == clip.render_ms

"""`storyc build` through the command line on the shared examples, with the free preview.

Each film is read back: its length against the plan (within one frame), size, frame rate,
the AAC sound track, the subtitles' cue times and the edit list.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import storyc_main
from opened import opened

from storyc.assemble.mp4 import read_mp4
from storyc.plan.schema import ClipPlan
from storyc.probe import probe

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def storyc(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STORYC_CACHE_DIR": str(cache), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "storyc.cli", *args], capture_output=True, text=True, env=env
    )


def check_film(folder: Path, stem: str) -> ClipPlan:
    plan = ClipPlan.read(folder / "plan.json")
    film = folder / f"{stem}.mp4"
    info = probe(film)
    width, height = (int(n) for n in plan.story.size.split("x"))
    assert (info.width, info.height) == (width, height)
    assert info.fps == 24 and info.video_codec == "h264"
    assert info.audio_codec == "aac" and info.audio_sample_rate == 48000
    assert abs(info.video_duration_ms - plan.duration) <= 1000 / 24
    assert info.audio_duration_ms is not None
    assert abs(info.audio_duration_ms - plan.duration) <= 1000 / 24
    assert read_mp4(film).moov_first
    assert sorted(p.name for p in (folder / "clips").iterdir()) == sorted(
        f"{clip.stem}.mp4" for clip in plan.clips
    )
    return plan


def test_build_cafe_crossfades_trims_and_writes_subtitles(tmp_path: Path) -> None:
    import opentimelineio as otio

    out = tmp_path / "cafe"
    done = storyc("build", str(EXAMPLES / "cafe.story"), "-o", str(out), cache=tmp_path / "cache")
    assert done.returncode == 0, done.stderr
    plan = check_film(out, "cafe")
    assert plan.duration == 11_000  # 8 s + 3.5 s trimmed, 0.5 s crossfade
    assert "moviepy" in done.stderr  # the whole film had to be re-encoded: it says so
    # The dialogue is in shot 2 (4-8 s of clip 1); the dissolve into clip 2 runs 7.5-8 s,
    # so the line ends at its middle.
    assert (out / "cafe.srt").read_text(encoding="utf-8") == (
        "1\n00:00:04,000 --> 00:00:07,750\nMara: First one's always for me.\n"
    )
    timeline = otio.adapters.read_from_file(str(out / "cafe.otio"))
    assert timeline.duration().to_frames() == 264
    kinds = [type(item).__name__ for item in timeline.video_tracks()[0]]
    assert kinds == ["Clip", "Transition", "Clip"]


def test_build_bike_is_stream_copied_and_a_rebuild_does_nothing(tmp_path: Path) -> None:
    out = tmp_path / "bike"
    cache = tmp_path / "cache"
    done = storyc("build", str(EXAMPLES / "bike.story"), "-o", str(out), cache=cache)
    assert done.returncode == 0, done.stderr
    assert "lossless" in done.stderr
    plan = check_film(out, "bike")
    assert plan.duration == 12_000
    film = out / "bike.mp4"
    assert read_mp4(film).video_frames == 288
    stamp = film.stat().st_mtime_ns

    # The rebuild in this process, so that every file it opens can be seen.
    with opened() as names:
        again = storyc_main(
            ["build", str(EXAMPLES / "bike.story"), "-o", str(out)],
            cwd=tmp_path,
            env={"STORYC_CACHE_DIR": str(cache), "COLUMNS": "200"},
        )
    assert again.returncode == 0, again.stderr
    assert "up to date" in again.stderr
    assert "rendered" in again.stderr and "0 rendered" in again.stderr
    assert film.stat().st_mtime_ns == stamp
    # Compile and compare the stamp, no assembly: not one video byte read, cached or built.
    videos = [name for name in names if name.endswith(".mp4")]
    assert videos == [], videos


def test_build_renders_a_damaged_clip_again_and_assembles_a_whole_film(tmp_path: Path) -> None:
    out = tmp_path / "product"
    cache = tmp_path / "cache"
    assert (
        storyc("build", str(EXAMPLES / "product.story"), "-o", str(out), cache=cache).returncode
        == 0
    )
    # Damage the clip everywhere it lives (the build folder links it from the cache). The
    # cache checks its files, so the clip is rendered again instead of reaching assembly
    # (assembly's own message for a damaged file is tested in test_assemble.py).
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    clip_id = plan["clips"][0]["id"]
    for path in [*cache.rglob(f"*{clip_id}*.mp4"), *(out / "clips").glob("*.mp4")]:
        path.unlink()
        path.write_bytes(b"\0\0\0\x18ftypisom" + b"\0" * 100)
    done = storyc("build", str(EXAMPLES / "product.story"), "-o", str(out), cache=cache)
    assert done.returncode == 0, done.stderr
    assert "up to date" not in done.stderr
    check_film(out, "product")


def test_build_with_story_errors_exits_1_and_writes_nothing(tmp_path: Path) -> None:
    story = tmp_path / "bad.story"
    shutil.copy(EXAMPLES / "cafe.story", story)
    story.write_text(story.read_text(encoding="utf-8") + "\n    shot 4s:\n        camera: @ghost\n")
    done = storyc("build", str(story), "-o", str(tmp_path / "out"), cache=tmp_path / "cache")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out" / "bad.mp4").exists()


@pytest.mark.parametrize("story", ["waterfall"])
def test_build_single_clip_story(tmp_path: Path, story: str) -> None:
    out = tmp_path / story
    done = storyc("build", str(EXAMPLES / f"{story}.story"), "-o", str(out), cache=tmp_path / "c")
    assert done.returncode == 0, done.stderr
    check_film(out, story)

"""Assembly, read back from real MP4 files: lengths, packets, pictures, sound, SRT, OTIO.

The clips are real H.264 + AAC files made with the bundled ffmpeg (320x180 so that every
encode stays fast; nothing here depends on the size except the letterbox test).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from assemble_support import ClipSpec, make_clip, make_plan

from storyc.assemble import assemble_film, write_otio, write_srt
from storyc.assemble.mp4 import read_mp4
from storyc.assemble.soundtrack import AudioFormat, mix_soundtrack
from storyc.assemble.stamp import is_up_to_date, write_stamp
from storyc.assemble.subtitles import subtitle_cues
from storyc.assemble.timeline import build_timeline
from storyc.errors import StorycError
from storyc.probe import ffmpeg_exe, probe

W, H = 320, 180
FRAME_MS = 1000 / 24


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    # `medium` has B-frames and an edit list, like most providers' files.
    made = {
        name: make_clip(folder / f"{name}.mp4", tone_hz=hz, preset="medium")
        for name, hz in (("a", 300), ("b", 500), ("c", 700))
    }
    for name, hz in (("qa", 330), ("qb", 550)):
        made[name] = make_clip(
            folder / f"{name}.mp4", tone_hz=hz, preset="medium", quiet_edges=True
        )
    made["square"] = make_clip(
        folder / "square.mp4", size="180x180", pattern="testsrc", preset="medium"
    )
    made["fps30"] = make_clip(folder / "fps30.mp4", fps=30, tone_hz=900, preset="medium")
    made["half"] = make_clip(folder / "half.mp4", ms=500, tone_hz=800, preset="medium")
    return made


def packet_hashes(path: Path, stream: str = "v") -> list[str]:
    """MD5 of every packet of the stream, as stored (no decoding)."""
    copy = ["-map", f"0:{stream}", "-c", "copy", "-f", "framemd5", "-"]
    out = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), *copy],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # stream, dts, pts, duration, size, hash[, side data...]
    return [line.split(",")[5].strip() for line in out.splitlines() if not line.startswith("#")]


def rgb_frames(path: Path, width: int = W, height: int = H) -> np.ndarray:
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, height, width, 3).astype(np.float32)


def sound(path: Path) -> np.ndarray:
    raw = subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-i",
            str(path),
            "-map",
            "0:a",
            "-f",
            "f32le",
            "-ac",
            "1",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, "<f4")


def decodes_cleanly(path: Path) -> bool:
    done = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "null", "-"],
        capture_output=True,
        text=True,
    )
    return done.returncode == 0 and not done.stderr.strip()


def blend_weight(frame: np.ndarray, outgoing: np.ndarray, incoming: np.ndarray) -> float:
    """How far `frame` is from `outgoing` towards `incoming` (0..1), where they differ."""
    differ = np.abs(incoming - outgoing) > 40
    return float(((frame - outgoing)[differ] / (incoming - outgoing)[differ]).mean())


def assert_film(path: Path, *, ms: int, size: tuple[int, int] = (W, H)) -> None:
    info = probe(path)
    assert (info.width, info.height) == size
    assert info.fps == 24
    assert info.video_codec == "h264" and info.pix_fmt == "yuv420p"
    assert info.audio_codec == "aac"
    assert abs(info.video_duration_ms - ms) <= FRAME_MS
    assert info.audio_duration_ms is not None and abs(info.audio_duration_ms - ms) <= FRAME_MS
    assert read_mp4(path).moov_first, "the film is not faststart"
    assert decodes_cleanly(path)


# --- the lossless path ---------------------------------------------------------------


def test_hard_cut_film_is_bit_exact_in_its_video_packets(clips, tmp_path) -> None:
    sources = [clips["a"], clips["b"], clips["c"]]
    plan = make_plan([ClipSpec(1000)] * 3)
    report = assemble_film(plan, sources, tmp_path / "film.mp4")
    assert report.path == "lossless"
    assert report.copied == (1, 2, 3)
    assert_film(tmp_path / "film.mp4", ms=3000)
    expected = [h for source in sources for h in packet_hashes(source)]
    assert packet_hashes(tmp_path / "film.mp4") == expected


def test_cut_films_keep_the_clips_sound_packets_but_at_the_cuts(clips, tmp_path) -> None:
    for names in (("qa", "qb", "qa"), ("a", "b", "c")):  # quiet edges, then loud ones
        sources = [clips[name] for name in names]
        film = tmp_path / f"{names[0]}.mp4"
        report = assemble_film(make_plan([ClipSpec(1000)] * 3), sources, film)
        assert (report.path, report.audio) == ("lossless", "spliced")
        assert "sound copied but for a few packets at each cut" in report.describe()
        assert_film(film, ms=3000)
        kept = packet_hashes(film, "a")
        own = {h for source in sources for h in packet_hashes(source, "a")}
        assert len(kept) == -(-144_000 // 1024) + 1  # the film's packets, its priming one too
        copied = sum(h in own for h in kept)
        assert copied >= len(kept) - 2 * 16, (copied, len(kept))  # a few a cut, no more


def test_loud_cuts_get_a_short_ramp_instead_of_a_click(clips, tmp_path) -> None:
    sources = [clips["a"], clips["b"], clips["c"]]
    report = assemble_film(make_plan([ClipSpec(1000)] * 3), sources, tmp_path / "film.mp4")
    assert (report.path, report.audio) == ("lossless", "spliced")
    audio = sound(tmp_path / "film.mp4")
    assert len(audio) == 144_000
    source = sound(clips["a"])
    assert np.abs(source[47_900:48_000]).max() > 0.1  # the source is loud there
    steady_step = max(float(np.abs(np.diff(sound(s)[10_000:40_000])).max()) for s in sources)
    for cut in (48_000, 96_000):
        near = audio[cut - 1500 : cut + 1500]
        # the sound meets near the picture's cut (each clip's within 512 samples of it)...
        quietest = min(np.abs(near[i : i + 24]).max() for i in range(0, len(near) - 24, 8))
        assert quietest < 0.02, "no ramp to silence at the cut"
        # ...with no click (an unramped cut between these tones steps up to 0.25): no step
        # beyond the tones' own and the coding noise of the few packets encoded there
        assert float(np.abs(np.diff(near)).max()) < 2 * steady_step
        assert np.abs(audio[cut - 3000 : cut - 1600]).max() > 0.1  # the sound itself stays


def test_clips_without_sound_still_give_the_film_a_sound_track(clips, tmp_path) -> None:
    silent = make_clip(tmp_path / "silent.mp4", preset="medium", audio=False)
    sources = [clips["a"], silent, clips["c"]]
    report = assemble_film(make_plan([ClipSpec(1000)] * 3), sources, tmp_path / "film.mp4")
    assert (report.path, report.audio) == ("lossless", "mixed")
    assert_film(tmp_path / "film.mp4", ms=3000)
    audio = sound(tmp_path / "film.mp4")
    assert np.abs(audio[50_000:94_000]).max() < 0.01  # the silent clip stays silent
    assert np.abs(audio[10_000:40_000]).max() > 0.1


# --- partial copy --------------------------------------------------------------------


def test_trimmed_clip_is_reencoded_and_the_others_copied(clips, tmp_path) -> None:
    plan = make_plan([ClipSpec(1000), ClipSpec(1000, duration=500), ClipSpec(1000)])
    report = assemble_film(plan, [clips["a"], clips["b"], clips["c"]], tmp_path / "film.mp4")
    assert report.path == "partial copy"
    assert (report.copied, report.reencoded) == ((1, 3), (2,))
    assert "clip 2 re-encoded (clip 2: trimmed to 500 ms)" in report.describe()
    assert_film(tmp_path / "film.mp4", ms=2500)
    hashes = packet_hashes(tmp_path / "film.mp4")
    assert len(hashes) == 60
    assert hashes[:24] == packet_hashes(clips["a"])
    assert hashes[-24:] == packet_hashes(clips["c"])
    film = rgb_frames(tmp_path / "film.mp4")
    b = rgb_frames(clips["b"])
    assert np.abs(film[24 + 11] - b[11]).mean() < 6  # the trimmed clip's last kept frame


def test_crossfade_film_is_shorter_by_the_crossfade(clips, tmp_path) -> None:
    plan = make_plan(
        [ClipSpec(1000, transition=("crossfade", 500)), ClipSpec(1000), ClipSpec(1000)]
    )
    report = assemble_film(plan, [clips["a"], clips["b"], clips["c"]], tmp_path / "film.mp4")
    assert report.path == "partial copy" and report.copied == (3,)
    assert report.frames == 60
    assert_film(tmp_path / "film.mp4", ms=2500)
    film, a, b = (rgb_frames(p) for p in (tmp_path / "film.mp4", clips["a"], clips["b"]))
    # The dissolve runs over film frames 12..23: a's frames 12..23 under b's 0..11.
    assert blend_weight(film[18], a[18], b[6]) == pytest.approx(0.5, abs=0.1)
    assert np.abs(film[30] - b[18]).mean() < 6
    assert packet_hashes(tmp_path / "film.mp4")[-24:] == packet_hashes(clips["c"])


def test_fade_goes_through_black_without_changing_the_length(clips, tmp_path) -> None:
    plan = make_plan([ClipSpec(1000, transition=("fade", 500)), ClipSpec(1000), ClipSpec(1000)])
    report = assemble_film(plan, [clips["a"], clips["b"], clips["c"]], tmp_path / "film.mp4")
    assert report.frames == 72
    assert_film(tmp_path / "film.mp4", ms=3000)
    film = rgb_frames(tmp_path / "film.mp4")
    brightness = [float(frame.mean()) for frame in film]
    assert brightness[24] < 3  # black at the join
    assert brightness[10] > 60 and brightness[30] > 60
    assert brightness[18] > brightness[21] > brightness[24] < brightness[27]
    audio = sound(tmp_path / "film.mp4")
    assert np.abs(audio[47_000:49_000]).max() < 0.02  # the sound dips with the picture


def test_clip_of_another_size_is_letterboxed_not_stretched(clips, tmp_path) -> None:
    plan = make_plan([ClipSpec(1000)] * 3)
    report = assemble_film(plan, [clips["a"], clips["square"], clips["c"]], tmp_path / "film.mp4")
    assert report.reencoded == (2,)
    assert_film(tmp_path / "film.mp4", ms=3000)
    frame = rgb_frames(tmp_path / "film.mp4")[36]
    columns = frame.mean(axis=(0, 2))
    assert columns[:60].max() < 3 and columns[-60:].max() < 3  # black bars either side
    lit = np.nonzero(columns > 3)[0]
    assert 176 <= lit[-1] - lit[0] + 1 <= 182  # 180 px wide: the square kept its shape


def test_clip_of_another_frame_rate_is_converted(clips, tmp_path) -> None:
    plan = make_plan([ClipSpec(1000)] * 3)
    report = assemble_film(plan, [clips["a"], clips["fps30"], clips["c"]], tmp_path / "film.mp4")
    assert report.path == "partial copy" and report.reencoded == (2,)
    assert_film(tmp_path / "film.mp4", ms=3000)
    assert read_mp4(tmp_path / "film.mp4").video_frames == 72


def test_clip_with_its_sound_track_first_is_not_stream_copied(clips, tmp_path) -> None:
    # The concat demuxer pairs streams by number, so copying it would mix sound into video.
    swapped = tmp_path / "swapped.mp4"
    sound_first = ["-map", "0:a", "-map", "0:v", "-c", "copy", str(swapped)]
    subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(clips["b"]), *sound_first], check=True)
    plan = make_plan([ClipSpec(1000)] * 3)
    report = assemble_film(plan, [clips["a"], swapped, clips["c"]], tmp_path / "film.mp4")
    assert report.reencoded == (2,)
    assert_film(tmp_path / "film.mp4", ms=3000)


def test_clip_shorter_than_planned_holds_its_last_frame(clips, tmp_path) -> None:
    plan = make_plan([ClipSpec(1000), ClipSpec(1000)])
    report = assemble_film(plan, [clips["a"], clips["half"]], tmp_path / "film.mp4")
    assert report.notes == ("clip 2 is 500 ms shorter than planned; its last frame is held",)
    assert_film(tmp_path / "film.mp4", ms=2000)
    film = rgb_frames(tmp_path / "film.mp4")
    assert np.abs(film[47] - film[36]).mean() < 2


# --- the moviepy path ----------------------------------------------------------------


def test_moviepy_composes_a_crossfade_when_nothing_can_be_copied(clips, tmp_path) -> None:
    plan = make_plan([ClipSpec(1000, transition=("crossfade", 500)), ClipSpec(1000)])
    report = assemble_film(plan, [clips["a"], clips["b"]], tmp_path / "film.mp4")
    assert report.path == "moviepy"
    assert report.reason == (
        "no clip could be stream-copied; clip 1: in a crossfade; clip 2: in a crossfade"
    )
    assert "moviepy" in report.describe()
    assert report.frames == 36
    assert_film(tmp_path / "film.mp4", ms=1500)
    assert read_mp4(tmp_path / "film.mp4").video_frames == 36
    film, a, b = (rgb_frames(p) for p in (tmp_path / "film.mp4", clips["a"], clips["b"]))
    assert blend_weight(film[18], a[18], b[6]) == pytest.approx(0.5, abs=0.1)
    assert np.abs(film[30] - b[18]).mean() < 8
    audio = sound(tmp_path / "film.mp4")
    assert np.abs(audio[30_000:42_000]).max() > 0.05  # both tones sound through the dissolve


def test_moviepy_letterboxes_and_dips_through_black(clips, tmp_path) -> None:
    plan = make_plan([ClipSpec(1000, transition=("dip", 500)), ClipSpec(1000)], fps=24)
    report = assemble_film(plan, [clips["square"], clips["fps30"]], tmp_path / "film.mp4")
    assert report.path == "moviepy"
    assert_film(tmp_path / "film.mp4", ms=2000)
    film = rgb_frames(tmp_path / "film.mp4")
    assert len(film) == 48
    columns = film[6].mean(axis=(0, 2))
    assert columns[:60].max() < 3 and columns[-60:].max() < 3 and columns[160] > 30
    assert float(film[24].mean()) < 3 and float(film[40].mean()) > 60


def test_assembly_leaves_no_process_behind(clips, tmp_path) -> None:
    plan = make_plan([ClipSpec(1000, transition=("crossfade", 500)), ClipSpec(1000)])
    assemble_film(plan, [clips["a"], clips["b"]], tmp_path / "film.mp4")
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and fields[0] != "Z":
            children.append(stat.parent.name)
    assert children == []
    assert [p.name for p in tmp_path.iterdir()] == ["film.mp4"]  # no scratch left either


def test_moviepy_import_does_not_leak_a_dotenv_into_the_environment(tmp_path) -> None:
    (tmp_path / ".env").write_text("STORYC_LEAK_PROBE=secret\n", encoding="utf-8")
    script = textwrap.dedent(
        """
        import os
        from storyc.assemble.composite import import_moviepy
        import_moviepy()
        print(os.environ.get("STORYC_LEAK_PROBE"))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "None"


# --- robustness ----------------------------------------------------------------------


def test_damaged_clip_is_named_by_its_shot_and_the_last_film_is_kept(clips, tmp_path) -> None:
    film = tmp_path / "out" / "film.mp4"
    plan = make_plan([ClipSpec(1000)] * 3)
    assemble_film(plan, [clips["a"], clips["b"], clips["c"]], film)
    before = film.read_bytes()
    broken = tmp_path / "02-broken.mp4"
    broken.write_bytes(clips["b"].read_bytes()[: clips["b"].stat().st_size // 2])
    with pytest.raises(StorycError) as caught:
        assemble_film(plan, [clips["a"], broken, clips["c"]], film)
    message = str(caught.value)
    assert "clip 2 (film.story:20)" in message and "damaged" in message
    assert "delete" in message  # the hint says what to do
    assert film.read_bytes() == before
    assert [p.name for p in film.parent.iterdir()] == ["film.mp4"]


def test_missing_clip_is_named_by_its_shot(clips, tmp_path) -> None:
    plan = make_plan([ClipSpec(1000)] * 2)
    with pytest.raises(StorycError, match=r"clip 2 \(film.story:20\) has no rendered file"):
        assemble_film(plan, [clips["a"], tmp_path / "gone.mp4"], tmp_path / "film.mp4")
    assert not (tmp_path / "film.mp4").exists()


def test_a_file_that_is_not_a_video_is_named_by_its_shot(clips, tmp_path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_text("<html>rate limited</html>", encoding="utf-8")
    plan = make_plan([ClipSpec(1000)] * 2)
    with pytest.raises(StorycError, match=r"clip 1 \(film.story:10\) is damaged"):
        assemble_film(plan, [junk, clips["a"]], tmp_path / "film.mp4")


# --- subtitles and the edit list -----------------------------------------------------


def dialogue_plan():
    return make_plan(
        [
            ClipSpec(
                2000, transition=("crossfade", 500), lines=[["Hello there."], ["Two", "lines"]]
            ),
            ClipSpec(2000, duration=1500, lines=[["After the dissolve."], ["Last words."]]),
        ]
    )


def test_srt_cues_follow_trims_and_crossfade_overlaps(clips, tmp_path) -> None:
    plan = dialogue_plan()
    timeline = build_timeline(plan, [clips["a"], clips["b"]], Fraction(24))
    srt = tmp_path / "film.srt"
    write_srt(timeline, srt)
    text = srt.read_text(encoding="utf-8")
    assert text.startswith("1\n00:00:00,000 --> 00:00:01,000\nMara: Hello there.\n")
    cues = [(c.start, c.end, c.text) for c in subtitle_cues(timeline)]
    # Clip 2 starts at 1.5 s (2 s minus the 0.5 s dissolve); the dissolve's middle, 1.75 s,
    # is where clip 1's lines end and clip 2's begin. Clip 2 is trimmed to 1.5 s, so its
    # second shot (750-1500 ms inside it) ends with the film at 3 s. Two lines of one shot
    # share its time by length.
    assert cues == [
        (0, 1000, "Mara: Hello there."),
        (1000, 1348, "Mara: Two"),
        (1348, 1750, "Mara: lines"),
        (1750, 2250, "Mara: After the dissolve."),
        (2250, 3000, "Mara: Last words."),
    ]
    assert "00:00:02,250 --> 00:00:03,000" in text


def test_otio_timeline_is_as_long_as_the_film(clips, tmp_path) -> None:
    import opentimelineio as otio

    plan = dialogue_plan()
    report = assemble_film(plan, [clips["a"], clips["b"]], tmp_path / "film.mp4")
    shutil.copy(clips["a"], tmp_path / "a.mp4")
    write_otio(report.timeline, tmp_path / "film.otio", "Test", report.source_frames)
    timeline = otio.adapters.read_from_file(str(tmp_path / "film.otio"))
    assert timeline.duration().to_frames() == report.frames == 72
    video = timeline.video_tracks()[0]
    first, dissolve, second = list(video)
    assert isinstance(dissolve, otio.schema.Transition)
    assert dissolve.transition_type == otio.schema.TransitionTypes.SMPTE_Dissolve
    assert dissolve.in_offset.to_frames() + dissolve.out_offset.to_frames() == 12
    assert first.source_range.duration.to_frames() == 48 - dissolve.out_offset.to_frames()
    assert second.source_range.start_time.to_frames() == dissolve.in_offset.to_frames()
    assert Path(first.media_reference.target_url).name == clips["a"].name
    assert [m.name for m in first.markers] == ["shot 1", "shot 2"]
    assert len(timeline.audio_tracks()) == 1


def test_build_stamp_notices_a_changed_clip(clips, tmp_path) -> None:
    plan = make_plan([ClipSpec(1000)])
    clip = tmp_path / "clip.mp4"
    shutil.copy(clips["a"], clip)
    film = tmp_path / "film.mp4"
    film.write_bytes(b"film")
    write_stamp(tmp_path, plan, [clip], [film])
    assert is_up_to_date(tmp_path, plan, [clip], [film])
    os.utime(clip, ns=(0, 0))
    assert not is_up_to_date(tmp_path, plan, [clip], [film])


# --- pure parts ----------------------------------------------------------------------


def test_timeline_rounds_each_boundary_once_so_nothing_drifts() -> None:
    plan = make_plan([ClipSpec(1010)] * 7)
    timeline = build_timeline(plan, [Path(f"{n}.mp4") for n in range(7)], Fraction(24))
    # 7070 ms is 169.68 frames: 170, not 7 x 24 (168) or 7 x 25 (175).
    assert timeline.frames == 170
    assert [p.start for p in timeline.placements] == [0, 24, 48, 73, 97, 121, 145]


def test_transition_longer_than_its_clip_is_refused() -> None:
    plan = make_plan([ClipSpec(1000, transition=("crossfade", 1500)), ClipSpec(2000)])
    with pytest.raises(StorycError, match="longer than the clip"):
        build_timeline(plan, [Path("a.mp4"), Path("b.mp4")], Fraction(24))


def test_crossfade_keeps_the_loudness_of_uncorrelated_sound() -> None:
    plan = make_plan([ClipSpec(1000, transition=("crossfade", 500)), ClipSpec(1000)])
    timeline = build_timeline(plan, [Path("a.mp4"), Path("b.mp4")], Fraction(24))
    rng = np.random.default_rng(1)
    noise = [rng.uniform(-0.3, 0.3, (48_000, 1)).astype(np.float32) for _ in range(2)]
    mixed = mix_soundtrack(timeline, list(noise), AudioFormat(48_000, 1))[:, 0]
    assert len(mixed) == 72_000
    steady = np.sqrt(np.mean(mixed[5_000:20_000] ** 2))
    middle = np.sqrt(np.mean(mixed[30_000:42_000] ** 2))
    assert middle == pytest.approx(steady, rel=0.1)
    assert abs(mixed[0]) < 0.01 and abs(mixed[-1]) < 0.01  # ramped at both ends

"""The film's sound spliced from the clips' own AAC packets (`storyc.assemble.splice`).

The layout is checked as a pure function over random films (hypothesis); the films are real
MP4s read back: where each clip's sound lands (no drift), how close the sound is to an exact
mix of the clips, and how much of it is the clips' packets unchanged.
"""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import numpy as np
import pytest
from assemble_support import ClipSpec, make_plan
from hypothesis import given, settings
from hypothesis import strategies as st

from storyc.assemble import assemble_film
from storyc.assemble.mp4 import read_mp4
from storyc.assemble.splice import (
    PACKET,
    ClipSound,
    adts_packets,
    nudge_for,
    plain_aac_lc,
    splice_layout,
    window_of,
)
from storyc.probe import ffmpeg_exe

RATE = 48_000
RAMP = 240  # 5 ms at 48 kHz
SAMPLES_PER_FRAME = RATE // 24
SIZE = "160x90"


def clip_sounds(frames: list[int], priming: int = 1024) -> tuple[list[ClipSound], int]:
    sounds = []
    start = 0
    for count in frames:
        length = count * SAMPLES_PER_FRAME
        sounds.append(
            ClipSound(
                start=start,
                priming=priming,
                length=length,
                packets=-(-(length + priming) // PACKET) + 1,
            )
        )
        start += length
    return sounds, start


@settings(max_examples=300, deadline=None)
@given(
    frames=st.lists(st.integers(min_value=12, max_value=360), min_size=1, max_size=14),
    priming=st.sampled_from([1024, 2048, 2112]),
)
def test_the_layout_keeps_every_clip_near_its_picture_and_copies_only_clean_packets(
    frames: list[int], priming: int
) -> None:
    clips, total = clip_sounds(frames, priming)
    layout = splice_layout(clips, total, RAMP)
    assert layout.packets == -(-total // PACKET) + 1
    for position, (clip, window) in enumerate(zip(clips, layout.windows, strict=True)):
        # within half a packet of the picture, on the film's packet grid, never drifting
        assert abs(window.nudge) <= PACKET // 2
        assert (clip.start + window.nudge - priming) % PACKET == 0
        assert abs(window.first - clip.start) <= PACKET // 2 or position == 0
        assert window.first <= window.last
        if position:
            gap = window.first - layout.windows[position - 1].last
            assert 0 <= gap < PACKET  # sounds never overlap; a gap is under one packet
    for number, source in enumerate(layout.sources):
        if source is None:
            continue
        position, packet = source
        clip, window = clips[position], layout.windows[position]
        assert number == (clip.start + window.nudge - priming) // PACKET + 1 + packet
        assert packet >= 1 or number == 0
        # the packet's MDCT block (within the film) is this clip's unchanged sound
        block_from, block_to = max(0, (number - 1) * PACKET), min(total, (number + 1) * PACKET)
        assert block_from >= max(window.first + window.ramp_in, window.offset(clip))
        assert block_to <= min(window.last - window.ramp_out, window.offset(clip) + clip.length)
    # every cut is re-encoded: no copied packet's block reaches into a ramp
    for left, right in zip(layout.windows, layout.windows[1:], strict=False):
        for number, source in enumerate(layout.sources):
            if source is not None:
                block = ((number - 1) * PACKET, (number + 1) * PACKET)
                assert block[1] <= left.last - left.ramp_out or block[0] >= right.first


def test_the_nudge_is_the_smallest_move_onto_the_grid() -> None:
    assert nudge_for(0, 1024) == 0
    assert nudge_for(192_000, 1024) == -512  # 4 s in: 187.5 packets
    assert nudge_for(48_000, 1024) == 128  # 1 s in: 46.875 packets
    assert nudge_for(96_000, 1024) == 256
    assert nudge_for(1024 * 7 + 100, 1024) == -100


# --- real files -------------------------------------------------------------------------


def encode_clip(path: Path, ms: int, audio: str, channels: int = 1) -> Path:
    seconds = ms / 1000
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc2=s={SIZE}:r=24:d={seconds}",
         "-f", "lavfi", "-i", audio.format(seconds=seconds),
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-ac", str(channels), "-ar", str(RATE),
         "-frames:v", str(round(seconds * 24)), str(path)],
        check=True,
    )  # fmt: skip
    return path


def decode(path: Path, channels: int = 1) -> np.ndarray:
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:a", "-f", "f32le", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, "<f4").reshape(-1, channels)


DURATIONS_MS = [1000, 1500, 1250, 2000, 1000, 1750]
"""Lengths whose starts fall at every kind of place in a packet (48 kHz, 24 fps)."""


def test_every_clips_sound_lands_within_half_a_packet_of_its_picture(tmp_path: Path) -> None:
    # Each clip is silent but for a tone that starts sharply 250 ms in.
    burst = "aevalsrc='if(gte(t,0.25),0.8*sin(2*PI*440*t),0)':s=48000:d={seconds}"
    clips = [encode_clip(tmp_path / f"{n}.mp4", ms, burst) for n, ms in enumerate(DURATIONS_MS)]
    report = assemble_film(
        make_plan([ClipSpec(ms) for ms in DURATIONS_MS], size=SIZE), clips, tmp_path / "f.mp4"
    )
    assert report.audio == "spliced"
    film = decode(tmp_path / "f.mp4")[:, 0]
    starts = np.cumsum([0, *DURATIONS_MS])[:-1] * RATE // 1000
    assert len(film) == sum(DURATIONS_MS) * RATE // 1000
    for start in starts:
        planned = start + RATE // 4
        look = start + 2 * PACKET  # past the previous clip's sound, which may run 512 over
        onset = look + int(np.argmax(np.abs(film[look : start + RATE]) > 0.3))
        assert abs(onset - planned) <= PACKET // 2 + 16, (start, onset - planned)


@pytest.mark.parametrize(("kind", "channels"), [("tone", 1), ("chirp", 2)])
def test_the_spliced_sound_is_no_further_from_an_exact_mix_than_a_whole_track_encode(
    tmp_path: Path, kind: str, channels: int
) -> None:
    sources = {
        "tone": "sine=f={hz}:r=48000:d={seconds}",
        "chirp": "aevalsrc='0.5*sin(2*PI*({hz}+300*t)*t)|0.4*sin(2*PI*({hz}+200*t)*t)':"
        "s=48000:d={seconds}",
    }
    clips = [
        encode_clip(
            tmp_path / f"{n}.mp4",
            ms,
            sources[kind].replace("{hz}", str(220 + 37 * n)),
            channels,
        )
        for n, ms in enumerate(DURATIONS_MS)
    ]
    report = assemble_film(
        make_plan([ClipSpec(ms) for ms in DURATIONS_MS], size=SIZE), clips, tmp_path / "f.mp4"
    )
    assert report.audio == "spliced"
    film = decode(tmp_path / "f.mp4", channels)

    # The exact mix the splice stands for: each clip's full decode in its (nudged) window,
    # ramped at the cuts.
    sounds = []
    for path, start in zip(clips, np.cumsum([0, *DURATIONS_MS])[:-1] * RATE // 1000, strict=True):
        track = read_mp4(path).audio
        assert track is not None
        sounds.append(
            ClipSound(
                start=int(start),
                priming=track.priming,
                length=track.duration_samples,
                packets=track.sample_count,
            )
        )
    total = sum(DURATIONS_MS) * RATE // 1000
    layout = splice_layout(sounds, total, RAMP)
    exact = np.zeros((total, channels), np.float32)
    for path, sound, window in zip(clips, sounds, layout.windows, strict=True):
        samples = decode(path, channels)
        span = np.arange(window.first, window.last)
        gain = np.ones(len(span))
        if window.ramp_in:
            head = span < window.first + window.ramp_in
            gain[head] *= np.sin((span[head] - window.first + 0.5) / window.ramp_in * np.pi / 2)
        if window.ramp_out:
            tail = span >= window.last - window.ramp_out
            gain[tail] *= np.sin((window.last - span[tail] - 0.5) / window.ramp_out * np.pi / 2)
        exact[span] += samples[span - window.offset(sound)] * gain[:, None]

    whole = tmp_path / "whole.m4a"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-f", "f32le", "-ar", str(RATE), "-ac",
         str(channels), "-i", "pipe:0", "-c:a", "aac", str(whole)],
        input=exact.astype("<f4").tobytes(),
        check=True,
    )  # fmt: skip
    whole_error = decode(whole, channels)[:total] - exact
    splice_error = film - exact

    def rms(values: np.ndarray) -> float:
        return float(np.sqrt(np.mean(values**2)))

    assert rms(splice_error) <= rms(whole_error)
    # and around every cut (the packets re-encoded there), no worse than the whole-track
    # encode's own coding noise at the same place
    for left, right in zip(layout.windows, layout.windows[1:], strict=False):
        around = slice(left.last - 3 * PACKET, right.first + 3 * PACKET)
        assert rms(splice_error[around]) <= 1.5 * rms(whole_error[around]) + 0.002


def test_window_info_is_read_past_fill_elements(tmp_path: Path) -> None:
    for channels in (1, 2):
        clip = encode_clip(tmp_path / f"{channels}.mp4", 1000, "sine=f=440:d={seconds}", channels)
        track = read_mp4(clip).audio
        assert track is not None and plain_aac_lc(track) is not None
        data = clip.read_bytes()
        packets = [
            data[at : at + size]
            for at, size in zip(track.sample_positions, track.sample_sizes, strict=True)
        ]
        assert packets[0][0] >> 5 == 6  # ffmpeg's first packet opens with its name (fill)
        windows = [window_of(packet) for packet in packets]
        assert None not in windows
        assert windows[len(windows) // 2] == (0, 1)  # a steady tone: long window, KBD shape


def test_plain_aac_lc_refuses_what_it_cannot_splice(tmp_path: Path) -> None:
    clip = encode_clip(tmp_path / "c.mp4", 1000, "sine=f=440:d={seconds}")
    track = read_mp4(clip).audio
    assert track is not None and plain_aac_lc(track) == (3, 1)  # 48 kHz, mono
    sbr = dataclasses.replace(track, decoder_config=bytes((0x2B, 0x8A, 0x08, 0x00)))
    assert plain_aac_lc(sbr) is None  # HE-AAC signalling
    unprimed = dataclasses.replace(track, edits=())
    assert plain_aac_lc(unprimed) is None  # no edit hiding the encoder's delay


def test_adts_packets_round_trip(tmp_path: Path) -> None:
    clip = encode_clip(tmp_path / "c.mp4", 500, "sine=f=440:d={seconds}")
    adts = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(clip), "-map", "0:a", "-c", "copy", "-f",
         "adts", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    track = read_mp4(clip).audio
    assert track is not None
    data = clip.read_bytes()
    own = [
        data[at : at + size]
        for at, size in zip(track.sample_positions, track.sample_sizes, strict=True)
    ]
    assert adts_packets(adts) == own

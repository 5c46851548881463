"""The film's sound: every clip's audio decoded, trimmed and mixed sample-exactly.

One ffmpeg run decodes each clip's audio (its edit list applied, so the encoder's priming is
gone) to raw float samples; `mix_soundtrack` is a pure function that lays them on the film's
timeline: trimmed to the clip's planned length, crossfades as equal-power overlaps, fades
through black as ramps, and a 5 ms ramp at every cut so no join clicks.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from storyc.assemble.ffmpeg import run_ffmpeg
from storyc.assemble.timeline import CUT_AUDIO_FADE_MS, Placement, Timeline
from storyc.units import ms_to_samples

if TYPE_CHECKING:
    # numpy is imported where sound is decoded or mixed, not on the stream-copy path
    # (`splice` works on packets and a few stretches with the standard library alone).
    import numpy as np


@dataclass(frozen=True)
class AudioFormat:
    rate: int
    channels: int


def film_audio_format(formats: list[tuple[int, int] | None]) -> AudioFormat:
    """The clips' own rate when they agree (else 48 kHz); stereo if any clip is stereo."""
    present = [f for f in formats if f is not None]
    rates = {rate for rate, _ in present}
    rate = rates.pop() if len(rates) == 1 else 48000
    channels = min(2, max((channels for _, channels in present), default=1))
    return AudioFormat(rate=rate, channels=channels)


def decode_clip_audio(
    timeline: Timeline, has_audio: list[bool], audio: AudioFormat
) -> list[np.ndarray | None]:
    """Each clip's audio as float32 samples [n, channels] at the film's format (None: silent).

    Only the part the film uses (plus a frame) is decoded.
    """
    import numpy as np

    wanted = [p for p, present in zip(timeline.placements, has_audio, strict=True) if present]
    result: list[np.ndarray | None] = [None] * len(timeline.placements)
    if not wanted:
        return result
    with tempfile.TemporaryDirectory(prefix="storyc-audio-") as scratch:
        args: list[str] = []
        outputs: list[str] = []
        for number, placement in enumerate(wanted):
            seconds = float((placement.frames + 1) / timeline.fps)
            args += ["-t", f"{seconds:.6f}", "-vn", "-i", str(placement.source)]
            raw = Path(scratch) / f"{placement.position}.f32"
            outputs += ["-map", f"{number}:a:0", "-f", "f32le", "-ac", str(audio.channels)]
            outputs += ["-ar", str(audio.rate), str(raw)]
        run_ffmpeg([*args, *outputs], what="decoding the clips' sound")
        for placement in wanted:
            raw = Path(scratch) / f"{placement.position}.f32"
            samples = np.fromfile(raw, dtype="<f4")
            result[placement.position] = samples.reshape(-1, audio.channels)
    return result


def mix_soundtrack(
    timeline: Timeline, clips_audio: list[np.ndarray | None], audio: AudioFormat
) -> np.ndarray:
    """The film's audio, float32 [samples, channels], laid out exactly like its frames."""
    import numpy as np

    total = timeline.sample(timeline.frames, audio.rate)
    film = np.zeros((total, audio.channels), dtype=np.float32)
    cut_ramp = ms_to_samples(CUT_AUDIO_FADE_MS, audio.rate)
    for placement, samples in zip(timeline.placements, clips_audio, strict=True):
        start = timeline.sample(placement.start, audio.rate)
        length = timeline.sample(placement.end, audio.rate) - start
        if samples is None or length <= 0:
            continue
        piece = np.zeros((length, audio.channels), dtype=np.float32)
        take = min(length, len(samples))
        piece[:take] = samples[:take]
        gain = np.ones(length, dtype=np.float32)
        head = _ramp_length(timeline, placement, audio.rate, incoming=True) or cut_ramp
        tail = _ramp_length(timeline, placement, audio.rate, incoming=False) or cut_ramp
        head, tail = min(head, length), min(tail, length)
        gain[:head] *= _equal_power(head)
        gain[length - tail :] *= _equal_power(tail)[::-1]
        film[start : start + length] += piece * gain[:, None]
    np.clip(film, -1.0, 1.0, out=film)
    return film


def _ramp_length(timeline: Timeline, placement: Placement, rate: int, *, incoming: bool) -> int:
    frames = (
        max(placement.crossfade_in, placement.fade_in)
        if incoming
        else max(placement.crossfade_out, placement.fade_out)
    )
    if not frames:
        return 0
    if incoming:
        return timeline.sample(placement.start + frames, rate) - timeline.sample(
            placement.start, rate
        )
    return timeline.sample(placement.end, rate) - timeline.sample(placement.end - frames, rate)


def _equal_power(length: int) -> np.ndarray:
    """0 -> 1 over `length` samples; sin^2 + cos^2 = 1 keeps a crossfade's loudness even."""
    import numpy as np

    if length <= 0:
        return np.ones(0, dtype=np.float32)
    position = (np.arange(length, dtype=np.float64) + 0.5) / length
    return np.sin(position * np.pi / 2).astype(np.float32)


def pcm_chunks(film: np.ndarray, chunk_samples: int = 1 << 16) -> Iterator[bytes]:
    """The soundtrack as little-endian float32 bytes, in pieces for a pipe."""
    import numpy as np

    data = np.ascontiguousarray(film, dtype="<f4")
    for start in range(0, len(data), chunk_samples):
        yield data[start : start + chunk_samples].tobytes()

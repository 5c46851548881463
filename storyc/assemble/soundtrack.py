"""The film's sound: every clip's audio decoded, trimmed and mixed sample-exactly.

One ffmpeg run decodes each clip's audio (its edit list applied, so the encoder's priming is
gone) to raw float samples; `mix_soundtrack` is a pure function that lays them on the film's
timeline: trimmed to the clip's planned length, crossfades as equal-power overlaps, fades
through black as ramps, and a 5 ms ramp at every cut so no join clicks.
"""

from __future__ import annotations

import sys
import tempfile
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from storyc.assemble.ffmpeg import ffmpeg_output, run_ffmpeg
from storyc.assemble.mp4 import AudioTrack, aac_config
from storyc.assemble.timeline import CUT_AUDIO_FADE_MS, Placement, Timeline
from storyc.units import ms_to_samples

if TYPE_CHECKING:
    # numpy is imported where sound is decoded or mixed, not on the stream-copy path
    # (`edge_peaks` listens to the cuts with the standard library alone).
    import numpy as np

QUIET_PEAK = 0.02
"""-34 dBFS: a step this small where two clips' sound meets is not heard as a click (AAC's
own coding noise at a faded clip edge reaches about 0.01)."""
EDGE_MS = 2
"""How much of each clip's sound at a cut is looked at (a click is the step at the cut)."""


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


def cuts_are_quiet(timeline: Timeline, clips_audio: list[np.ndarray | None], rate: int) -> bool:
    """True when the sound at both sides of every cut is near silence (copying won't click)."""
    import numpy as np

    edge = max(1, ms_to_samples(EDGE_MS, rate))
    for placement, samples in zip(timeline.placements, clips_audio, strict=True):
        if samples is None or len(samples) == 0:
            continue
        length = timeline.sample(placement.end, rate) - timeline.sample(placement.start, rate)
        windows = []
        if placement.position > 0:
            windows.append(samples[:edge])
        if placement.position < len(timeline.placements) - 1:
            windows.append(samples[max(0, min(length, len(samples)) - edge) : length])
        if any(len(w) and float(np.max(np.abs(w))) >= QUIET_PEAK for w in windows):
            return False
    return True


def joins_are_quiet(peaks: list[tuple[float, float]]) -> bool:
    """True when every cut meets near silence on both sides; `peaks` from `edge_peaks`."""
    inner = [tail for _, tail in peaks[:-1]] + [head for head, _ in peaks[1:]]
    return all(peak < QUIET_PEAK for peak in inner)


def edge_peaks(tracks: list[tuple[Path, AudioTrack]]) -> list[tuple[float, float]] | None:
    """Peak level of the first and last `EDGE_MS` of each clip's sound, or None if unsure.

    Only the three AAC packets at each end of each clip are decoded (one small ffmpeg run on
    an ADTS stream built here), which is what lets a 30-clip stream copy stay near ffmpeg's
    own speed. The first packet of each group decodes without its predecessor and is
    ignored; the samples looked at come from the two after it. Anything unusual (not AAC-LC,
    no priming edit, too few packets) answers None and the caller decodes everything.
    """
    stream = bytearray()
    windows: list[tuple[int, int]] = []
    channels = 0
    group = 3
    for path, track in tracks:
        config = aac_config(track.decoder_config)
        if config is None or track.codec != "mp4a":
            return None
        object_type, rate_index, channel_config = config
        count = track.sample_count
        if object_type != 2 or channel_config not in (1, 2) or count < 2 * group:
            return None
        if channels and channel_config != channels:
            return None
        channels = channel_config
        edge = max(1, ms_to_samples(EDGE_MS, track.sample_rate))
        end = track.priming + track.duration_samples
        if track.priming < 1024 or end - edge < (count - group + 1) * 1024 or end > count * 1024:
            return None
        packets = [*range(group), *range(count - group, count)]
        start = len(windows) * 2 * group * 1024
        windows.append(
            (start + track.priming, start + group * 1024 + end - edge - (count - group) * 1024)
        )
        with path.open("rb") as handle:
            for number in packets:
                handle.seek(track.sample_positions[number])
                payload = handle.read(track.sample_sizes[number])
                stream += _adts_header(len(payload), rate_index, channel_config) + payload
    if not windows:
        return []
    raw = ffmpeg_output(
        ["-f", "aac", "-i", "pipe:0", "-f", "f32le", "pipe:1"],
        bytes(stream),
        what="listening to the clips' sound at the cuts",
    )
    samples = array("f", raw)  # interleaved: frame n is samples[n * channels : ...]
    if sys.byteorder != "little":
        samples.byteswap()
    if len(samples) != len(windows) * 2 * group * 1024 * channels:
        return None
    edge_samples = max(1, ms_to_samples(EDGE_MS, tracks[0][1].sample_rate))

    def peak(first: int) -> float:
        return max(map(abs, samples[first * channels : (first + edge_samples) * channels]))

    return [(peak(head), peak(tail)) for head, tail in windows]


def _adts_header(payload: int, rate_index: int, channels: int) -> bytes:
    """The 7-byte ADTS header of one AAC-LC packet (so ffmpeg can read bare packets)."""
    length = payload + 7
    return bytes(
        (
            0xFF,
            0xF1,
            (1 << 6) | (rate_index << 2) | (channels >> 2),
            ((channels & 3) << 6) | (length >> 11),
            (length >> 3) & 0xFF,
            ((length & 7) << 5) | 0x1F,
            0xFC,
        )
    )


def pcm_chunks(film: np.ndarray, chunk_samples: int = 1 << 16) -> Iterator[bytes]:
    """The soundtrack as little-endian float32 bytes, in pieces for a pipe."""
    import numpy as np

    data = np.ascontiguousarray(film, dtype="<f4")
    for start in range(0, len(data), chunk_samples):
        yield data[start : start + chunk_samples].tobytes()

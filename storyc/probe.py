"""Read a video file's facts back (size, fps, exact frame count, audio) with the bundled ffmpeg.

One ffmpeg run stream-copies every packet to the `framecrc` muxer (no decoding, a few tens of
milliseconds per clip): its header gives codecs, sizes and time bases, its lines give every
packet, so the frame count and the end of each stream are exact, and ffmpeg's own complaints
("partial file", "moov atom not found") tell a download cut short from a whole file.

    info = probe(Path("clip.mp4"))
    info.width, info.height, info.fps, info.video_frames, info.audio_codec, info.duration_ms

`probe` raises `ProbeError` (a `StorycError`) for a missing, empty, truncated or non-media file.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from pathlib import Path

from storyc.errors import StorycError


class ProbeError(StorycError):
    """The file is missing, empty, cut short or not a video ffmpeg can read."""


@dataclass(frozen=True)
class MediaInfo:
    duration_ms: int
    """Length of the longest stream, from the packets' own timestamps."""
    width: int
    height: int
    fps: float
    """Frames per second of the video stream (average rate from the container)."""
    video_codec: str
    video_frames: int
    """Exact number of video frames (packets) in the file."""
    video_duration_ms: int
    audio_codec: str | None
    audio_sample_rate: int | None
    audio_channels: int | None
    audio_duration_ms: int | None
    """End of the audio stream, ms (None without audio)."""
    pix_fmt: str | None = None

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None

    @property
    def size(self) -> str:
        """`WxH`, spelled like `Clip.size`."""
        return f"{self.width}x{self.height}"


class FfmpegMissing(StorycError):
    """There is no ffmpeg where storyc looks for one (a broken install, or a wrong
    `IMAGEIO_FFMPEG_EXE`)."""


def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary storyc uses: `IMAGEIO_FFMPEG_EXE` if set, else the one
    bundled with imageio-ffmpeg. Raises `FfmpegMissing`, with what to do, when there is none."""
    return _locate_ffmpeg(os.environ.get("IMAGEIO_FFMPEG_EXE") or None)


@cache
def _locate_ffmpeg(override: str | None) -> str:
    import imageio_ffmpeg

    hint = (
        "storyc uses the ffmpeg bundled with the imageio-ffmpeg package: reinstall it "
        "(pip install --force-reinstall imageio-ffmpeg), or set IMAGEIO_FFMPEG_EXE to an "
        "ffmpeg binary"
    )
    try:
        exe = imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError:
        raise FfmpegMissing("ffmpeg cannot be found, so no video can be made", hint=hint) from None
    if (Path(exe).is_file() and os.access(exe, os.X_OK)) or shutil.which(exe):
        return exe
    if override is not None:
        raise FfmpegMissing(
            f"ffmpeg cannot be found at {exe} (set by IMAGEIO_FFMPEG_EXE), so no video can be made",
            hint="point IMAGEIO_FFMPEG_EXE at an ffmpeg binary, or unset it to use the one "
            "bundled with imageio-ffmpeg",
        )
    raise FfmpegMissing(f"ffmpeg cannot be found at {exe}, so no video can be made", hint=hint)


# ffmpeg's messages that mean the file is damaged or cut short, even when it exits 0.
_DAMAGE = re.compile(
    r"partial file|moov atom not found|Invalid data found|corrupt|Invalid NAL|"
    r"error reading header|truncat|End of file",
    re.IGNORECASE,
)
_VIDEO_LINE = re.compile(r"Stream #\d+:\d+.*?: Video: (?P<codec>\w+)(?P<rest>.*)")
_AUDIO_LINE = re.compile(r"Stream #\d+:\d+.*?: Audio: (?P<codec>\w+)(?P<rest>.*)")
_FPS = re.compile(r"([\d.]+(?:k)?) fps")
_SIZE = re.compile(r", (\d{2,5})x(\d{2,5})")
_RATE = re.compile(r"(\d+) Hz")
_LAYOUT = re.compile(r"Hz, ([\w.]+)")
_PIX = re.compile(r"\), (\w+)\(|, (yuv\w+|rgb\w+|gray\w*|nv12)")
_CHANNELS = {"mono": 1, "stereo": 2, "2.1": 3, "quad": 4, "5.0": 5, "5.1": 6, "7.1": 8}


def probe(path: Path, *, timeout_s: float = 60.0) -> MediaInfo:
    """Return the facts of the video file at `path`; raise `ProbeError` if it is not whole."""
    path = Path(path)
    if not path.is_file():
        raise ProbeError(f"{path} does not exist")
    if path.stat().st_size == 0:
        raise ProbeError(f"{path} is empty")
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-i", str(path)]
    cmd += ["-map", "0", "-c", "copy", "-f", "framecrc", "-"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ProbeError(f"reading {path} took longer than {timeout_s:.0f} s") from exc
    # Only ffmpeg's own log lines ("[in#0 @ ...] partial file"), never the file's metadata.
    log = "\n".join(line for line in done.stderr.splitlines() if line.startswith("["))
    damage = _DAMAGE.search(log)
    if done.returncode != 0 or damage:
        reason = damage.group(0) if damage else _last_line(done.stderr)
        raise ProbeError(f"{path.name} is not a complete video file ({reason})")
    return _parse(path, done.stderr, done.stdout)


def _parse(path: Path, header: str, packets: str) -> MediaInfo:
    video = _VIDEO_LINE.search(header)
    if video is None:
        raise ProbeError(f"{path.name} has no video stream")
    size = _SIZE.search(video.group("rest"))
    if size is None:
        raise ProbeError(f"{path.name}: cannot read the video size")
    fps_match = _FPS.search(video.group("rest"))
    fps = _parse_fps(fps_match.group(1)) if fps_match else 0.0
    pix = _PIX.search(video.group("rest"))
    audio = _AUDIO_LINE.search(header)

    time_base: dict[int, Fraction] = {}
    media: dict[int, str] = {}
    count: dict[int, int] = {}
    end: dict[int, int] = {}
    for line in packets.splitlines():
        if line.startswith("#tb "):
            index, _, tb = line[4:].partition(":")
            num, _, den = tb.strip().partition("/")
            time_base[int(index)] = Fraction(int(num), int(den))
        elif line.startswith("#media_type "):
            index, _, kind = line[12:].partition(":")
            media[int(index)] = kind.strip()
        elif line and not line.startswith("#"):
            fields = line.split(",")
            index, pts, duration = int(fields[0]), int(fields[2]), int(fields[3])
            count[index] = count.get(index, 0) + 1
            end[index] = max(end.get(index, 0), pts + duration)

    def stream_ms(kind: str) -> int | None:
        ends = [end[i] * time_base[i] * 1000 for i in end if media.get(i) == kind]
        return round(max(ends)) if ends else None

    video_frames = sum(n for i, n in count.items() if media.get(i) == "video")
    video_ms = round(video_frames * 1000 / fps) if fps else (stream_ms("video") or 0)
    audio_ms = stream_ms("audio") if audio else None
    audio_rest = audio.group("rest") if audio else ""
    rate = _RATE.search(audio_rest)
    layout = _LAYOUT.search(audio_rest)
    channels = _CHANNELS.get(layout.group(1)) if layout else None
    return MediaInfo(
        duration_ms=max(video_ms, audio_ms or 0),
        width=int(size.group(1)),
        height=int(size.group(2)),
        fps=fps,
        video_codec=video.group("codec"),
        video_frames=video_frames,
        video_duration_ms=video_ms,
        audio_codec=audio.group("codec") if audio else None,
        audio_sample_rate=int(rate.group(1)) if rate else None,
        audio_channels=channels,
        audio_duration_ms=audio_ms,
        pix_fmt=(pix.group(1) or pix.group(2)) if pix else None,
    )


def _parse_fps(text: str) -> float:
    return float(text[:-1]) * 1000 if text.endswith("k") else float(text)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "ffmpeg failed"

"""Real MP4 files for the fake providers, made once with the bundled ffmpeg and reused."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import imageio_ffmpeg

_lock = threading.Lock()


def make_mp4(
    folder: Path,
    width: int = 1280,
    height: int = 720,
    seconds: int = 4,
    *,
    colour: str | None = None,
) -> Path:
    """A real H.264 + AAC file (a test pattern, or one `colour`, and a tone), cached by size,
    length and colour."""
    folder.mkdir(parents=True, exist_ok=True)
    picture = f"color=c={colour}:" if colour else "testsrc="
    path = folder / f"fake-{colour or 'pattern'}-{width}x{height}-{seconds}s.mp4"
    with _lock:
        if path.is_file() and path.stat().st_size > 0:
            return path
        partial = path.with_suffix(".part.mp4")
        command = [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"{picture}size={width}x{height}:rate=24:duration={seconds}",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=440:sample_rate=48000:duration={seconds}",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-b:v",
            "120k",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-b:a",
            "32k",
            "-shortest",
            "-movflags",
            "+faststart",
            str(partial),
        ]
        subprocess.run(command, check=True, capture_output=True)
        partial.replace(path)
        return path


def make_png(path: Path, width: int, height: int) -> Path:
    """A first-frame image of the given size."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (width, height), (40, 90, 160)).save(path)
    return path


def make_wav(path: Path, seconds: float = 2.0, rate: int = 16000) -> Path:
    """A voice sample: a mono 16-bit WAV of a quiet tone (the standard library's `wave`)."""
    import math
    import struct
    import wave

    path.parent.mkdir(parents=True, exist_ok=True)
    frames = b"".join(
        struct.pack("<h", int(3000 * math.sin(2 * math.pi * 220 * n / rate)))
        for n in range(int(seconds * rate))
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)
    return path

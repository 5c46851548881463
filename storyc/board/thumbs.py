"""Still pictures for the storyboard: a frame of a clip, or a small copy of a reference.

Thumbnails are named after what they show (clip id and time, or the reference's hash), so a
board rebuilt after an edit only extracts the frames of clips that changed; the others are
already on disk. Frames come from the ffmpeg bundled with imageio-ffmpeg.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from storyc.fsutil import atomic_path
from storyc.probe import ProbeError, ffmpeg_exe, probe
from storyc.units import ms_to_seconds

THUMB_WIDTH = 480
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp"}


def is_video(path: Path) -> bool:
    """Whether a reference is a video (its still is a frame) rather than a picture."""
    return path.suffix.lower() not in IMAGE_SUFFIXES


class ThumbnailError(Exception):
    """ffmpeg or Pillow could not make the picture (the board shows a placeholder)."""


def frame_at(video: Path, at_ms: int, output: Path, *, width: int = THUMB_WIDTH) -> Path:
    """Write the frame of `video` at `at_ms` as a JPEG `output` (kept if it already exists)."""
    if output.is_file() and output.stat().st_size > 0:
        return output
    output.parent.mkdir(parents=True, exist_ok=True)
    # -ss before -i seeks by keyframe then decodes up to the exact time: fast and exact.
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    cmd += ["-ss", f"{float(ms_to_seconds(max(at_ms, 0))):.3f}", "-i", str(video)]
    with atomic_path(output, ".jpg") as temp:
        cmd += ["-frames:v", "1", "-vf", f"scale={width}:-2", "-q:v", "4", str(temp)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0 or not temp.is_file() or temp.stat().st_size == 0:
            last = (done.stderr.strip().splitlines() or ["no frame at that time"])[-1]
            raise ThumbnailError(f"no frame from {video.name} at {at_ms} ms: {last}")
    return output


def reference_thumb(source: Path, output: Path, *, width: int = THUMB_WIDTH // 2) -> Path:
    """A small JPEG of a reference image, or of a reference video's middle frame."""
    if output.is_file() and output.stat().st_size > 0:
        return output
    if source.suffix.lower() in IMAGE_SUFFIXES:
        from PIL import Image

        output.parent.mkdir(parents=True, exist_ok=True)
        try:
            with atomic_path(output, ".jpg") as temp, Image.open(source) as image:
                image.thumbnail((width, width))
                image.convert("RGB").save(temp, "JPEG", quality=80)
        except OSError as exc:
            raise ThumbnailError(f"cannot read {source.name}: {exc}") from exc
        return output
    try:
        middle = probe(source).video_duration_ms // 2
    except ProbeError as exc:
        raise ThumbnailError(str(exc)) from exc
    return frame_at(source, middle, output, width=width)

"""Make the small reference files the examples name: refs/mara.mp4 (3 s) and refs/fan.png.

Run: python examples/make_refs.py   (uses Pillow and the ffmpeg bundled with imageio-ffmpeg;
no network). The outputs are committed too, so this only matters when they change.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg
from PIL import Image, ImageDraw

REFS = Path(__file__).resolve().parent / "refs"


def make_fan_png(path: Path) -> None:
    """A 1280x720 product still: a ring 'bladeless fan' on a soft gradient."""
    image = Image.new("RGB", (1280, 720))
    draw = ImageDraw.Draw(image)
    for y in range(720):
        shade = 235 - y // 12
        draw.line([(0, y), (1279, y)], fill=(shade, shade, shade + 8))
    draw.ellipse([490, 120, 790, 420], outline=(60, 64, 72), width=36)
    draw.rectangle([600, 420, 680, 600], fill=(60, 64, 72))
    draw.ellipse([540, 580, 740, 630], fill=(48, 52, 60))
    image.save(path, optimize=True)


def make_mara_mp4(path: Path) -> None:
    """A 3 s 1280x720 clip (a moving test pattern and a tone) standing in for a cameo."""
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-y",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1280x720:rate=24:duration=3",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=330:sample_rate=48000:duration=3",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "35",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-b:a",
            "48k",
            "-shortest",
            "-movflags",
            "+faststart",
            "-map_metadata",
            "-1",
            "-fflags",
            "+bitexact",
            str(path),
        ],
        check=True,
    )


def main() -> None:
    REFS.mkdir(exist_ok=True)
    make_fan_png(REFS / "fan.png")
    make_mara_mp4(REFS / "mara.mp4")
    print(f"wrote {REFS / 'fan.png'} and {REFS / 'mara.mp4'}")


if __name__ == "__main__":
    main()

"""The general path: moviepy composes the whole film's picture and re-encodes it.

Used when the clips cannot be stream-copied (another codec or encoder, mixed sizes or frame
rates, every clip trimmed or in a transition). moviepy 2.2.1 traps avoided here:
- it is imported lazily, and whatever its import loads from a `.env` is taken back out of
  `os.environ` (it would otherwise reach every child process);
- clips are laid on a `CompositeVideoClip` with explicit starts and `bg_color=(0,0,0)`:
  `concatenate_videoclips(method="chain")` drops time with mixed sizes, `padding` applies one
  overlap to every join (and hard-cuts), and a transparent background is ~1.5x slower;
- the decoder letterboxes (`target_resolution`, aspect kept), never stretches;
- lengths are whole frames (moviepy counts `int(duration * fps)` frames, so float error
  would drop one);
- every clip it opens is closed, even on failure (it leaks ffmpeg readers otherwise).
Sound is not moviepy's job here: `soundtrack.py` mixes it sample-exactly for every path.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from types import ModuleType
from typing import Any

from storyc.assemble.preflight import SourceFacts
from storyc.assemble.progress import ProgressCallback, moviepy_logger, no_progress
from storyc.assemble.timeline import Timeline

ENCODER = ["-crf", "18", "-pix_fmt", "yuv420p"]
PRESET = "veryfast"


def import_moviepy() -> ModuleType:
    """`import moviepy`, without letting its `.env` loading change this process's environment."""
    before = dict(os.environ)
    import moviepy

    for key in set(os.environ) - set(before):
        del os.environ[key]
    os.environ.update(before)
    return moviepy


def letterbox_size(source: tuple[int, int], film: tuple[int, int]) -> tuple[int, int]:
    """The largest even size with `source`'s aspect ratio that fits inside `film`."""
    width, height = source
    scale = min(Fraction(film[0], width), Fraction(film[1], height))
    fitted = (int(width * scale) // 2 * 2, int(height * scale) // 2 * 2)
    return max(2, fitted[0]), max(2, fitted[1])


def compose_video(
    timeline: Timeline,
    sources: list[SourceFacts],
    destination: Path,
    *,
    progress: ProgressCallback = no_progress,
    stage: str = "",
) -> None:
    """Write the film's picture (no sound) to `destination` with moviepy."""
    moviepy = import_moviepy()
    from moviepy import vfx

    fps = timeline.fps
    film_size = (timeline.width, timeline.height)
    opened: list[Any] = []
    film: Any = None
    try:
        layers = []
        for placement, facts in zip(timeline.placements, sources, strict=True):
            fitted = letterbox_size(facts.size, film_size)
            source = moviepy.VideoFileClip(
                str(placement.source),
                audio=False,
                target_resolution=None if fitted == facts.size else fitted,
            )
            opened.append(source)
            seconds = placement.frames / fps
            frame = 1 / fps
            if source.duration + float(frame) / 2 < seconds:
                # Shorter than planned: hold its last frame so everything after stays in place.
                layer = source.with_effects(
                    [vfx.Freeze(t="end", total_duration=float(seconds), padding_end=float(frame))]
                )
            else:
                layer = source.subclipped(0, min(float(seconds), source.duration))
            effects: list[Any] = []
            if placement.crossfade_in:
                effects.append(vfx.CrossFadeIn(float(placement.crossfade_in / fps)))
            if placement.fade_in:
                effects.append(vfx.FadeIn(float(placement.fade_in / fps)))
            if placement.fade_out:
                effects.append(vfx.FadeOut(float(placement.fade_out / fps)))
            if effects:
                layer = layer.with_effects(effects)
            layers.append(layer.with_start(float(placement.start / fps)).with_position("center"))
        film = moviepy.CompositeVideoClip(layers, size=film_size, bg_color=(0, 0, 0))
        film = film.with_duration(float((timeline.frames + Fraction(1, 1000)) / fps))
        film.write_videofile(
            str(destination),
            fps=float(fps),
            codec="libx264",
            preset=PRESET,
            audio=False,
            ffmpeg_params=ENCODER,
            logger=moviepy_logger(progress, stage),
        )
    finally:
        if film is not None:
            film.close()
        for clip in opened:
            clip.close()

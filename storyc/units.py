"""The one home for time: whole milliseconds inside, frames and samples only at the edges.

- Inside the compiler and the plan every time is an `int` of milliseconds (`Shot.duration_ms`,
  `Clip.duration`, `Clip.render_ms`, `film_start`, ...).
- A provider's request wants whole seconds (`whole_seconds`), spelled its own way
  (`Offering.seconds_value`), derived at the request edge and never stored.
- The assembler works in film frames at an exact `Fraction` frame rate (`ms_to_frames`,
  `frames_to_ms`) and audio sample counts (`frames_to_samples`, `ms_to_samples`). Every
  conversion rounds once from an absolute time, so nothing drifts.
- People read durations as `4s` / `3.5s` (`format_duration`, the story's own syntax) and film
  positions as `1:02.500` (`timecode`, used by every view: the plan table, the board, the
  editor hover, the preview cards). Subtitle files use the SRT standard (`srt_time`).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import cache

MS_PER_SECOND = 1000
MS_PER_MINUTE = 60_000
MS_PER_HOUR = 3_600_000

Rate = int | Fraction
"""A frame rate (`24`, `Fraction(30000, 1001)`) or a sample rate (`48_000`)."""


# -- seconds ----------------------------------------------------------------------------------


def seconds_to_ms(seconds: int | Fraction | Decimal) -> int:
    """Whole milliseconds of a length in seconds (rounded to the nearest, halves to even)."""
    return round(Fraction(seconds) * MS_PER_SECOND)


def ms_to_seconds(ms: int) -> Fraction:
    """The exact length in seconds (a `Fraction`: `float()` it only where a library wants one)."""
    return Fraction(ms, MS_PER_SECOND)


def whole_seconds(ms: int) -> int:
    """Seconds of a render length, which providers count in whole seconds (`4000` -> `4`)."""
    seconds, rest = divmod(ms, MS_PER_SECOND)
    if rest:
        raise ValueError(f"{ms} ms is not a whole number of seconds")
    return seconds


@cache  # a story has few distinct lengths; Decimal formatting is slow
def seconds_text(ms: int) -> str:
    """The exact seconds of `ms` with no trailing zeros: `4000` -> `4`, `3500` -> `3.5`."""
    return f"{(Decimal(ms) / MS_PER_SECOND).normalize():f}"


def format_duration(ms: int) -> str:
    """A length for people, in the story's own syntax: `4s`, `3.5s`, `0.25s`."""
    return f"{seconds_text(ms)}s"


def parse_duration(text: str) -> int | None:
    """`4s`, `3.5s`, `1500ms`, `0:04`, `1:02.5` or `1:02.500` -> milliseconds; None if malformed."""
    text = text.strip()
    try:
        if ":" in text:
            minutes, seconds = text.split(":", 1)
            value = Decimal(minutes) * 60 + Decimal(seconds)
        elif text.endswith("ms"):
            return int(Decimal(text[:-2]))
        elif text.endswith("s"):
            value = Decimal(text[:-1])
        else:
            return None
    except InvalidOperation:
        return None
    return int((value * MS_PER_SECOND).to_integral_value())


# -- timecodes ---------------------------------------------------------------------------------


def timecode(ms: int) -> str:
    """A film position for people, `m:ss.mmm`: 62,500 ms -> `1:02.500` (minutes grow past 59).

    The one form every view prints; `parse_duration` reads it back.
    """
    if ms < 0:
        return "-" + timecode(-ms)
    minutes, rest = divmod(ms, MS_PER_MINUTE)
    seconds, millis = divmod(rest, MS_PER_SECOND)
    return f"{minutes}:{seconds:02d}.{millis:03d}"


def srt_time(ms: int) -> str:
    """A SubRip (`.srt`) time, `HH:MM:SS,mmm` as the file format requires: `00:01:02,500`."""
    hours, rest = divmod(max(ms, 0), MS_PER_HOUR)
    minutes, rest = divmod(rest, MS_PER_MINUTE)
    seconds, millis = divmod(rest, MS_PER_SECOND)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d},{millis:03d}"


# -- frames and samples (the assembly edge) ----------------------------------------------------


def ms_to_frames(ms: int, fps: Rate) -> int:
    """The film frame at (or nearest to) `ms`, at `fps` frames per second."""
    return round(Fraction(ms) * fps / MS_PER_SECOND)


def frames_to_ms(frames: int, fps: Rate) -> int:
    """The time of frame `frames` (or the length of that many frames), in whole ms."""
    return round(Fraction(frames) * MS_PER_SECOND / fps)


def frames_to_seconds(frames: int, fps: Rate) -> Fraction:
    """The exact length of `frames` frames, in seconds."""
    return Fraction(frames) / fps


def frames_to_samples(frames: int, fps: Rate, rate: int) -> int:
    """The audio sample (at `rate` Hz) where film frame `frames` starts."""
    return round(Fraction(frames) * rate / fps)


def ms_to_samples(ms: int, rate: int) -> int:
    """Audio samples at `rate` Hz in `ms` milliseconds (rounded to the nearest)."""
    return round(Fraction(ms) * rate / MS_PER_SECOND)

"""What the preview animates: the picture of each shot, its camera move, and its sound.

The preview (`storyc.providers.preview`) turns each shot into a moving still and the clip's
dialogue into sound, with no network and no key. This module holds the three decisions:

* **The picture** (`shot_picture`): the best one the shot has, in this order: its keyframe
  (`PlannedShot.keyframe`: the shot's own `keyframe: "file"`, resolved and checked by the
  front end like a `from` image; a still `storyc keyframes` made reaches the preview only as
  a first frame, with `first-frame: keyframes`, since the plan does not depend on what
  happens to lie in the output folder), the clip's first frame
  (`from "image"`, for the clip's first shot), a cameo still (an image cameo, or a frame of a
  video cameo; the cameo the shot names with `@name` first), else none (the preview draws
  its text card).
* **The camera move** (`camera_move`): read from the `camera:` text with a small vocabulary,
  rendered as motion over the still (`zoompan` expressions, `Move.zoompan`):

  | words in `camera:` | move |
  |---|---|
  | static, locked off, tripod | no motion |
  | push in, dolly in, zoom in, track in, move in, creep in | scale grows |
  | pull out/back, dolly out/back, zoom out, track out | scale shrinks |
  | pan left/right, truck left/right, track left/right | the frame slides sideways |
  | tilt up/down | the frame slides vertically |
  | crane/boom/jib up/down, rising/descending | vertical slide with a slow push |
  | orbit, arc, circle (left or right) | sideways slide with a slow push |
  | handheld, shaky, shake | a small wobble |
  | anything else, or no `camera:` | a slow push-in (6 %) |

* **The sound** (`clip_audio`): each dialogue line spoken by espeak-ng when it is installed
  (`apt-get install espeak-ng`; `STORYC_PREVIEW_TTS=off` turns it off), else a tone of one
  blip per word, so the line's timing is audible either way. The lines of a shot share its
  length in proportion to their words. A shot's `sound:`/`music:`/`sfx:`/`ambience:` cues get
  a quiet placeholder (a soft chord for music, filtered noise otherwise) and each cut a short
  soft blip. The result is one 48 kHz stereo 16-bit WAV.
"""

from __future__ import annotations

import io
import math
import os
import re
import shutil
import subprocess
import wave
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from storyc.plan.schema import Clip, PlannedShot

SAMPLE_RATE = 48_000
SPEECH_LEVEL = 0.45
"""Peak level of a spoken line (about -12 dB mean while speaking)."""
TONE_LEVEL = 0.25
BED_LEVEL = 0.02
"""The sound-cue placeholders: well under the dialogue (about -35 dB)."""
CUT_BLIP_LEVEL = 0.06
SPEECH_WPM = 165
VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".m4v", ".webm", ".mkv", ".avi"})


# --- camera moves -----------------------------------------------------------------------


@dataclass(frozen=True)
class Move:
    """A camera move as motion over a still: `kind` and, where it has one, `direction`."""

    kind: str
    """static, push, pull, pan, tilt, crane, orbit, handheld or default."""
    direction: str | None = None
    """left/right (pan, orbit), up/down (tilt, crane)."""

    def zoompan(self, frames: int, strength: float = 1.0) -> tuple[str, str, str]:
        """The (z, x, y) expressions of ffmpeg's `zoompan` for this move over `frames`.

        `strength` scales the amount (the text cards move half as much as pictures)."""
        p = f"(on/{max(frames - 1, 1)})"
        centre_x, centre_y = "iw/2-iw/zoom/2", "ih/2-ih/zoom/2"
        span_x, span_y = "(iw-iw/zoom)", "(ih-ih/zoom)"
        amount = 0.12 * strength
        if self.kind == "static":
            return "1", "0", "0"
        if self.kind == "push":
            return f"1+{amount:.4f}*{p}", centre_x, centre_y
        if self.kind == "pull":
            return f"1+{amount:.4f}*(1-{p})", centre_x, centre_y
        if self.kind in ("pan", "orbit"):
            zoom = f"1+{amount:.4f}" if self.kind == "pan" else f"1+{amount:.4f}*(1+0.5*{p})"
            # Panning right shows what is right of the frame: the window slides right.
            x = f"{span_x}*{p}" if self.direction != "left" else f"{span_x}*(1-{p})"
            return zoom, x, centre_y
        if self.kind in ("tilt", "crane"):
            zoom = f"1+{amount:.4f}" if self.kind == "tilt" else f"1+{amount:.4f}*(1+0.5*{p})"
            y = f"{span_y}*(1-{p})" if self.direction == "up" else f"{span_y}*{p}"
            return zoom, centre_x, y
        if self.kind == "handheld":
            wobble = "(0.5+0.3*sin(on*0.41)+0.15*sin(on*1.37))"
            sway = "(0.5+0.3*sin(on*0.29+1)+0.15*sin(on*1.11))"
            return f"1+{amount / 2:.4f}", f"{span_x}*{wobble}", f"{span_y}*{sway}"
        return f"1+{0.06 * strength:.4f}*{p}", centre_x, centre_y


_SIDE = r"(?:to\s+the\s+|to\s+)?(left|right)"
_MOVES: tuple[tuple[str, str, str | None], ...] = (
    # (pattern, kind, direction or None to read it from the match's first group)
    (r"\b(static|locked[\s-]?off|tripod|still\s+camera|no\s+movement)\b", "static", "-"),
    (r"\b(hand[\s-]?held|shaky|shake|shaking|jittery)\b", "handheld", "-"),
    (
        r"\b(?:orbit|orbits|orbiting|arc|arcs|arcing|circles?|circling)\b(?:\D*?\b(left|right)\b)?",
        "orbit",
        None,
    ),
    (r"\b(?:crane|cranes|craning|boom|booms|jib|jibs)\s+(up|down)\b", "crane", None),
    (r"\b(?:rising|rises|ascending)\b", "crane", "up"),
    (r"\b(?:descending|descends)\b", "crane", "down"),
    (r"\b(?:tilt|tilts|tilting)\s+(up|down)\b", "tilt", None),
    (
        r"\b(?:pan|pans|panning|truck|trucks|trucking|track|tracks|tracking|whip[\s-]pan)\s+"
        + _SIDE,
        "pan",
        None,
    ),
    (r"\b(?:pull|pulls|pulling)\s+(?:out|back)\b", "pull", "-"),
    (
        r"\b(?:dolly|dollies|dollying|zoom|zooms|zooming|track|tracks|tracking)\s+(?:out|back)\b",
        "pull",
        "-",
    ),
    (
        r"\b(?:push|pushes|pushing|dolly|dollies|dollying|zoom|zooms|zooming|track|tracks|tracking"
        r"|move|moves|moving|creep|creeps|creeping)\s+(?:slowly\s+)?(?:in|into|forward|closer)\b",
        "push",
        "-",
    ),
    (r"\b(?:push[\s-]in|push|crash\s+zoom)\b", "push", "-"),
)


def camera_move(text: str | None) -> Move:
    """The move the `camera:` text asks for (see the module's table); `default` if none."""
    if not text:
        return Move("default")
    lowered = text.lower()
    for pattern, kind, direction in _MOVES:
        found = re.search(pattern, lowered)
        if found is None:
            continue
        if direction == "-":
            return Move(kind)
        if direction is not None:
            return Move(kind, direction)
        side = found.group(1) if found.lastindex else None
        return Move(kind, side or ("right" if kind in ("orbit", "pan") else None))
    return Move("default")


# --- pictures ---------------------------------------------------------------------------


def shot_picture(clip: Clip, shot: PlannedShot | None) -> Path | None:
    """The best picture the shot has (keyframe, first frame, cameo still), or None."""
    if shot is None:
        return None
    if shot.keyframe and Path(shot.keyframe).is_file():
        return Path(shot.keyframe)
    if clip.input_reference and clip.shots and shot.index == clip.shots[0].index:
        path = Path(clip.input_reference)
        if path.is_file():
            return path
    words = " ".join(
        [shot.camera or "", shot.action or "", shot.light or ""]
        + [f"{d.speaker} {d.text}" for d in shot.dialogue]
    ).lower()
    named = [c for c in clip.cameos if re.search(rf"@?\b{re.escape(c.name.lower())}\b", words)]
    for cameo in (*named, *clip.cameos):
        path = Path(cameo.path)
        if path.is_file():
            return path
    return None


def is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES


def video_still(video: Path, ffmpeg: str) -> bytes | None:
    """One frame (half a second in, or the first) of a video cameo, as PNG bytes."""
    for at in ("0.5", "0"):
        cmd = [ffmpeg, "-v", "error", "-nostdin", "-ss", at, "-i", str(video)]
        cmd += ["-frames:v", "1", "-f", "image2pipe", "-vcodec", "png", "-"]
        try:
            run = subprocess.run(cmd, capture_output=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        if run.returncode == 0 and run.stdout:
            return run.stdout
    return None


# --- sound ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One dialogue line placed in the clip: `start` and `end` in seconds."""

    text: str
    start: float
    end: float


def line_slots(shot: PlannedShot, start: float, end: float) -> list[Line]:
    """The shot's dialogue lines spread over [start, end) in proportion to their words."""
    lines = [d.text for d in shot.dialogue if d.text.strip()]
    if not lines or end <= start:
        return []
    weights = [max(1, len(t.split())) for t in lines]
    total = sum(weights)
    result, at = [], start
    for text, weight in zip(lines, weights, strict=True):
        span = (end - start) * weight / total
        result.append(Line(text, at + min(0.15, span / 10), at + span))
        at += span
    return result


def tts_command() -> str | None:
    """espeak-ng (or espeak) on PATH, unless `STORYC_PREVIEW_TTS=off`."""
    if os.environ.get("STORYC_PREVIEW_TTS", "").lower() in ("off", "0", "no", "tone"):
        return None
    return shutil.which("espeak-ng") or shutil.which("espeak")


def speak(text: str, engine: str) -> np.ndarray | None:
    """The line spoken by the engine, mono float at `SAMPLE_RATE`, or None if it failed."""
    cmd = [engine, "-s", str(SPEECH_WPM), "--stdout", text]
    try:
        run = subprocess.run(cmd, capture_output=True, timeout=30, check=False)
        if run.returncode != 0 or not run.stdout:
            return None
        with wave.open(io.BytesIO(run.stdout)) as wav:
            rate, width, channels = wav.getframerate(), wav.getsampwidth(), wav.getnchannels()
            raw = wav.readframes(wav.getnframes())
    except (OSError, subprocess.TimeoutExpired, wave.Error, EOFError):
        return None
    if width != 2 or not raw:
        return None
    data = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    if channels > 1:
        data = data.reshape(-1, channels).mean(axis=1)
    if rate != SAMPLE_RATE:
        times = np.arange(0, len(data) / rate, 1 / SAMPLE_RATE)
        data = np.interp(times, np.arange(len(data)) / rate, data).astype(np.float32)
    peak = float(np.max(np.abs(data))) or 1.0
    return data * (SPEECH_LEVEL / peak)


def tone(text: str, seconds: float) -> np.ndarray:
    """A placeholder for a line: one soft blip per word (pitch moving with the word's
    length), filling at most `seconds`."""
    words = text.split() or [text]
    step = min(0.28, seconds / max(len(words), 1))
    blip = max(step * 0.7, 0.02)
    out = np.zeros(int(step * len(words) * SAMPLE_RATE) + 1, dtype=np.float32)
    t = np.arange(int(blip * SAMPLE_RATE)) / SAMPLE_RATE
    envelope = np.minimum(1.0, np.minimum(t, blip - t) / 0.01).clip(0, 1)
    for n, word in enumerate(words):
        pitch = 260.0 + 30.0 * (len(word) % 7)
        start = int(n * step * SAMPLE_RATE)
        wave_ = TONE_LEVEL * envelope * np.sin(2 * math.pi * pitch * t)
        out[start : start + len(wave_)] += wave_[: len(out) - start]
    return out


def _place(track: np.ndarray, sound: np.ndarray, start: float, end: float) -> None:
    first = max(0, int(start * SAMPLE_RATE))
    last = min(len(track), int(end * SAMPLE_RATE), first + len(sound))
    if last > first:
        piece = sound[: last - first].copy()
        fade = min(len(piece), SAMPLE_RATE // 100)
        if fade:
            piece[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
        track[first:last] += piece


def _bed(cue: str, seconds: float, seed: int) -> np.ndarray:
    """A quiet placeholder for a sound cue: a soft chord for music, filtered noise else."""
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    if re.search(r"\b(music|score|song|melody|piano|strings|guitar|choir)\b", cue.lower()):
        chord = sum(np.sin(2 * math.pi * f * t) for f in (220.0, 277.18, 329.63)) / 3
        bed = chord.astype(np.float32)
    else:
        noise = np.random.default_rng(seed).standard_normal(n).astype(np.float32)
        kernel = np.ones(24, dtype=np.float32) / 24  # a crude low-pass: a rumble, not hiss
        bed = np.convolve(noise, kernel, mode="same")
        bed /= float(np.max(np.abs(bed))) or 1.0
    ramp = min(n // 2, SAMPLE_RATE // 10)
    if ramp:
        bed[:ramp] *= np.linspace(0.0, 1.0, ramp, dtype=np.float32)
        bed[-ramp:] *= np.linspace(1.0, 0.0, ramp, dtype=np.float32)
    return BED_LEVEL * bed / (float(np.sqrt(np.mean(bed**2))) * 3 or 1.0)


def clip_audio(
    clip: Clip, spans: Sequence[tuple[PlannedShot | None, float, float]], seconds: float
) -> bytes:
    """The clip's sound as a WAV file (bytes): `spans` are (shot, start s, end s)."""
    track = np.zeros(round(seconds * SAMPLE_RATE), dtype=np.float32)
    engine = tts_command()
    for n, (shot, start, end) in enumerate(spans):
        if shot is None:
            continue
        if n > 0:
            blip_t = np.arange(int(0.08 * SAMPLE_RATE)) / SAMPLE_RATE
            blip = CUT_BLIP_LEVEL * np.sin(2 * math.pi * 880 * blip_t) * np.exp(-blip_t * 40)
            _place(track, blip.astype(np.float32), start, end)
        if shot.sound:
            seed = zlib.crc32(f"{clip.id}/{shot.index}".encode())
            _place(track, _bed(shot.sound, end - start, seed), start, end)
        for line in line_slots(shot, start, end):
            voice = speak(line.text, engine) if engine else None
            if voice is None:
                voice = tone(line.text, line.end - line.start)
            _place(track, voice, line.start, line.end)
    pcm = (np.clip(track, -1.0, 1.0) * 32767).astype("<i2")
    stereo = np.repeat(pcm[:, None], 2, axis=1)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(stereo.tobytes())
    return buffer.getvalue()

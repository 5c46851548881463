"""Hand-made plans and real clip files for the assembly tests and the benchmark.

`make_clip` encodes a real H.264 + AAC MP4 with the bundled ffmpeg (a moving test pattern
and a tone); `make_plan` builds a `ClipPlan` the way the planner would lay it out.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from storyc.plan.schema import (
    Clip,
    ClipPlan,
    PlanHeader,
    PlannedDialogue,
    PlannedShot,
    PlannedTransition,
)
from storyc.probe import ffmpeg_exe


def make_clip(
    path: Path,
    *,
    size: str = "320x180",
    fps: int = 24,
    ms: int = 1000,
    tone_hz: int = 440,
    preset: str = "ultrafast",
    audio: bool = True,
    rate: int = 48000,
    channels: int = 1,
    quiet_edges: bool = False,
    pattern: str = "testsrc2",
) -> Path:
    """Write a real MP4 clip (H.264 yuv420p + AAC) of exactly `ms` at `fps`."""
    seconds = ms / 1000
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y"]
    cmd += ["-f", "lavfi", "-i", f"{pattern}=s={size}:r={fps}:d={seconds}"]
    if audio:
        tone = f"sine=f={tone_hz}:r={rate}:d={seconds}"
        if quiet_edges:
            tone += f",afade=t=in:d=0.05,afade=t=out:st={seconds - 0.05}:d=0.05"
        cmd += ["-f", "lavfi", "-i", tone]
    cmd += ["-c:v", "libx264", "-preset", preset, "-pix_fmt", "yuv420p"]
    if audio:
        cmd += ["-c:a", "aac", "-ac", str(channels), "-ar", str(rate)]
    cmd += ["-frames:v", str(round(seconds * fps)), str(path)]
    subprocess.run(cmd, check=True, capture_output=True)
    return path


@dataclass
class ClipSpec:
    render_ms: int
    duration: int | None = None
    transition: tuple[str, int] = ("cut", 0)
    lines: list[list[str]] = field(default_factory=lambda: [[]])
    """Dialogue per shot (one list per shot; the clip's duration is split evenly)."""


def make_plan(specs: list[ClipSpec], *, size: str = "320x180", fps: int | None = None) -> ClipPlan:
    """A `ClipPlan` of clips laid out as the planner would (crossfades overlap)."""
    clips: list[Clip] = []
    film_start = 0
    shot_number = 0
    for number, spec in enumerate(specs, start=1):
        duration = spec.duration if spec.duration is not None else spec.render_ms
        shots = []
        per_shot = duration // len(spec.lines)
        for position, lines in enumerate(spec.lines):
            shot_number += 1
            start = position * per_shot
            end = duration if position == len(spec.lines) - 1 else start + per_shot
            shots.append(
                PlannedShot(
                    index=shot_number,
                    label=f"shot {shot_number}",
                    file="film.story",
                    line=10 * shot_number,
                    start=start,
                    end=end,
                    film_start=film_start + start,
                    film_end=film_start + end,
                    dialogue=tuple(
                        PlannedDialogue(speaker="mara", text=text, line=10 * shot_number + 1)
                        for text in lines
                    ),
                )
            )
        kind, transition_ms = spec.transition
        clips.append(
            Clip(
                id=f"c{number:02d}",
                index=number,
                scene="Opening",
                scene_index=1,
                provider="preview",
                model="preview",
                api_model="preview",
                size=size,
                render_ms=spec.render_ms,
                duration=duration,
                slack=spec.render_ms - duration,
                film_start=film_start,
                seed=None,
                prompt="a test pattern",
                audio=True,
                cost_usd=0.0,
                shots=tuple(shots),
                transition=PlannedTransition(kind=kind, duration=transition_ms),  # type: ignore[arg-type]
                request={},
            )
        )
        film_start += duration - (transition_ms if kind == "crossfade" else 0)
    header = PlanHeader(
        title="Test",
        source="film.story",
        model="preview",
        provider="preview",
        size=size,
        fps=fps,
        style=None,
        seed=None,
        clips="per-shot",
    )
    return ClipPlan(
        story=header, clips=tuple(clips), duration=film_start, render_seconds=0, cost_usd=0.0
    )

"""Where every clip sits in the film, in whole frames: the one timeline every output shares.

The film, the subtitles and the edit list all read their times from here, so they cannot
disagree. Each clip starts where the plan says (`Clip.film_start`, ms); its first and last
frames are rounded from those absolute times once (`storyc.units.ms_to_frames`), never by
adding rounded lengths, so nothing drifts.

Transitions (`Clip.transition` joins a clip to the next one):
- `cut`: the next clip starts where this one ends (audio gets a 5 ms fade either side).
- `crossfade D`: the next clip starts D before this one ends; picture and sound cross over D,
  and the film is D shorter.
- `fade D` / `dip D`: through black; this clip fades out over its last D/2 and the next fades
  in over its first D/2; the length does not change.

At the film's edges (`ClipPlan.opening`, the last clip's `transition`), a `fade D` fades the
first clip in from black over its first D, and the last clip out to black over its last D.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from storyc.errors import StorycError
from storyc.plan.schema import Clip, ClipPlan
from storyc.units import frames_to_ms, frames_to_samples, ms_to_frames

CUT_AUDIO_FADE_MS = 5
"""Audio ramps this long at every cut and at both ends of the film, so no join clicks."""


@dataclass(frozen=True)
class Placement:
    """One clip's part of the film. Frame counts are at the film's frame rate."""

    position: int
    """0-based place of the clip in the film."""
    clip: Clip
    source: Path
    start: int
    """Film frame where the clip's first frame is shown."""
    frames: int
    """How many frames of the clip (from its first) the film shows: the planned duration."""
    crossfade_in: int = 0
    """Frames over which this clip dissolves in over the previous one."""
    crossfade_out: int = 0
    fade_in: int = 0
    """Frames over which this clip fades up from black (a fade/dip before it)."""
    fade_out: int = 0

    @property
    def end(self) -> int:
        return self.start + self.frames

    @property
    def joined_by_cuts(self) -> bool:
        """True when nothing blends into either end of the clip (it can be stream-copied)."""
        return not (self.crossfade_in or self.crossfade_out or self.fade_in or self.fade_out)


@dataclass(frozen=True)
class Timeline:
    fps: Fraction
    width: int
    height: int
    frames: int
    """Length of the film in frames."""
    placements: tuple[Placement, ...]

    def frame_ms(self, frame: int) -> int:
        """Film time of `frame`, in ms."""
        return frames_to_ms(frame, self.fps)

    @property
    def duration_ms(self) -> int:
        return self.frame_ms(self.frames)

    def sample(self, frame: int, rate: int) -> int:
        """The audio sample at `rate` where film frame `frame` starts."""
        return frames_to_samples(frame, self.fps, rate)


def parse_size(size: str) -> tuple[int, int]:
    """`"1280x720"` -> (1280, 720)."""
    width, _, height = size.lower().partition("x")
    try:
        return int(width), int(height)
    except ValueError:
        raise StorycError(f"the film size {size!r} is not WIDTHxHEIGHT") from None


def build_timeline(plan: ClipPlan, sources: list[Path], fps: Fraction) -> Timeline:
    """Place every clip of `plan` (rendered to `sources`, in order) on the film's frames."""
    if len(sources) != len(plan.clips):
        raise StorycError(
            f"the plan has {len(plan.clips)} clips but {len(sources)} clip files were given"
        )
    if not plan.clips:
        raise StorycError("the plan has no clips, so there is no film to assemble")
    width, height = parse_size(plan.story.size)

    check_film_starts(plan)
    last = len(plan.clips) - 1
    bounds = [
        (ms_to_frames(clip.film_start, fps), ms_to_frames(clip.film_start + clip.duration, fps))
        for clip in plan.clips
    ]
    placements: list[Placement] = []
    for position, (clip, source, (start, end)) in enumerate(
        zip(plan.clips, sources, bounds, strict=True)
    ):
        frames = end - start
        if frames <= 0:
            raise StorycError(f"clip {clip.index} is shorter than one frame at {fps} fps")
        previous = plan.clips[position - 1].transition if position else None
        crossfade_in = fade_in = crossfade_out = fade_out = 0
        if previous is not None and previous.kind == "crossfade":
            crossfade_in = bounds[position - 1][1] - start
        elif previous is not None and previous.kind in ("fade", "dip"):
            whole = ms_to_frames(previous.duration, fps)
            fade_in = whole - whole // 2
        elif position == 0 and plan.opening.kind == "fade":
            fade_in = ms_to_frames(plan.opening.duration, fps)  # the film opens from black
        transition = clip.transition
        if position < last and transition.kind == "crossfade":
            crossfade_out = end - bounds[position + 1][0]
        elif position < last and transition.kind in ("fade", "dip"):
            fade_out = ms_to_frames(transition.duration, fps) // 2
        elif position == last and transition.kind == "fade":
            fade_out = ms_to_frames(transition.duration, fps)  # the film ends on black
        if max(crossfade_in, fade_in) + max(crossfade_out, fade_out) > frames:
            raise StorycError(
                f"the transitions around clip {clip.index} are longer than the clip itself "
                f"({clip.duration} ms)"
            )
        placements.append(
            Placement(
                position=position,
                clip=clip,
                source=source,
                start=start,
                frames=frames,
                crossfade_in=crossfade_in,
                crossfade_out=crossfade_out,
                fade_in=fade_in,
                fade_out=fade_out,
            )
        )
    return Timeline(
        fps=fps,
        width=width,
        height=height,
        frames=placements[-1].end,
        placements=tuple(placements),
    )


def check_film_starts(plan: ClipPlan) -> None:
    """Refuse a plan whose film times do not join up: each clip must start where the one
    before it ends, less a crossfade's overlap (the planner writes them so; an edited or
    damaged plan.json may not)."""
    expected = 0
    for clip in plan.clips:
        if clip.film_start != expected:
            raise StorycError(
                f"clip {clip.index} starts at {clip.film_start} ms in plan.json but the clips "
                f"before it end at {expected} ms",
                hint="compile the story again to rewrite plan.json",
            )
        overlap = clip.transition.duration if clip.transition.kind == "crossfade" else 0
        expected = clip.film_start + clip.duration - overlap


def cut_frames(placement: Placement) -> tuple[int, int]:
    """The film frames [first, end) where this clip is the one on screen.

    A dissolve's cut point is its middle: the outgoing clip owns the first half (rounded
    down), the incoming one the rest. Subtitles and the edit list both use these bounds.
    """
    first = placement.start + placement.crossfade_in // 2
    end = placement.end - (placement.crossfade_out - placement.crossfade_out // 2)
    return first, end


def shot_span_ms(timeline: Timeline, placement: Placement, start: int, end: int) -> tuple[int, int]:
    """Film times (ms) where the part [start, end) (ms inside the clip) is on screen."""
    origin = timeline.frame_ms(placement.start)
    first, last = (timeline.frame_ms(frame) for frame in cut_frames(placement))
    return (
        min(max(origin + start, first), last),
        min(max(origin + end, first), last),
    )

"""The cut as an OpenTimelineIO timeline, so an editor can open it in their NLE.

One video track (and a matching audio track) of clips that reference the rendered clip
files, trimmed exactly as the film trims them, with the story's transitions as OTIO
`Transition`s. A crossfade of X frames becomes a dissolve centred on the cut: the outgoing
clip lends X/2 frames of handle past the cut and the incoming clip X/2 before it, so the
timeline is as long as the film. Fades and dips through black are `Custom` transitions
named for what they are (OTIO has no standard type for them). Shots are markers.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

from storyc.assemble.timeline import Placement, Timeline, cut_frames
from storyc.fsutil import atomic_path
from storyc.units import ms_to_frames


def build_otio(
    timeline: Timeline,
    title: str,
    relative_to: Path | None = None,
    source_frames: tuple[int, ...] = (),
) -> Any:
    """An `opentimelineio.schema.Timeline` of the film.

    `source_frames` are the clip files' lengths in film frames (their media ranges); without
    them the plan's render lengths are used.
    """
    import opentimelineio as otio

    rate = float(timeline.fps)

    def frames(count: int) -> Any:
        return otio.opentime.RationalTime(count, rate)

    def span(start: int, count: int) -> Any:
        return otio.opentime.TimeRange(frames(start), frames(count))

    result = otio.schema.Timeline(name=title, global_start_time=frames(0))
    for kind, name in (
        (otio.schema.TrackKind.Video, "Video"),
        (otio.schema.TrackKind.Audio, "Audio"),
    ):
        track = otio.schema.Track(name=name, kind=kind)
        placements = timeline.placements
        for placement in placements:
            first, end = cut_frames(placement)
            head, tail = first - placement.start, placement.end - end
            clip = otio.schema.Clip(
                name=f"{placement.clip.index:02d} {placement.clip.scene}",
                media_reference=otio.schema.ExternalReference(
                    target_url=_url(placement.source, relative_to),
                    available_range=span(0, _source_frames(placement, source_frames)),
                ),
                source_range=span(head, placement.frames - head - tail),
                metadata={
                    "storyc": {
                        "clip_id": placement.clip.id,
                        "clip": placement.clip.index,
                        "scene": placement.clip.scene,
                        "planned_ms": placement.clip.duration,
                    }
                },
            )
            if kind == otio.schema.TrackKind.Video:
                for shot in placement.clip.shots:
                    first = ms_to_frames(shot.start, timeline.fps)
                    last = min(ms_to_frames(shot.end, timeline.fps), placement.frames)
                    if last > first:
                        clip.markers.append(
                            otio.schema.Marker(
                                name=shot.label or f"shot {shot.index}",
                                marked_range=span(first, last - first),
                                metadata={
                                    "storyc": {
                                        "shot": shot.index,
                                        "source": f"{shot.file}:{shot.line}",
                                    }
                                },
                            )
                        )
            track.append(clip)
            if placement.position < len(placements) - 1:
                transition = _transition(otio, placement, frames, timeline.fps)
                if transition is not None:
                    track.append(transition)
        result.tracks.append(track)
    return result


def write_otio(
    timeline: Timeline, path: Path, title: str, source_frames: tuple[int, ...] = ()
) -> None:
    """Write the timeline to `path` (atomically), clip paths relative to its folder."""
    import opentimelineio as otio

    built = build_otio(timeline, title, path.parent, source_frames)
    with atomic_path(path, ".otio") as temp:
        otio.adapters.write_to_file(built, str(temp))


def _half_before_cut(outgoing: Placement) -> int:
    """Frames of a dissolve before its cut point (as `timeline.cut_frames` splits it)."""
    return outgoing.crossfade_out // 2


def _transition(otio: Any, outgoing: Placement, frames: Any, fps: Fraction) -> Any:
    clip = outgoing.clip
    kind = clip.transition.kind
    metadata = {"storyc": {"kind": kind, "duration_ms": clip.transition.duration}}
    if kind == "crossfade" and outgoing.crossfade_out:
        before = _half_before_cut(outgoing)
        return otio.schema.Transition(
            name=f"crossfade {clip.transition.duration} ms",
            transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
            in_offset=frames(before),
            out_offset=frames(outgoing.crossfade_out - before),
            metadata=metadata,
        )
    if kind in ("fade", "dip") and outgoing.fade_out:
        whole = ms_to_frames(clip.transition.duration, fps)
        return otio.schema.Transition(
            name=f"{'fade' if kind == 'fade' else 'dip'} to black {clip.transition.duration} ms",
            transition_type=otio.schema.TransitionTypes.Custom,
            in_offset=frames(outgoing.fade_out),
            out_offset=frames(whole - outgoing.fade_out),
            metadata=metadata,
        )
    return None


def _source_frames(placement: Placement, known: tuple[int, ...]) -> int:
    """The clip file's length in film frames (at least what the film uses)."""
    if placement.position < len(known):
        return max(known[placement.position], placement.frames)
    rendered = round(placement.clip.render_ms * placement.frames / max(1, placement.clip.duration))
    return max(rendered, placement.frames)


def _url(path: Path, relative_to: Path | None) -> str:
    absolute = path.resolve()
    if relative_to is not None:
        try:
            return absolute.relative_to(relative_to.resolve()).as_posix()
        except ValueError:
            pass
    return absolute.as_uri()

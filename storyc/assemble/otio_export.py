"""The cut as an OpenTimelineIO timeline, so an editor can open it in their NLE.

One video track (and a matching audio track) of clips that reference the rendered clip
files, trimmed exactly as the film trims them, with the story's transitions as OTIO
`Transition`s that never need media the clip files do not have (every in-point stays at or
after the file's first frame, every out-point at or before its last), so the CMX 3600 EDL
and Final Cut 7 XML adapters convert the timeline as it is:

- A crossfade of X frames is a dissolve centred on the cut: the outgoing clip lends X/2
  frames of handle past the cut and the incoming clip X/2 before it (the frames the film
  overlaps), so the timeline is as long as the film.
- A fade or dip through black (the film fades the outgoing clip out over its last D/2 and
  the incoming one in over its first D/2, without overlapping them) is a dissolve to black
  that ends where the outgoing clip ends, a black `Gap` of no length, and a dissolve from
  black that starts where the incoming clip starts. Both clips keep their whole length and
  only black lends the handles (the gap starts D/2 into black). This is how editors spell
  it: an EDL writes a dissolve to reel `BL` and back, Final Cut 7 XML an `end-black` and a
  `start-black` transition.
- The film's fade in from black (`ClipPlan.opening`) and out to black (after the last clip)
  are the same dissolves against a black `Gap` of no length, before the first clip and after
  the last.

Shots are markers on their clip (named by the shot's label), within the frames the film
shows. Media paths are relative to the .otio file's folder unless absolute ones are asked
for (`file://` URLs).
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import Any
from urllib.parse import quote

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
    placements = timeline.placements

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
        track.extend(_edge(otio, placements[0], frames, opening=True))
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
                clip.markers.extend(_markers(otio, placement, head, tail, span, timeline.fps))
            track.append(clip)
            if placement.position < len(placements) - 1:
                track.extend(_join(otio, placement, placements[placement.position + 1], frames))
        track.extend(_edge(otio, placements[-1], frames, opening=False))
        result.tracks.append(track)
    return result


def write_otio(
    timeline: Timeline,
    path: Path,
    title: str,
    source_frames: tuple[int, ...] = (),
    *,
    absolute_paths: bool = False,
) -> None:
    """Write the timeline to `path` (atomically), clip paths relative to its folder (or
    absolute `file://` URLs with `absolute_paths`, for tools that cannot resolve relative
    ones)."""
    import opentimelineio as otio

    built = build_otio(timeline, title, None if absolute_paths else path.parent, source_frames)
    with atomic_path(path, ".otio") as temp:
        otio.adapters.write_to_file(built, str(temp))


def _markers(
    otio: Any, placement: Placement, head: int, tail: int, span: Any, fps: Fraction
) -> list[Any]:
    """One marker per shot, in the clip's media frames, cut to the frames the film shows."""
    markers = []
    for shot in placement.clip.shots:
        first = max(ms_to_frames(shot.start, fps), head)
        last = min(ms_to_frames(shot.end, fps), placement.frames - tail)
        if last <= first:
            continue
        name = shot.label or f"shot {shot.index}"
        storyc: dict[str, Any] = {
            "shot": shot.index,
            "label": shot.label,
            "source": f"{shot.file}:{shot.line}",
        }
        if shot.notes:  # the writer's `note:` lines, where an editor reads a marker's text
            storyc["notes"] = list(shot.notes)
        markers.append(
            otio.schema.Marker(
                name=name,
                marked_range=span(first, last - first),
                metadata={"storyc": storyc},
                comment="\n".join(shot.notes),
            )
        )
    return markers


def _join(otio: Any, outgoing: Placement, incoming: Placement, frames: Any) -> list[Any]:
    """What goes between two clips on a track: nothing for a cut, a dissolve for a
    crossfade, dissolves to and from black around an empty gap for a fade or a dip."""
    transition = outgoing.clip.transition
    kind = transition.kind
    metadata = {"storyc": {"kind": kind, "duration_ms": transition.duration}}
    dissolve = otio.schema.TransitionTypes.SMPTE_Dissolve
    if kind == "crossfade" and outgoing.crossfade_out:
        # The film overlaps the clips by `crossfade_out` frames; the cut is the middle.
        before = outgoing.crossfade_out // 2
        return [
            otio.schema.Transition(
                name=f"crossfade {transition.duration} ms",
                transition_type=dissolve,
                in_offset=frames(before),
                out_offset=frames(outgoing.crossfade_out - before),
                metadata=metadata,
            )
        ]
    if kind not in ("fade", "dip") or not (outgoing.fade_out or incoming.fade_in):
        return []
    items: list[Any] = []
    if outgoing.fade_out:
        items.append(
            otio.schema.Transition(
                name=f"{kind} to black {transition.duration} ms",
                transition_type=dissolve,
                in_offset=frames(outgoing.fade_out),
                out_offset=frames(0),
                metadata=metadata,
            )
        )
    # Black of no length: the dissolve into it takes its handle from before its start.
    items.append(
        otio.schema.Gap(
            name="black",
            source_range=otio.opentime.TimeRange(frames(outgoing.fade_out), frames(0)),
            metadata=metadata,
        )
    )
    if incoming.fade_in:
        items.append(
            otio.schema.Transition(
                name=f"{kind} from black {transition.duration} ms",
                transition_type=dissolve,
                in_offset=frames(0),
                out_offset=frames(incoming.fade_in),
                metadata=metadata,
            )
        )
    return items


def _edge(otio: Any, placement: Placement, frames: Any, *, opening: bool) -> list[Any]:
    """The film's fade in from black (before the first clip) or out to black (after the
    last): a dissolve against a black `Gap` of no length, as between two clips."""
    count = placement.fade_in if opening else placement.fade_out
    if not count:
        return []
    duration = round(count * 1000 / frames(1).rate)  # the fade's length on the film's frames
    metadata = {"storyc": {"kind": "fade", "duration_ms": duration}}
    dissolve = otio.schema.TransitionTypes.SMPTE_Dissolve
    if opening:
        return [
            otio.schema.Gap(
                name="black", source_range=otio.opentime.TimeRange(frames(0), frames(0))
            ),
            otio.schema.Transition(
                name=f"fade from black {duration} ms",
                transition_type=dissolve,
                in_offset=frames(0),
                out_offset=frames(count),
                metadata=metadata,
            ),
        ]
    return [
        otio.schema.Transition(
            name=f"fade to black {duration} ms",
            transition_type=dissolve,
            in_offset=frames(count),
            out_offset=frames(0),
            metadata=metadata,
        ),
        otio.schema.Gap(
            name="black", source_range=otio.opentime.TimeRange(frames(count), frames(0))
        ),
    ]


def _source_frames(placement: Placement, known: tuple[int, ...]) -> int:
    """The clip file's length in film frames (at least what the film uses)."""
    if placement.position < len(known):
        return max(known[placement.position], placement.frames)
    rendered = round(placement.clip.render_ms * placement.frames / max(1, placement.clip.duration))
    return max(rendered, placement.frames)


def _url(path: Path, relative_to: Path | None) -> str:
    """`path` as a URL relative to the folder `relative_to` (percent-encoded, `/`-separated,
    with `..` where it must climb), or an absolute `file://` URL when `relative_to` is None
    or no relative path reaches it (another drive)."""
    absolute = path.resolve()
    if relative_to is not None:
        try:
            relative = os.path.relpath(absolute, relative_to.resolve())
        except ValueError:
            return absolute.as_uri()
        return quote(Path(relative).as_posix())
    return absolute.as_uri()

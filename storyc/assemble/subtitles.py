"""The film's subtitles as SRT: every dialogue line, timed to its shot as the film shows it.

Times come from the assembly timeline (after trims and crossfade overlaps), so a cue starts
when its shot appears in the finished film. A shot with several lines shares its time
between them in proportion to their length; a cue that would run into the next one ends
where the next begins.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from storyc.assemble.timeline import Timeline, shot_span_ms
from storyc.fsutil import write_atomic
from storyc.plan.schema import display_name
from storyc.units import srt_time


@dataclass(frozen=True)
class Cue:
    start: int
    """ms in the film"""
    end: int
    text: str


def subtitle_cues(timeline: Timeline) -> list[Cue]:
    """Every dialogue line of the plan as a cue on the film's clock."""
    cues: list[Cue] = []
    for placement in timeline.placements:
        for shot in placement.clip.shots:
            if not shot.dialogue:
                continue
            start, end = shot_span_ms(timeline, placement, shot.start, shot.end)
            if end <= start:
                continue  # the shot was trimmed away entirely
            weights = [len(line.text) + 10 for line in shot.dialogue]
            total = sum(weights)
            edge = start
            for number, line in enumerate(shot.dialogue):
                done = sum(weights[: number + 1])
                line_end = (
                    end if number == len(weights) - 1 else start + (end - start) * done // total
                )
                cues.append(Cue(edge, line_end, f"{display_name(line.speaker)}: {line.text}"))
                edge = line_end
    cues.sort(key=lambda cue: cue.start)
    for number in range(len(cues) - 1):
        following = cues[number + 1]
        if cues[number].end > following.start > cues[number].start:
            cues[number] = Cue(cues[number].start, following.start, cues[number].text)
    return cues


def format_srt(cues: list[Cue]) -> str:
    blocks = [
        f"{number}\n{srt_time(cue.start)} --> {srt_time(cue.end)}\n{cue.text}\n"
        for number, cue in enumerate(cues, start=1)
    ]
    return "\n".join(blocks)


def write_srt(timeline: Timeline, path: Path) -> list[Cue]:
    """Write the film's subtitles to `path` (atomically); return the cues."""
    cues = subtitle_cues(timeline)
    write_atomic(path, format_srt(cues))
    return cues

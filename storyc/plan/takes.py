"""Takes: N variants of a clip, each with its own seed and cache entry, and the pick of one.

`takes: N` in the header or `takes N` on a shot asks for N variants of the clip holding the
shot. Take 1 is the clip exactly as planned (same id, so stories without takes and the
golden plans are untouched); take k > 1 gets seed `seed + k - 1` (when the clip has a seed)
and an id derived from take 1's id and k, so every take is its own cache entry.

Takes belong to a clip (a clip is what a provider renders), so a pick is per clip: the
writer names any of the clip's shots (its label or its 1-based number, as `storyc plan`
shows it), and `write_pick` keeps one pick per clip (a new pick replaces the one made through
another shot of the same clip). The choice lives in `<stem>.story.lock` beside the story
(JSON, meant to be committed): `{"version": 1, "picks": {"<shot>": <take>}}`.
`apply_picks` swaps the picked take into the plan (every compiling command does, through
`frontend.with_picks`); two different picks for the shots of one clip (a hand-edited lock,
or shots packed into one clip since) are an error that says how to settle it.

`render` and `build` render every take of every clip (`every_take`, in `DIR/takes/`, so the
cost prompt counts them all) and the film uses the picked take of each clip, or take 1.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storyc.errors import StorycError
from storyc.fsutil import write_atomic
from storyc.language.model import Story
from storyc.plan.schema import Clip, ClipPlan

LOCK_VERSION = 1


def lock_path(story_path: Path) -> Path:
    return story_path.with_name(story_path.name + ".lock")


def take_count(story: Story, clip: Clip) -> int:
    """How many takes the clip gets: the most any of its shots asks for."""
    shots = story.shots
    counts = [
        shots[s.index - 1].takes or story.header.takes
        for s in clip.shots
        if 0 < s.index <= len(shots)
    ]
    return max([1, *counts])


def take_variant(clip: Clip, take: int) -> Clip:
    """Take `take` of `clip` (take 1 is the clip itself)."""
    if take == 1:
        return clip
    seed = clip.seed + take - 1 if clip.seed is not None else None
    digest = hashlib.sha256(f"{clip.id}/take/{take}".encode()).hexdigest()[: len(clip.id)]
    return clip.model_copy(
        update={"id": digest, "take": take, "seed": seed, "request": _reseed(clip.request, seed)}
    )


def _reseed(request: Mapping[str, Any], seed: int | None) -> dict[str, Any]:
    """The request with its seed set wherever it carries one (top level, fal's `input`,
    prodia's `config`, inside a multipart `job` part)."""
    body = dict(request)
    if seed is None:
        return body
    for key, inner in body.items():
        if key == "seed":
            body[key] = seed
        elif isinstance(inner, Mapping):
            body[key] = _reseed(inner, seed)
    return body


def all_takes(story: Story, plan: ClipPlan) -> dict[int, list[Clip]]:
    """Clip index -> every take of it, for the clips with more than one."""
    return {
        clip.index: [take_variant(clip, k) for k in range(1, count + 1)]
        for clip in plan.clips
        if (count := take_count(story, clip)) > 1
    }


def shot_key(story: Story, shot: str) -> int:
    """The 1-based number of the shot named by its label or its number."""
    if shot.isdigit() and 0 < int(shot) <= len(story.shots):
        return int(shot)
    matches = [n for n, s in enumerate(story.shots, start=1) if s.label == shot]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise StorycError(
            f"{len(matches)} shots are labelled `{shot}`", hint="name the shot by its number"
        )
    labels = ", ".join(s.label for s in story.shots if s.label) or "none"
    raise StorycError(
        f"no shot `{shot}` in the story",
        hint=f"use a shot number, 1 to {len(story.shots)} (the `#N` that `storyc plan` shows), "
        f"or a label ({labels})",
    )


def read_picks(story_path: Path) -> dict[int, int]:
    """Shot number -> picked take, from the lock file (empty when there is none)."""
    path = lock_path(story_path)
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {int(k): int(v) for k, v in data.get("picks", {}).items()}
    except (ValueError, AttributeError, TypeError) as exc:
        raise StorycError(
            f"{path} is not a valid lock file ({exc})", hint="delete it or fix its JSON"
        ) from None


def write_pick(story_path: Path, shot: int, take: int, clip_shots: Iterable[int] = ()) -> Path:
    """Record take `take` for `shot`, replacing any pick made through another of
    `clip_shots` (the shots of the same clip): one pick per clip."""
    picks = {k: v for k, v in read_picks(story_path).items() if k not in set(clip_shots)}
    picks[shot] = take
    path = lock_path(story_path)
    body = {"version": LOCK_VERSION, "picks": {str(k): v for k, v in sorted(picks.items())}}
    write_atomic(path, json.dumps(body, indent=2) + "\n")
    return path


@dataclass(frozen=True)
class Pick:
    """A pick as recorded: the clip (take 1), the take chosen, how many it has, the lock."""

    clip: Clip
    take: int
    count: int
    path: Path

    def describe(self) -> str:
        """`clip 01 (shots #1, #2): take 2 of 3`, as `storyc pick` and the board say it."""
        return f"{clip_where(self.clip)}: take {self.take} of {self.count}"


def clip_where(clip: Clip) -> str:
    """`clip 01 (shots #1, #2)`: a clip as the writer finds it in `storyc plan`."""
    shots = ", ".join(f"#{s.index}" for s in clip.shots)
    return f"clip {clip.index:02d} (shot{'s' if len(clip.shots) != 1 else ''} {shots})"


def pick_take(story_path: Path, story: Story, plan: ClipPlan, shot: int, take: int) -> Pick:
    """Record take `take` of the clip holding shot number `shot` (`plan` compiled without
    picks): the one way a pick is made, for `storyc pick` and the served board alike.
    Raises `StorycError` when the clip has no such take."""
    clip = clip_of(plan, shot)
    count = take_count(story, clip)
    if not 1 <= take <= count:
        raise StorycError(
            f"shot {shot} has {count} take{'s' if count != 1 else ''}, so there is no take "
            f"{take}: takes belong to {clip_where(clip)}",
            hint="ask for more with `takes N` on the shot or `takes: N` in the header",
        )
    path = write_pick(story_path, shot, take, [s.index for s in clip.shots])
    return Pick(clip=clip, take=take, count=count, path=path)


def apply_picks(story: Story, plan: ClipPlan, picks: Mapping[int, int]) -> ClipPlan:
    """The plan with each clip replaced by the take picked for (any of) its shots."""
    clips = []
    for clip in plan.clips:
        count = take_count(story, clip)
        wanted = {s.index: picks[s.index] for s in clip.shots if s.index in picks}
        if len(set(wanted.values())) > 1:
            named = ", ".join(f"shot {k}: take {v}" for k, v in wanted.items())
            first = next(iter(wanted))
            raise StorycError(
                f"clip {clip.index:02d} has two picks ({named}); takes belong to a clip",
                hint=f"settle it with `storyc pick {Path(story.path).name} {first} TAKE` "
                "(one pick per clip), or edit the story's .lock file",
            )
        take = next(iter(wanted.values()), 1)
        clips.append(take_variant(clip, take) if 1 < take <= count else clip)
    return plan.model_copy(update={"clips": tuple(clips)})


def clip_of(plan: ClipPlan, shot: int) -> Clip:
    """The clip that holds shot number `shot`."""
    for clip in plan.clips:
        if any(s.index == shot for s in clip.shots):
            return clip
    raise StorycError(f"shot {shot} is in no clip of the plan")


def take_counts(story: Story, plan: ClipPlan) -> dict[int, int]:
    """Clip index -> how many takes it gets (1 for most)."""
    return {clip.index: take_count(story, clip) for clip in plan.clips}


def every_take(story: Story, plan: ClipPlan) -> list[Clip]:
    """Every take of every clip of the plan (as compiled, before picks), clip by clip: what
    `render` and `build` render and the cost prompt counts. Empty when no clip has takes."""
    counts = take_counts(story, plan)
    if max(counts.values(), default=1) <= 1:
        return []
    return [take_variant(clip, k) for clip in plan.clips for k in range(1, counts[clip.index] + 1)]

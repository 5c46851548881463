"""Shots to clips: which shots share a render, at what length, with what slack and cost.

Pure. `group_clips` decides the grouping and the times; `finish_plan` adds the prompts,
the content ids and the requests (each built by its provider's `build_request`, see
`storyc.providers.requests`) and returns the `ClipPlan` that `plan.json` holds.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from storyc.language.cameo_views import view_paths, voice_sample_path
from storyc.language.model import (
    AUDIO_CUE_KEYS,
    AVOID,
    NAME_REFERENCE,
    Cameo,
    Scene,
    Shot,
    Story,
    Transition,
    avoid_items,
)
from storyc.plan.capabilities import PREVIEW, Offering, size_for_aspect
from storyc.plan.schema import (
    CameoReference,
    Clip,
    ClipPlan,
    PlanHeader,
    PlannedDialogue,
    PlannedShot,
    PlannedTransition,
    ReferenceAudio,
    ReferenceImage,
)
from storyc.unchecked import maker

DEFAULT_SIZE = "1280x720"


@dataclass
class ClipDraft:
    """A clip before its prompt is written: its shots, timings and settings."""

    index: int
    scene_index: int
    scene_title: str
    shots: list[Shot]
    seed: int | None
    input_reference: str | None = None
    transition: Transition | None = None
    cameo_names: list[str] = field(default_factory=list)
    shot_prompts: list[str] = field(default_factory=list)
    """For a clip sent as shots (`Offering.multi_shot`): each shot's own prompt, written by
    `render_prompt` beside the clip's."""
    avoid_memo: tuple[Story, tuple[Shot, ...], str | None] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    """`clip_avoid` of the story and shots it was last worked out for (`draft_avoid`):
    the prompt and the plan both ask. Not copied by `dataclasses.replace`."""

    @property
    def duration_ms(self) -> int:
        return sum(s.duration_ms for s in self.shots)


def shot_seconds(
    durations_ms: Sequence[int], offering: Offering, *, partial: bool = False
) -> tuple[int, ...] | None:
    """The whole seconds each shot gets when a clip of these shots is sent as shots (Kling's
    `multi_prompt`), or None when it cannot be (one shot, a model without it, too many shots,
    lengths the model does not take).

    Every shot but the last must be an exact length the model takes: a shot rendered longer
    than planned would shift the ones after it. The last one is rounded up (to the shortest
    shot length, and so the clip is a length the model renders); the assembler trims the
    slack at the end.

    `partial`: the shots so far of a clip still being packed, which may hold fewer shots
    than the model's least (`Offering.min_shots`) because more may join."""
    fewest = 1 if partial else max(2, offering.min_shots)  # one shot alone is one prompt
    if not offering.multi_shot or not fewest <= len(durations_ms) <= offering.max_shots:
        return None
    allowed = set(offering.shot_lengths)
    seconds = []
    for ms in durations_ms[:-1]:
        if ms % 1000 or ms // 1000 not in allowed:
            return None
        seconds.append(ms // 1000)
    last_ms = durations_ms[-1]
    last = next((n for n in sorted(allowed) if n * 1000 >= last_ms), None)
    if last is None:
        return None
    total = next((n for n in sorted(offering.lengths) if n >= sum(seconds) + last), None)
    if total is None:
        return None
    last += total - sum(seconds) - last
    if last not in allowed:
        return None
    return (*seconds, last)


def render_seconds(draft: ClipDraft, offering: Offering) -> int:
    """The length (whole seconds) the clip is rendered and paid at."""
    durations = [s.duration_ms for s in draft.shots]
    per_shot = shot_seconds(durations, offering)
    return _render_seconds(sum(durations), per_shot, bool(draft.cameo_names), offering)


def _render_seconds(
    duration_ms: int, per_shot: Sequence[int] | None, with_references: bool, offering: Offering
) -> int:
    """`render_seconds` of a clip this long whose `shot_seconds` are `per_shot` (for
    `finish_plan`, which has both already)."""
    if per_shot is not None:
        return sum(per_shot)
    lengths = offering.lengths_for(with_references=with_references)
    return next((n for n in sorted(lengths) if n * 1000 >= duration_ms), max(lengths))


def story_size(story: Story, offering: Offering | None) -> str:
    """The output size: `size:` wins, then `aspect:`, then 1280x720 (or the model's first)."""
    if story.header.size:
        return story.header.size
    if offering is not None:
        if story.header.aspect:
            found = size_for_aspect(offering, story.header.aspect)
            if found:
                return found
        if DEFAULT_SIZE not in offering.sizes:
            return offering.sizes[0]
    return DEFAULT_SIZE


def cameos_in(
    shots: Sequence[Shot], story: Story, with_file: Collection[str] | None = None
) -> list[str]:
    """Declared cameos (with a reference file) named in these shots, in order of first mention.
    `with_file` is `cameos_with_file(story)` when the caller asks shot after shot."""
    found: dict[str, None] = {}
    for shot in shots:
        _mentions(shot, found)
    if with_file is None:
        with_file = cameos_with_file(story)
    return [name for name in found if name in with_file]


_UNSENT = ("note", AVOID)
"""Cues whose names send no reference: notes never reach the model; `avoid:` sends no image."""


def _mentions(shot: Shot, found: dict[str, None]) -> None:
    """Add the names `shot` mentions (cues, then dialogue) to `found`, in order."""
    for cue in shot.cues:
        # Most cues name nobody. Notes never reach the model; `avoid:` sends no image.
        if cue.references and cue.key not in _UNSENT:
            for ref in cue.references:
                found.setdefault(ref.name)
    for line in shot.dialogue:
        for ref in line.references:
            found.setdefault(ref.name)


ShotMentions = Sequence[dict[str, None]]
"""Per shot of a story, in order: the names it mentions (`shot_mentions`). Read, never
changed, by the stages given it."""


def shot_mentions(story: Story) -> list[dict[str, None]]:
    """The names each shot of `story` mentions (cues, then dialogue), in `story.shots`
    order: found once per compile for the provider rules and the grouping, which both ask."""
    found: list[dict[str, None]] = []
    unsent = _UNSENT
    for scene in story.scenes:
        for shot in scene.shots:
            # `_mentions` written out: one call less per shot, each attribute read once.
            names: dict[str, None] = {}
            for cue in shot.cues:
                references = cue.references
                if references and cue.key not in unsent:
                    for ref in references:
                        names[ref.name] = None  # a name already there keeps its place
            for line in shot.dialogue:
                for ref in line.references:
                    names[ref.name] = None
            found.append(names)
    return found


def cameos_with_file(story: Story) -> set[str]:
    """Names whose declaration is a cameo with a reference file (the first one of a name
    wins, as `Story.cameo` finds it)."""
    first: dict[str, bool] = {}
    for cameo in story.cameos:
        first.setdefault(cameo.name, bool(cameo.path))
    return {name for name, has_file in first.items() if has_file}


def reference_count(story: Story, names: Collection[str], offering: Offering) -> int:
    """What a clip naming these cameos counts against `Offering.max_cameos`: one a cameo, or
    where each image is a reference of its own (`image_urls`), its file and each view."""
    if offering.cameo_mode != "image_urls":
        return len(names)
    cameos = [story.cameo(name) for name in names]
    return sum(1 + len(view_paths(cameo)) for cameo in cameos if cameo is not None)


def _is_cut(transition: Transition | None) -> bool:
    return transition is None or transition.kind == "cut"


def group_clips(
    story: Story,
    offering: Offering,
    first_frames: Mapping[int, str] | None = None,
    mentions: ShotMentions | None = None,
) -> list[ClipDraft]:
    """Group shots into clips.

    `first_frames` (shot index -> image path, from `storyc.plan.first_frames`) gives shots
    without a `from "image"` of their own a first frame (their keyframe, fitted): such a
    shot starts its own clip, as a shot with `from` does.

    `per-shot`: one clip a shot. `packed`: consecutive shots of one scene share a clip while
    it stays within the longest length the model renders, the joins are plain cuts, the
    seed is the same, no later shot needs its own first frame, and the clip names no more
    cameos than the provider takes at once. Where the model takes a clip's shots one by one
    (`Offering.multi_shot`), they must also fit its shot count and lengths (`shot_seconds`).
    `mentions` is `shot_mentions(story)` when the caller has it already.
    """
    packed = story.header.clips == "packed"
    longest = offering.longest_ms
    longest_with_cameos = max(offering.lengths_for(with_references=True)) * 1000
    max_cameos = offering.max_cameos if offering.cameo_mode != "none" else None
    with_file = cameos_with_file(story)
    header_seed = story.header.seed
    frames = first_frames or {}
    drafts: list[ClipDraft] = []
    # The names each draft's shots mention, in order (as `cameos_in` would find them again).
    named: list[dict[str, None]] = []
    each_mention = iter(mentions if mentions is not None else shot_mentions(story))
    for scene in story.scenes:
        scene_start = len(drafts)
        current: ClipDraft | None = None
        current_ms = 0
        current_cameos: set[str] = set()  # the cameos with a file it names, as `cameos_in` counts
        for position, shot in enumerate(scene.shots):
            seed = shot.seed if shot.seed is not None else header_seed
            first_frame = shot.from_image or frames.get(shot.index)
            mentioned = next(each_mention)  # read only: copied where a draft starts
            shot_cameos = with_file.intersection(mentioned) if mentioned else set()
            joins_previous = (
                packed
                and current is not None
                and _is_cut(current.transition)
                and (
                    current_ms + shot.duration_ms
                    <= (longest if not (current_cameos | shot_cameos) else longest_with_cameos)
                    if not offering.multi_shot
                    else shot_seconds(
                        [*(s.duration_ms for s in current.shots), shot.duration_ms],
                        offering,
                        partial=True,
                    )
                    is not None
                )
                # A different seed needs its own request, but only where seeds are sent.
                and (current.seed == seed or not offering.takes_seed)
                and first_frame is None
                and (
                    max_cameos is None
                    or reference_count(story, current_cameos | shot_cameos, offering) <= max_cameos
                )
            )
            if current is not None and joins_previous:
                current.shots.append(shot)
                current_ms += shot.duration_ms
                current_cameos |= shot_cameos
                named[-1].update(mentioned)  # keeps each name where it was first mentioned
            else:
                current = ClipDraft(
                    index=len(drafts) + 1,
                    scene_index=scene.index,
                    scene_title=scene.title or f"Scene {scene.index}",
                    shots=[shot],
                    seed=seed,
                    input_reference=first_frame,
                )
                drafts.append(current)
                named.append(dict(mentioned))  # gathers its later shots' names (above)
                current_ms = shot.duration_ms
                current_cameos = shot_cameos
            current.transition = scene.transitions[position]
        if packed and offering.min_shots > 1:
            repacked = _split_for_min_shots(drafts[scene_start:], scene, story, offering)
            if repacked is not None:
                drafts[scene_start:] = repacked
                named[scene_start:] = [_names_in(d.shots) for d in repacked]
                for number, draft in enumerate(repacked, start=scene_start + 1):
                    draft.index = number
    for draft, names in zip(drafts, named, strict=True):
        draft.cameo_names = [name for name in names if name in with_file]  # as `cameos_in`
    return drafts


def _names_in(shots: Sequence[Shot]) -> dict[str, None]:
    found: dict[str, None] = {}
    for shot in shots:
        _mentions(shot, found)
    return found


def _split_for_min_shots(
    drafts: Sequence[ClipDraft], scene: Scene, story: Story, offering: Offering
) -> list[ClipDraft] | None:
    """A scene's packed drafts cut again where the greedy packing left a clip a shots-only
    target (`Offering.min_shots` > 1) cannot take, where another cut of the same shots fits
    every limit: six 2 s shots pack greedily as 5 + 1, and the recipe takes no clip of one
    shot; 3 + 3 fits. Each run of drafts the greedy packing split only for room (not at a
    `from` image, a seed or a transition) is searched for a cut into clips `shot_seconds`
    accepts, the largest first clip first (as the greedy packs). None when nothing
    changes: every clip fits already, or no cut fits (P220 then says what would).
    Rows without `min_shots` never come here: their packing is the greedy one."""
    if all(shot_seconds([s.duration_ms for s in d.shots], offering) is not None for d in drafts):
        return None  # the common case, and every scene of a story without the rule
    runs: list[list[ClipDraft]] = []
    for draft in drafts:
        if runs and not _closes_clip(runs[-1][-1], draft, offering):
            runs[-1].append(draft)
        else:
            runs.append([draft])
    position = {shot.index: number for number, shot in enumerate(scene.shots)}
    found: list[ClipDraft] = []
    changed = False
    for run in runs:
        if all(shot_seconds([s.duration_ms for s in d.shots], offering) for d in run):
            found += run  # the greedy cut fits here: kept as it is
            continue
        shots = [shot for draft in run for shot in draft.shots]
        cut = _fitting_cut(shots, story, offering)
        if cut is None or [len(group) for group in cut] == [len(d.shots) for d in run]:
            found += run
            continue
        changed = True
        for number, group in enumerate(cut):
            found.append(
                ClipDraft(
                    index=0,  # numbered by the caller
                    scene_index=run[0].scene_index,
                    scene_title=run[0].scene_title,
                    shots=group,
                    seed=run[0].seed,
                    input_reference=run[0].input_reference if number == 0 else None,
                    transition=scene.transitions[position[group[-1].index]],
                )
            )
    return found if changed else None


def _closes_clip(before: ClipDraft, after: ClipDraft, offering: Offering) -> bool:
    """Whether `after` starts a clip of its own whatever room `before` has: its own first
    frame, a join other than a cut, or another seed where seeds are sent (`group_clips`)."""
    return (
        after.input_reference is not None
        or not _is_cut(before.transition)
        or (offering.takes_seed and before.seed != after.seed)
    )


def _fitting_cut(
    shots: Sequence[Shot], story: Story, offering: Offering
) -> list[list[Shot]] | None:
    """Consecutive groups of `shots` that are each a clip the target takes as shots (count,
    lengths, cameos), the earlier groups as large as they can be; None when there is none.
    A search over cut points: the groups hold at most `Offering.max_shots` shots."""
    with_file = cameos_with_file(story)
    max_cameos = offering.max_cameos if offering.cameo_mode != "none" else None
    durations = [shot.duration_ms for shot in shots]

    def fits(start: int, end: int) -> bool:
        if shot_seconds(durations[start:end], offering) is None:
            return False
        if max_cameos is None:
            return True
        names = [n for n in _names_in(shots[start:end]) if n in with_file]
        return reference_count(story, names, offering) <= max_cameos

    count = len(shots)
    # done[i]: the shots from i on can be cut into fitting groups (done[count]: none left).
    done = [False] * count + [True]
    for start in range(count - 1, -1, -1):
        done[start] = any(
            done[end] and fits(start, end)
            for end in range(start + 1, min(count, start + offering.max_shots) + 1)
        )
    if not done[0]:
        return None
    groups: list[list[Shot]] = []
    start = 0
    while start < count:
        end = next(
            end
            for end in range(min(count, start + offering.max_shots), start, -1)
            if done[end] and fits(start, end)
        )
        groups.append(list(shots[start:end]))
        start = end
    return groups


def clip_avoid(story: Story, shots: Sequence[Shot]) -> str | None:
    """What the clip of these shots must not show: the header's `avoid:` and every shot's
    (layers combine, see `storyc.language.builder`), joined with `, `; None when nothing."""
    texts = [story.header.avoid] if story.header.avoid else []
    texts += [cue.text for shot in shots for cue in shot.cues if cue.key == AVOID]
    if not texts:  # most clips
        return None
    # `@mara` in an avoid cue is the name (no reference image is sent for it).
    texts = [NAME_REFERENCE.sub(r"\1", text) for text in texts]
    return ", ".join(avoid_items(texts)) or None


def draft_avoid(draft: ClipDraft, story: Story) -> str | None:
    """`clip_avoid(story, draft.shots)`, worked out once per draft while its shots stay
    the same (compared by identity, element by element): the prompt and the plan ask."""
    shots = tuple(draft.shots)
    memo = draft.avoid_memo
    if memo is not None and memo[0] is story and memo[1] == shots:
        return memo[2]
    avoid = clip_avoid(story, shots)
    draft.avoid_memo = (story, shots, avoid)
    return avoid


def shot_notes(shot: Shot) -> tuple[str, ...]:
    """The shot's own `note:` lines (for people: never sent)."""
    # A loop that makes nothing for a shot without notes (most): asked of every shot.
    found: list[str] | None = None
    for cue in shot.own_cues:
        if cue.key == "note" and cue.text.strip():
            if found is None:
                found = [cue.text]
            else:
                found.append(cue.text)
    return tuple(found) if found else ()


def scene_notes(scene: Scene) -> tuple[str, ...]:
    """The `note:` lines written in a scene outside its shots, wherever they stand."""
    return tuple(c.text for c in scene.cues if c.key == "note" and c.text.strip())


def clip_has_sound(draft: ClipDraft, offering: Offering) -> bool:
    if offering.audio == "none":
        return False
    if offering.audio == "always":
        return True
    return any(cue.key in AUDIO_CUE_KEYS for shot in draft.shots for cue in shot.cues) or any(
        shot.dialogue for shot in draft.shots
    )


def reference_path(story: Story, relative: str) -> Path:
    """A referenced file as the story names it, made absolute (symlinks not followed)."""
    base = Path(story.path).parent if story.path not in ("<story>", "") else Path.cwd()
    return (base / relative).absolute()


def resolve_path(story: Story, relative: str) -> Path:
    """A referenced file with every symlink followed: what would really be read."""
    written = reference_path(story, relative)
    try:
        return written.resolve()
    except (RuntimeError, OSError):  # a symlink loop: the sandbox reports it
        return written


_ID_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))
"""`json.dumps` with these options, made once (a clip id is made for every clip)."""


def content_id(fields: Mapping[str, object]) -> str:
    """A short stable hash of everything that changes the rendered pixels."""
    blob = _ID_JSON.encode(fields)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def _planned_cues(shot: Shot) -> tuple[str | None, str | None, str | None, str | None]:
    """The shot's camera, light, action (each as `shot.cue(key)`) and sound (every sound
    cue in order, None when it has none) as the plan shows them, from one pass over its
    effective cues. Each is its texts joined with `; `, built as it goes: most shots have
    one of each, and a dict of lists per shot was most of this function's time."""
    camera = light = action = sound = None
    for cue in shot.cues:
        key = cue.key
        if key == "camera":
            camera = cue.text if camera is None else f"{camera}; {cue.text}"
        elif key == "light":
            light = cue.text if light is None else f"{light}; {cue.text}"
        elif key == "action":
            action = cue.text if action is None else f"{action}; {cue.text}"
        elif key in AUDIO_CUE_KEYS:
            sound = cue.text if sound is None else f"{sound}; {cue.text}"
    return camera, light, action, sound or None


# The plan objects `finish_plan` makes by the thousand, made without validation: every
# value comes from the checked story, in its field's exact type (`storyc.unchecked`).
_planned_shot = maker(
    PlannedShot,
    *("index", "label", "file", "line", "start", "end", "film_start", "film_end"),
    *("camera", "light", "action", "sound", "dialogue", "notes", "prompt", "render_ms"),
    "keyframe",
)
_planned_dialogue = maker(PlannedDialogue, "speaker", "delivery", "text", "line")
_planned_transition = maker(PlannedTransition, "kind", "duration", "line")
_no_transition = maker(PlannedTransition)
_clip = maker(
    Clip,
    *("id", "index", "scene", "scene_index", "provider", "model", "api_model", "size"),
    *("render_ms", "duration", "slack", "film_start", "seed", "prompt", "avoid"),
    *("input_reference", "input_reference_sha256", "cameos", "audio", "cost_usd", "shots"),
    *("transition", "request"),
    skips=("_drop_spelled_seconds",),  # it only drops a key of old plan.json files
)


def _voice_sample(
    cameo: Cameo,
    offering: Offering,
    resolve: Callable[[str], Path],
    file_hashes: Mapping[Path, str | None],
) -> ReferenceAudio | None:
    """The cameo's `voice-sample:` as sent, or None where the model takes no audio reference
    (P216 says it is not sent) or the cameo gives none."""
    written = voice_sample_path(cameo)
    if written is None or not offering.audio_field or offering.max_audio_references < 1:
        return None
    if offering.cameo_mode == "none":  # its cameo is described in words only (P214)
        return None
    path = resolve(written)
    return ReferenceAudio(path=str(path), sha256=file_hashes.get(path))


def finish_plan(
    story: Story,
    offering: Offering,
    drafts: Sequence[ClipDraft],
    prompts: Sequence[str],
    file_hashes: Mapping[Path, str | None],
) -> ClipPlan:
    """Add prompts, ids, film times, costs and request bodies to the grouped clips."""
    from storyc.providers.requests import request_for  # the providers' own request builders

    size = story_size(story, offering)
    resolved: dict[str, Path] = {}

    def resolve(relative: str) -> Path:
        # Thousands of clips name the same few files; resolving is a syscall per part.
        if relative not in resolved:
            resolved[relative] = resolve_path(story, relative)
        return resolved[relative]

    cameo_refs_by_name: dict[str, CameoReference] = {}
    clips: list[Clip] = []
    film_cursor = 0
    total_render_s = 0
    total_cost = 0.0
    for draft, prompt in zip(drafts, prompts, strict=True):
        durations = [s.duration_ms for s in draft.shots]
        duration = sum(durations)  # draft.duration_ms
        per_shot = shot_seconds(durations, offering)
        seconds_n = _render_seconds(duration, per_shot, bool(draft.cameo_names), offering)
        shot_prompts: list[str | None] = [None] * len(draft.shots)
        if per_shot is not None and len(draft.shot_prompts) == len(draft.shots):
            # Written by `render_prompt`. (The editor's timecode plan reuses the clip prompts
            # only: its clips show the clip's prompt, and their times are the same.)
            shot_prompts = list(draft.shot_prompts)
        render_ms = seconds_n * 1000
        audio = clip_has_sound(draft, offering)
        seed = draft.seed if offering.takes_seed else None
        image_path = resolve(draft.input_reference) if draft.input_reference else None
        cameo_refs = []
        for name in draft.cameo_names:
            if name not in cameo_refs_by_name:  # the same in every clip naming the cameo
                cameo = story.cameo(name)
                assert cameo is not None and cameo.path is not None
                path = resolve(cameo.path)
                views = tuple(
                    ReferenceImage(path=str(view), sha256=file_hashes.get(view))
                    for view in map(resolve, view_paths(cameo))
                )
                cameo_refs_by_name[name] = CameoReference(
                    name=name,
                    path=str(path),
                    sha256=file_hashes.get(path),
                    views=views,
                    voice_sample=_voice_sample(cameo, offering, resolve, file_hashes),
                )
            cameo_refs.append(cameo_refs_by_name[name])
        transition = draft.transition
        planned_transition = (
            _planned_transition(transition.kind, transition.duration_ms, transition.span.line)
            if transition is not None
            else _no_transition()
        )
        shots = []
        offset = 0
        for number, shot in enumerate(draft.shots):
            camera, light, action, sound = _planned_cues(shot)
            shots.append(
                _planned_shot(
                    shot.index,
                    shot.label,
                    story.path,
                    shot.header_span.line,
                    offset,
                    offset + shot.duration_ms,
                    film_cursor + offset,
                    film_cursor + offset + shot.duration_ms,
                    *(camera, light, action, sound),
                    tuple(
                        [
                            _planned_dialogue(d.speaker, d.delivery, d.text, d.span.line)
                            for d in shot.dialogue
                        ]
                    )
                    if shot.dialogue
                    else (),
                    shot_notes(shot),
                    shot_prompts[number],
                    per_shot[number] * 1000 if per_shot is not None else None,
                    str(resolve(shot.keyframe)) if shot.keyframe else None,
                )
            )
            offset += shot.duration_ms
        id_fields: dict[str, object] = {
            "provider": offering.provider,
            "model": offering.model,
            "size": size,
            "seconds": seconds_n,
            "seed": seed,
            "audio": audio,
            "prompt": prompt,
            "input_reference": file_hashes.get(image_path) if image_path else None,
            "cameos": [c.sha256 for c in cameo_refs],
        }
        keyframes = [file_hashes.get(Path(s.keyframe)) for s in shots if s.keyframe]
        if keyframes and offering.provider == PREVIEW:
            # Only the preview draws a keyframe (a paid model is never sent one), so only
            # a preview clip is drawn again when one changes; other ids stay as they were.
            id_fields["keyframes"] = keyframes
        if any(c.views for c in cameo_refs):  # only then: other clips keep their ids
            id_fields["cameo_views"] = [[v.sha256 for v in c.views] for c in cameo_refs]
        if any(c.voice_sample for c in cameo_refs):  # likewise
            id_fields["cameo_voices"] = [
                c.voice_sample.sha256 if c.voice_sample else None for c in cameo_refs
            ]
        if per_shot is not None:  # only then: the ids of other clips stay as they were
            id_fields["shots"] = [[p, n] for p, n in zip(shot_prompts, per_shot, strict=True)]
        avoid = draft_avoid(draft, story)
        if avoid is not None and offering.negative_prompt:  # else it is in the prompt
            id_fields["avoid"] = avoid
        clip_id = content_id(id_fields)
        cost = round(seconds_n * offering.usd_per_second_for(size, with_audio=audio), 4)
        values = (
            *(clip_id, draft.index, draft.scene_title, draft.scene_index, offering.provider),
            *(offering.model, offering.api_model, size, render_ms, duration),
            *(render_ms - duration, film_cursor, seed, prompt, avoid),
            str(image_path) if image_path else None,
            file_hashes.get(image_path) if image_path else None,
            *(tuple(cameo_refs), audio, float(cost), tuple(shots), planned_transition),
        )
        # The request is the provider's own: what its renderer will send for this clip.
        request = request_for(_clip(*values, {}), offering).for_plan()
        clips.append(_clip(*values, request))
        overlap = (
            transition.duration_ms
            if transition is not None and transition.kind == "crossfade"
            else 0
        )
        film_cursor += duration - overlap
        total_render_s += seconds_n
        total_cost += cost
    if clips:
        last = clips[-1]
        film_end = last.film_start + last.duration
    else:
        film_end = 0
    header = story.header
    opening = story.opening
    return ClipPlan(
        story=PlanHeader(
            title=header.title or Path(story.path).stem,
            source=story.path,
            model=offering.model,
            provider=offering.provider,
            size=size,
            fps=header.fps,
            style=header.style,
            seed=header.seed,
            clips=header.clips,
        ),
        clips=tuple(clips),
        opening=(
            PlannedTransition(kind="fade", duration=opening.duration_ms, line=opening.span.line)
            if opening is not None and opening.kind == "fade" and opening.duration_ms > 0
            else PlannedTransition()
        ),
        duration=film_end,
        render_seconds=total_render_s,
        cost_usd=round(total_cost, 4),
    )

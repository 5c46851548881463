"""Rules that need only the story: names, keys, header values, content.

Each function takes the story (and the file name for diagnostics) and yields diagnostics.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator

from storyc.check import catalog as R
from storyc.check.cameo_views import check_cameo_views
from storyc.check.diagnostics import Diagnostic, Edit, Fix
from storyc.check.habits import (
    cues_after_last_shot,
    header_key_case,
    screenplay_dialogue,
    screenplay_speakers,
    shot_option_in_body,
    spaced_size,
    speaks_screenplay_way,
)
from storyc.language.cameo_views import VIEW_KEYS, VOICE_SAMPLE_KEY
from storyc.language.model import (
    AVOID,
    CUE_KEYS,
    Cameo,
    Cue,
    Property,
    Shot,
    Span,
    Story,
    avoid_items,
)
from storyc.plan.capabilities import parse_size

HEADER_KEYS = (
    "title",
    "model",
    "size",
    "aspect",
    "fps",
    "style",
    "seed",
    "provider",
    "clips",
    "takes",
    "avoid",
    "first-frame",
)
PERSON_KEYS = ("look", "voice")
LOCATION_KEYS = ("look", *CUE_KEYS)
SCENE_KEYS = ("look", *CUE_KEYS)
"""A scene's `look:` is its own look of its location, over the location's."""
# The same as sets, for the membership test every cue of every shot takes.
_CUE_KEY_SET = frozenset(CUE_KEYS)
_LOCATION_KEY_SET = frozenset(LOCATION_KEYS)
_SCENE_KEY_SET = frozenset(SCENE_KEYS)
WORDS_PER_SECOND = 2.5
MAX_SEED = 2_147_483_647


def _closest(word: str, choices: tuple[str, ...] | list[str]) -> str | None:
    found = difflib.get_close_matches(word.lower(), list(choices), n=1, cutoff=0.6)
    return found[0] if found else None


def _unknown_key(prop: Property, allowed: tuple[str, ...], where: str, file: str) -> Diagnostic:
    guess = _closest(prop.key, allowed)
    message = f"`{prop.key}` is not a {where} key" + (f"; did you mean `{guess}`?" if guess else "")
    fix = (
        Fix(title=f"replace with `{guess}`", edits=(Edit(span=prop.key_span, text=guess),))
        if guess
        else None
    )
    help_text = f"{where} keys are: {', '.join(allowed)}"
    if where == "header" and prop.key in CUE_KEYS:
        help_text = f"`{prop.key}` is a shot cue; put it inside a `shot` (or a preset or location)"
    return R.S107.diagnostic(
        message,
        prop.key_span,
        file,
        help=help_text,
        fix=fix,
        data={"name": prop.key, "candidates": [guess] if guess else []},
    )


def check_keys(story: Story, file: str) -> Iterator[Diagnostic]:
    for prop in story.header.properties:
        if prop.key not in HEADER_KEYS:
            yield header_key_case(prop.key, prop.key_span, HEADER_KEYS, file) or _unknown_key(
                prop, HEADER_KEYS, "header", file
            )
    for person in (*story.cameos, *story.characters):
        # A cameo also takes its further images and a voice sample (S116).
        cameo_keys = (*PERSON_KEYS, *VIEW_KEYS, VOICE_SAMPLE_KEY)
        allowed = cameo_keys if isinstance(person, Cameo) else PERSON_KEYS
        for prop in person.properties:
            if prop.key not in allowed:
                yield _unknown_key(prop, allowed, "cameo or character", file)
    yield from check_cameo_views(story, file)
    for location in story.locations:
        for prop in location.properties:
            if prop.key not in _LOCATION_KEY_SET:
                yield _unknown_key(prop, LOCATION_KEYS, "location", file)
    for preset in story.presets:
        for cue in preset.cues:
            if cue.key not in CUE_KEYS:
                yield _unknown_key(_as_property(cue), CUE_KEYS, "cue", file)
    for scene in story.scenes:
        for cue in scene.cues:
            if cue.key not in _SCENE_KEY_SET:
                yield screenplay_dialogue(cue, story, file, in_shot=False) or _unknown_key(
                    _as_property(cue), SCENE_KEYS, "cue", file
                )
        for shot in scene.shots:
            for cue in shot.own_cues:
                if cue.key not in _CUE_KEY_SET:
                    yield (
                        screenplay_dialogue(cue, story, file, in_shot=True)
                        or shot_option_in_body(cue, shot, file)
                        or _unknown_key(_as_property(cue), CUE_KEYS, "cue", file)
                    )


def _as_property(cue: object) -> Property:
    return Property(
        key=cue.key,
        text=cue.text,
        span=cue.span,
        key_span=cue.key_span,  # type: ignore[attr-defined]
        text_span=cue.text_span,
    )  # type: ignore[attr-defined]


def check_header(story: Story, file: str) -> Iterator[Diagnostic]:
    header = story.header
    # `Title:` is S107 with its fix; a second error for the missing title would be noise.
    titled = any(p.key.lower() == "title" for p in header.properties)
    if (header.title is None or not header.title.strip()) and not titled:
        span = header.properties[0].span if header.properties else Span.point(1, 1)
        yield R.S109.diagnostic(
            "the story has no `title:`",
            span,
            file,
            help="add `title: <name of the film>` as the first line",
            fix=Fix(
                title="add a title",
                edits=(Edit(span=Span.point(1, 1, 0), text="title: Untitled\n"),),
            ),
        )
    for prop in header.properties:
        value = prop.text.strip()
        if prop.key == "size" and parse_size(value) is None:
            joined = spaced_size(value)
            yield R.S113.diagnostic(
                f"`{value}` is written `{joined}`"
                if joined
                else f"`{value}` is not a size; write it `WIDTHxHEIGHT`, like `1280x720`",
                prop.text_span,
                file,
                help="a size is one word, `WIDTHxHEIGHT`" if joined else None,
                fix=Fix(title=f"write `{joined}`", edits=(Edit(span=prop.text_span, text=joined),))
                if joined
                else None,
            )
        if prop.key == "aspect" and not re.fullmatch(r"\d+:\d+", value):
            yield R.S113.diagnostic(
                f"`{value}` is not an aspect ratio; write it like `16:9`", prop.text_span, file
            )
        if prop.key == "seed" and value.isdigit() and not 1 <= int(value) <= MAX_SEED:
            yield R.S113.diagnostic(
                f"a seed is between 1 and {MAX_SEED}, not {value}", prop.text_span, file
            )
        if prop.key == "takes" and value.isdigit() and not 1 <= int(value) <= 8:
            yield R.S113.diagnostic("`takes` is between 1 and 8", prop.text_span, file)
    if not story.scenes:
        span = header.properties[-1].span if header.properties else Span.point(1, 1)
        yield R.S114.diagnostic(
            "the story has no scene, so there is nothing to render",
            span,
            file,
            help='add `scene "Title":` with at least one `shot 4s:` inside',
        )


def check_names(story: Story, file: str) -> Iterator[Diagnostic]:
    declared = story.declared_names()
    seen: dict[tuple[str, str], Span] = {}
    people: dict[str, Span] = {}
    for kind, items in (
        ("cameo", story.cameos),
        ("character", story.characters),
        ("location", story.locations),
        ("preset", story.presets),
    ):
        for item in items:
            key = ("person" if kind in ("cameo", "character") else kind, item.name)
            first = seen.get(key)
            if first is not None:
                yield R.S106.diagnostic(
                    f"`{item.name}` is declared twice",
                    item.name_span,
                    file,
                    help=f"the first declaration is on line {first.line}; rename or remove one",
                )
            else:
                seen[key] = item.name_span
            if kind in ("cameo", "character"):
                people.setdefault(item.name, item.name_span)

    used: set[str] = set()
    speakers = screenplay_speakers(story)
    speaker_of: dict[str, str | None] = {}
    for scene in story.scenes:
        for shot in scene.shots:
            # Most cues name nobody: their empty `references` are skipped before anything else.
            for cue in shot.cues:
                if cue.references and cue.key != "note":
                    for ref in cue.references:
                        used.add(ref.name)
            for cue in shot.own_cues:
                # `INES: "line"` is reported once (S107); it names her all the same.
                # (`screenplay_speaker`, each key lowered once for all shots.)
                key = cue.key
                if key in speaker_of:
                    speaker = speaker_of[key]
                else:
                    speaker = speaker_of[key] = speakers.get(key.lower())
                if speaker is not None:
                    used.add(speaker)
                # References that come from a preset or location are reported where they
                # are written; the shot's own ones here (cues, then dialogue). Most cues
                # have none: tested before a loop is set up.
                if cue.references:
                    for ref in cue.references:
                        if ref.name not in declared:
                            yield _undeclared(ref.name, ref.span, list(declared), file)
            for line in shot.dialogue:
                for ref in line.references:
                    used.add(ref.name)
                for ref in line.references:
                    if ref.name not in declared:
                        yield _undeclared(ref.name, ref.span, list(declared), file)
    for holder in (*story.presets, *story.locations):
        cues = holder.cues
        for cue in cues:
            for ref in cue.references:
                if ref.name not in declared:
                    yield _undeclared(ref.name, ref.span, list(declared), file)
    for location in story.locations:
        for prop in location.properties:
            if prop.key == "look":
                for ref in prop.references:
                    used.add(ref.name)
                    if ref.name not in declared:
                        yield _undeclared(ref.name, ref.span, list(declared), file)

    for cameo in story.cameos:
        if cameo.name not in used:
            yield R.S102.diagnostic(
                f"cameo `{cameo.name}` is never named in a shot",
                cameo.name_span,
                file,
                help=f"name it in a shot as `@{cameo.name}`, or remove the declaration",
            )
    for character in story.characters:
        if character.name not in used:
            yield R.S103.diagnostic(
                f"character `{character.name}` is never named in a shot",
                character.name_span,
                file,
                help=f"name it in a shot as `@{character.name}`, or remove the declaration",
            )
    used_presets = {shot.preset for shot in story.shots if shot.preset}
    for preset in story.presets:
        if preset.name not in used_presets:
            yield R.S103.diagnostic(
                f"preset `{preset.name}` is never used",
                preset.name_span,
                file,
                help=f"use it as `shot 4s with {preset.name}:`, or remove it",
            )
    used_locations = {scene.location for scene in story.scenes if scene.location}
    for location in story.locations:
        if location.name not in used_locations:
            yield R.S103.diagnostic(
                f"location `{location.name}` is never used",
                location.name_span,
                file,
                help=f'use it as `scene "Title" at {location.name}:`, or remove it',
            )
    preset_names = [p.name for p in story.presets]
    location_names = [loc.name for loc in story.locations]
    for scene in story.scenes:
        if scene.location and scene.location not in location_names and scene.location_span:
            guess = _closest(scene.location, location_names)
            yield R.S111.diagnostic(
                f"no location is called `{scene.location}`"
                + (f"; did you mean `{guess}`?" if guess else ""),
                scene.location_span,
                file,
                help=f"declare it with `location {scene.location}:`",
                fix=Fix(
                    title=f"replace with `{guess}`",
                    edits=(Edit(span=scene.location_span, text=guess),),
                )
                if guess
                else None,
            )
        for shot in scene.shots:
            if shot.preset and shot.preset not in preset_names and shot.preset_span:
                guess = _closest(shot.preset, preset_names)
                yield R.S110.diagnostic(
                    f"no preset is called `{shot.preset}`"
                    + (f"; did you mean `{guess}`?" if guess else ""),
                    shot.preset_span,
                    file,
                    help=f"declare it with `preset {shot.preset}:`",
                    fix=Fix(
                        title=f"replace with `{guess}`",
                        edits=(Edit(span=shot.preset_span, text=guess),),
                    )
                    if guess
                    else None,
                )


def _undeclared(name: str, span: Span, declared: list[str], file: str) -> Diagnostic:
    guess = _closest(name, declared)
    help_text = f'declare it with `character {name}:` or `cameo {name}: "file.mp4"`'
    if guess:
        help_text += f"; did you mean `@{guess}`?"
    fix = (
        Fix(title=f"replace with `@{guess}`", edits=(Edit(span=span, text=f"@{guess}"),))
        if guess
        else None
    )
    return R.S101.diagnostic(
        f"`@{name}` is not declared",
        span,
        file,
        help=help_text,
        fix=fix,
        data={"name": name, "candidates": [guess] if guess else []},
    )


_CUT_INSIDE = re.compile(r"\b(cut to|cuts to|then cut|smash cut|jump cut)\b", re.IGNORECASE)


def check_opening(story: Story, file: str) -> Iterator[Diagnostic]:
    """C303/C304/C305 for a transition before the story's first shot: only a `fade` (from
    black) may stand there."""
    opening = story.opening
    if opening is None:
        return
    if not story.shots:
        yield R.C303.diagnostic("this transition has no shot to join", opening.span, file)
        return
    if opening.kind != "fade":
        yield R.C303.diagnostic(
            "this transition has no shot before it",
            opening.span,
            file,
            help="remove it, or open on black with `fade 1s`",
        )
        return
    if opening.duration_ms <= 0:
        yield R.C305.diagnostic("a transition needs a length above zero", opening.span, file)
        return
    first = story.shots[0]
    if opening.duration_ms > first.duration_ms:
        yield R.C304.diagnostic(
            f"a {opening.duration_ms / 1000:g} s fade in is longer than the first shot "
            f"({first.duration_ms / 1000:g} s)",
            opening.span,
            file,
        )


def check_content(story: Story, file: str) -> Iterator[Diagnostic]:
    yield from check_opening(story, file)
    shots = story.shots
    for scene in story.scenes:
        yield from cues_after_last_shot(scene, file)
        for position, shot in enumerate(scene.shots):
            if shot.seed is not None and shot.seed_span and not 1 <= shot.seed <= MAX_SEED:
                yield R.S113.diagnostic(
                    f"a seed is between 1 and {MAX_SEED}, not {shot.seed}", shot.seed_span, file
                )
            if shot.duration_ms <= 0:
                yield R.C305.diagnostic(
                    "a shot needs a length above zero", shot.duration_span, file
                )
            if (
                not _has_action(shot)
                and not shot.dialogue
                and not any(speaks_screenplay_way(c, story) for c in shot.own_cues)
            ):
                yield R.S112.diagnostic(
                    "this shot has no `action:` and no dialogue",
                    shot.header_span,
                    file,
                    help="say what happens: `action: ...`",
                )
            words = sum(len(line.text.split()) for line in shot.dialogue) if shot.dialogue else 0
            if words and shot.duration_ms > 0:
                needed_ms = int(words / WORDS_PER_SECOND * 1000)
                if needed_ms > shot.duration_ms:
                    span = shot.dialogue[0].span
                    yield R.C301.diagnostic(
                        f"{words} words of dialogue need about {needed_ms / 1000:.1f} s; the shot is "
                        f"{shot.duration_ms / 1000:g} s",
                        span,
                        file,
                        help="shorten the line or lengthen the shot (natural speech is about 2.5 words a second)",
                    )
            # The first two `camera:` cues (a loop: a list per shot measured slower).
            camera = second_camera = None
            for cue in shot.own_cues:
                if cue.key == "camera":
                    if camera is None:
                        camera = cue
                    else:
                        second_camera = cue
                        break
            if second_camera is not None:
                yield R.C302.diagnostic(
                    "this shot has more than one `camera:`; one shot is one camera setup",
                    second_camera.span,
                    file,
                    help="split it into two shots",
                )
            if camera is not None:
                cue = camera
                # Every phrase says "cut": most cues are cleared without the search.
                if "cut" in cue.text.lower() and _CUT_INSIDE.search(cue.text):
                    yield R.C302.diagnostic(
                        "this camera cue cuts to another setup inside one shot",
                        cue.text_span,
                        file,
                        help="split it into two shots joined by a cut",
                    )
            transition = scene.transitions[position]
            if transition is None:
                continue
            if transition.kind != "cut" and transition.duration_ms <= 0:
                yield R.C305.diagnostic(
                    "a transition needs a length above zero", transition.span, file
                )
            is_last = shot.index == len(shots)
            if is_last and transition.kind == "fade":
                # The film's end: a fade to black over the last shot.
                if transition.duration_ms > shot.duration_ms:
                    yield R.C304.diagnostic(
                        f"a {transition.duration_ms / 1000:g} s fade out is longer than the last "
                        f"shot ({shot.duration_ms / 1000:g} s)",
                        transition.span,
                        file,
                    )
                continue
            if is_last:
                yield R.C303.diagnostic(
                    "this transition has no shot after it",
                    transition.span,
                    file,
                    help="remove it, add a shot after it, or end on black with `fade 1s`",
                )
                continue
            following = shots[shot.index]  # shot.index is 1-based: this is the next shot
            shortest = min(shot.duration_ms, following.duration_ms)
            if transition.kind != "cut" and transition.duration_ms > shortest:
                yield R.C304.diagnostic(
                    f"a {transition.duration_ms / 1000:g} s {transition.kind} is longer than a shot it joins "
                    f"({shortest / 1000:g} s)",
                    transition.span,
                    file,
                )


def _has_action(shot: Shot) -> bool:
    """Whether the shot has an `action:` that says something (a loop: asked of every shot)."""
    for cue in shot.cues:  # noqa: SIM110 (a loop: `any` over a generator measured slower)
        if cue.key == "action" and cue.text.strip():
            return True
    return False


def _has_avoid(shot: Shot) -> bool:
    """Whether the shot writes an `avoid:` of its own (a loop, as `_has_action`)."""
    for cue in shot.own_cues:  # noqa: SIM110
        if cue.key == AVOID:
            return True
    return False


def check_avoid(story: Story, file: str) -> Iterator[Diagnostic]:
    """C306: an empty `avoid:`, or one that repeats what already applies where it stands."""
    reported: set[tuple[int, int]] = set()

    def check(lines: list[Property | Cue], outer: list[str]) -> Iterator[Diagnostic]:
        seen = {item.casefold() for item in outer}
        for line in lines:
            if line.key != AVOID:
                continue
            where = (line.span.line, line.span.column)
            repeated: list[str] = []
            for item in avoid_items_all(line.text):
                if item.casefold() in seen:
                    repeated.append(item)
                seen.add(item.casefold())
            if where in reported:
                continue
            if not line.text.strip():
                reported.add(where)
                yield R.C306.diagnostic(
                    "this `avoid:` says nothing to avoid",
                    line.key_span,
                    file,
                    help="name what must not appear (`avoid: text, watermarks`), or remove it",
                )
            elif repeated:
                reported.add(where)
                names = ", ".join(f"`{item}`" for item in dict.fromkeys(repeated))
                yield R.C306.diagnostic(
                    f"{names} {'is' if len(repeated) == 1 else 'are'} already avoided here",
                    line.text_span,
                    file,
                    help="`avoid:` layers combine (header, location, scene, preset, shot): "
                    "name each thing once",
                )

    header_lines = [p for p in story.header.properties if p.key == AVOID][:1]
    yield from check(list(header_lines), [])
    outer = avoid_items([story.header.avoid]) if story.header.avoid else []
    for location in story.locations:
        yield from check(list(location.cues), outer)
    for preset in story.presets:
        yield from check(list(preset.cues), outer)
    for scene in story.scenes:
        for shot in scene.shots:
            if not _has_avoid(shot):
                continue  # nothing of the shot's own to check (most shots)
            own = {(c.span.line, c.span.column) for c in shot.own_cues}
            inherited = [c for c in shot.cues if (c.span.line, c.span.column) not in own]
            # the layers before the shot's own cues, each checked against what precedes it
            applied = list(outer)
            for cue in inherited:
                if cue.key == AVOID:
                    applied += avoid_items_all(cue.text)
            yield from check(list(shot.own_cues), applied)
        location = next((loc for loc in story.locations if loc.name == scene.location), None)
        around = [c.text for c in location.cues if c.key == AVOID] if location else []
        yield from check(list(scene.cues), outer + avoid_items(around))


def avoid_items_all(text: str) -> list[str]:
    """Every item an `avoid:` text names, repeats included (`avoid_items` keeps each once)."""
    items = (item.strip().rstrip(".").strip() for item in re.split(r"[,;]", text))
    return [item for item in items if item]

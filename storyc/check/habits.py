"""Screenplay habits that parse but mean something else here, each one diagnostic with a
fix where the intent is clear: `INES: "It left."` (a declared person's dialogue written the
screenplay way), `takes: 2` or `seed: 7` in a shot's body (shot options), a header key in
capitals (`Title:`), a size with spaces (`1280 x 720`). And a scene cue after the scene's
last shot, which would apply to no shot (S115).

The habits that do not parse are `storyc.language.habits`.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterator

from storyc.check import catalog as R
from storyc.check.diagnostics import Diagnostic, Edit, Fix
from storyc.language.model import Cue, Scene, Shot, Span, Story

SHOT_OPTION_KEYS = ("takes", "seed")
"""Keys a writer puts in a shot's body that are options of the shot line."""

_QUOTED = re.compile(r'"[^"\n]*"')


def screenplay_speaker(key: str, story: Story) -> str | None:
    """The declared person a cue key names (`INES` for `ines`), or None."""
    return _speakers(story).get(key.lower())


def screenplay_speakers(story: Story) -> dict[str, str]:
    """What `screenplay_speaker` looks keys up in: each declared person by the lower case
    of their name (for a caller asking about every cue of every shot)."""
    return _speakers(story)


_last_speakers: tuple[weakref.ref[Story], dict[str, str]] | None = None


def _speakers(story: Story) -> dict[str, str]:
    """Each declared person's name by its lower case (characters first, the first one of a
    name wins). Asked for every cue of every shot, so kept for the last story asked about
    (weakly: the story is not kept alive for it)."""
    global _last_speakers
    last = _last_speakers  # one read: another thread may swap it
    if last is not None and last[0]() is story:
        return last[1]
    names: dict[str, str] = {}
    for person in (*story.characters, *story.cameos):
        names.setdefault(person.name.lower(), person.name)
    _last_speakers = (weakref.ref(story), names)
    return names


def speaks_screenplay_way(cue: Cue, story: Story) -> bool:
    """A cue that is a declared person's line written `NAME: "line"`."""
    return cue.key not in ("note",) and screenplay_speaker(cue.key, story) is not None


def screenplay_dialogue(cue: Cue, story: Story, file: str, in_shot: bool) -> Diagnostic | None:
    name = screenplay_speaker(cue.key, story)
    if name is None:
        return None
    line = cue.text.strip()
    quoted = line if _QUOTED.fullmatch(line) else '"' + line.replace('"', "'") + '"'
    written = f"@{name}: {quoted}"
    fix = None
    if in_shot:
        if quoted == line:
            fix = Fix(title=f"write `@{name}:`", edits=(Edit(span=cue.key_span, text=f"@{name}"),))
        else:
            fix = Fix(title=f"write `{written}`", edits=(Edit(span=cue.span, text=written),))
    return R.S107.diagnostic(
        f"`{cue.key}:` is dialogue written the screenplay way; storyc writes `@{name}:`",
        cue.key_span,
        file,
        help=f'a line of dialogue is `@{name} (delivery): "the line"`'
        + ("" if in_shot else ", inside a shot"),
        fix=fix,
        data={"name": cue.key, "candidates": [f"@{name}"]},
    )


def shot_option_in_body(cue: Cue, shot: Shot, file: str) -> Diagnostic | None:
    """`takes: 2` or `seed: 7` in a shot's body: options of the shot line."""
    if cue.key not in SHOT_OPTION_KEYS:
        return None
    value = cue.text.strip()
    already = shot.takes if cue.key == "takes" else shot.seed
    written = f"{cue.key} {value}" if value.isdigit() else f"{cue.key} N"
    fix = None
    if value.isdigit() and already is None:
        line = cue.span.line
        fix = Fix(
            title=f"move it to the shot line: `{written}`",
            edits=(
                Edit(
                    span=Span.point(shot.duration_span.end_line, shot.duration_span.end_column, 0),
                    text=f" {written}",
                ),
                Edit(span=Span(line=line, column=1, end_line=line + 1, end_column=1), text=""),
            ),
        )
    return R.S107.diagnostic(
        f"`{cue.key}` is an option of the shot line, not a cue",
        cue.key_span,
        file,
        help=f"write it after the duration: `shot {shot.duration_text} {written}:`"
        + (f" (the shot line already sets `{cue.key}`)" if already is not None else ""),
        fix=fix,
        data={"name": cue.key, "candidates": []},
    )


def header_key_case(
    key: str, key_span: Span, allowed: tuple[str, ...], file: str
) -> Diagnostic | None:
    """`Title:` for `title:`: a known header key in other case."""
    lowered = key.lower()
    if key == lowered or lowered not in allowed:
        return None
    return R.S107.diagnostic(
        f"`{key}` is written lower-case: `{lowered}`",
        key_span,
        file,
        help="keys are lower-case",
        fix=Fix(title=f"write `{lowered}`", edits=(Edit(span=key_span, text=lowered),)),
        data={"name": key, "candidates": [lowered]},
    )


SPACED_SIZE = re.compile(r"(\d+)\s*[xX×*]\s*(\d+)")


def spaced_size(value: str) -> str | None:
    """`1280 x 720`, `1280X720`, `1280×720` as `1280x720`; None for other text."""
    match = SPACED_SIZE.fullmatch(value.strip())
    return f"{match.group(1)}x{match.group(2)}" if match else None


def cues_after_last_shot(scene: Scene, file: str) -> Iterator[Diagnostic]:
    """S115: scene cues with no shot after them in the scene (they would apply to none).

    A `note:` is for people, not for a shot: there it is a note on the scene."""
    last = scene.shots[-1].span.end_line if scene.shots else 0
    first = scene.header_span.line + 1
    for cue in scene.cues:
        if cue.key == "note" or cue.span.line <= last:
            continue
        line = cue.span.line
        indent = " " * (cue.span.column - 1)
        moved = f"{indent}{cue.key}: {cue.text}".rstrip() + "\n"
        yield R.S115.diagnostic(
            f"`{cue.key}:` comes after the scene's last shot, so it applies to no shot",
            cue.key_span,
            file,
            help="scene cues apply to the shots after them: write it at the top of the scene "
            "to cover all its shots, or inside the shot it is for",
            fix=Fix(
                title="move it to the top of the scene",
                edits=(
                    Edit(span=Span.point(first, 1, 0), text=moved),
                    Edit(span=Span(line=line, column=1, end_line=line + 1, end_column=1), text=""),
                ),
                safe=False,
            )
            if scene.shots
            else None,
        )

"""Screenplay habits: lines a screenwriter writes out of habit that do not parse, each
turned into one diagnostic that says how storyc writes it, with a fix where the intent is
clear.

`screenplay_habit` is asked first about every syntax error (`parse.describe_syntax_error`):
it looks at the whole line the parser stopped on, not at Lark's state, so the same habit gets
the same message wherever it stands. The habits that parse (`INES: "line"`, `takes: 2` in a
shot, `Title:`, `size: 1280 x 720`) are recognised by the checker instead
(`storyc.check.structure`).
"""

from __future__ import annotations

import difflib
import re

from storyc.check import catalog as R
from storyc.check.diagnostics import Diagnostic, Edit, Fix
from storyc.language.model import Span
from storyc.units import format_duration

_UNIT_MS = {
    "ms": 1,
    "msec": 1,
    "msecs": 1,
    "millisecond": 1,
    "milliseconds": 1,
    "s": 1000,
    "sec": 1000,
    "secs": 1000,
    "second": 1000,
    "seconds": 1000,
    "m": 60_000,
    "min": 60_000,
    "mins": 60_000,
    "minute": 60_000,
    "minutes": 60_000,
}

SPELLED_DURATION = re.compile(
    r"(?P<number>\d+(?:\.\d+)?)(?P<gap>[ \t]*)(?P<unit>[A-Za-z]+)\.?(?![A-Za-z0-9])"
)
"""A number and a unit written out (`5 sec`, `4 s`, `4seconds`, `0.5 s`)."""

SCENE_HEADING = re.compile(
    r"(?i)^[ \t]*(?P<prefix>int\.?[ \t]*/[ \t]*ext|i/e|int|ext|est)[.\s][ \t]*"
    r"(?P<place>[^\n]*?)(?:[ \t]+[-–—][ \t]*(?P<time>[^\n]*?))?[ \t]*$"
)
"""A screenplay scene heading: `INT. DOCK - NIGHT`, `EXT. ROAD`, `INT./EXT. CAR - DAY`."""

SCREENPLAY_TRANSITION = re.compile(
    r"(?i)^[ \t]*(?P<words>(?:smash |match |jump |hard )?cut to(?: black)?|dissolve(?: to)?"
    r"|fade out|fade to black|fade to|cross[- ]?fade(?: to)?)[ \t]*[:.]?[ \t]*$"
)
"""A screenplay transition line: `CUT TO:`, `SMASH CUT TO:`, `FADE OUT.`, `DISSOLVE TO:`."""

_SHOT_OPTIONS = ("with", "from", "seed", "takes")


def _span(line: int, start: int, end: int) -> Span:
    return Span(line=line, column=start, end_line=line, end_column=end)


def _indent(text: str) -> str:
    return text[: len(text) - len(text.lstrip(" \t"))]


def screenplay_habit(
    text: str, line: int, column: int, source: str, file: str
) -> Diagnostic | None:
    """One diagnostic for a screenplay habit on `line` (the parser stopped at `column`), or
    None when the line shows none."""
    for check in (_escaped_quote, _heading, _transition, _label_of_words, _duration):
        found = check(text, line, column, source, file)
        if found is not None:
            return found
    return None


def _escaped_quote(text: str, line: int, column: int, source: str, file: str) -> Diagnostic | None:
    at = text.find('\\"')
    if at < 0:
        return None
    end = len(text.rstrip()) + 1
    return R.E001.diagnostic(
        'a `"` inside a quoted line cannot be escaped with `\\`',
        _span(line, at + 1, end),
        file,
        help="write the inner quote as `'` or as typographic quotes “ ”: `\"He said 'no'\"`",
        fix=Fix(
            title="write the inner quotes as `'`",
            edits=(Edit(span=_span(line, 1, len(text) + 1), text=text.replace('\\"', "'")),),
        ),
    )


def _declared_locations(source: str) -> list[str]:
    return re.findall(r"(?m)^location[ \t]+([A-Za-z_][A-Za-z0-9_\-]*)[ \t]*:", source)


def _as_name(words: str) -> str:
    name = re.sub(r"[^a-z0-9]+", "_", words.lower()).strip("_")
    return name if name and not name[0].isdigit() else f"place_{name}"


def _heading(text: str, line: int, column: int, source: str, file: str) -> Diagnostic | None:
    match = SCENE_HEADING.match(text)
    if match is None or not match.group("place").strip():
        return None
    place = match.group("place").strip().rstrip(".")
    time = (match.group("time") or "").strip().rstrip(".")
    title = (time or place).title().replace('"', "'")
    wanted = _as_name(place)
    declared = _declared_locations(source)
    lowered = {name.lower(): name for name in declared}
    found = lowered.get(wanted) or lowered.get(wanted.replace("_", "-"))
    if found is None:
        close = difflib.get_close_matches(wanted, list(lowered), n=1, cutoff=0.75)
        found = lowered[close[0]] if close else None
    start = len(_indent(text)) + 1
    span = _span(line, start, len(text.rstrip()) + 1)
    written = f'scene "{title}" at {found or wanted}:'
    help_text = (
        f"a scene heading is written `{written}`, with the shots indented under it"
        if found
        else f"declare the place once (`location {wanted}:` with its `look:`), then head "
        f"the scene `{written}`, with the shots indented under it"
    )
    return R.E007.diagnostic(
        f"`{match.group(0).strip()}` is a screenplay scene heading; storyc writes `{written}`",
        span,
        file,
        help=help_text,
        # Safe only where it means one thing: a top-level heading, a declared place.
        fix=Fix(title=f"write `{written}`", edits=(Edit(span=span, text=written),))
        if found and start == 1
        else None,
    )


def _transition(text: str, line: int, column: int, source: str, file: str) -> Diagnostic | None:
    match = SCREENPLAY_TRANSITION.match(text)
    if match is None:
        return None
    words = " ".join(match.group("words").lower().split())
    if words.endswith("cut to"):
        written, safe = "cut", True
    elif words.startswith(("dissolve", "cross")):
        written, safe = "cut crossfade 1s", False
    elif words == "cut to black":
        written, safe = "cut fade 1s", False
    else:
        written, safe = "cut fade 1s", False
    start = len(_indent(text)) + 1
    span = _span(line, start, len(text.rstrip()) + 1)
    return R.E001.diagnostic(
        f"`{text.strip()}` is a screenplay transition; storyc writes `{written}`",
        span,
        file,
        help="a transition stands on its own line between two shots, indented like them: "
        "`cut`, `cut crossfade 0.5s`, `cut fade 0.5s` or `cut dip 0.5s`"
        + ("" if safe else " (pick the length)"),
        fix=Fix(title=f"write `{written}`", edits=(Edit(span=span, text=written),), safe=safe),
    )


def _label_of_words(text: str, line: int, column: int, source: str, file: str) -> Diagnostic | None:
    """`shot close up 4s:`: a label of several words before the duration."""
    match = re.match(r"([ \t]*shot[ \t]+)(.*)$", text)
    if match is None:
        return None
    rest_start = len(match.group(1))
    words = [(m.start() + rest_start, m.group(0)) for m in re.finditer(r"[^\s:]+", match.group(2))]
    label: list[tuple[int, str]] = []
    for start, word in words:
        if word[0].isdigit() or word in _SHOT_OPTIONS:
            break
        label.append((start, word))
    else:
        return None  # no duration after the words: not this habit
    if len(label) < 2 or not all(re.fullmatch(r"[A-Za-z][A-Za-z0-9_\-.'/]*", w) for _, w in label):
        return None
    joined = "-".join(word.lower() if word.isupper() else word for _, word in label)
    span = _span(line, label[0][0] + 1, label[-1][0] + len(label[-1][1]) + 1)
    return R.E001.diagnostic(
        f"a shot label is one word: write `{joined}`",
        span,
        file,
        help="join the words with `-`, like `close-up` or `over-the-shoulder`",
        fix=Fix(title=f"write `{joined}`", edits=(Edit(span=span, text=joined),)),
    )


def _duration(text: str, line: int, column: int, source: str, file: str) -> Diagnostic | None:
    """`5 sec`, `4 s`, `4 seconds`, `4sec`, `0.5 s` where the parser wanted a duration."""
    first = text.lstrip(" \t").split(" ", 1)[0]
    if first not in ("shot", "cut", "crossfade", "fade", "dip"):
        return None
    match = SPELLED_DURATION.match(text, column - 1)
    if match is None or (not match.group("gap") and match.group("unit") in ("s", "ms")):
        return None  # no number and unit there, or a good duration in the wrong place
    scale = _UNIT_MS.get(match.group("unit").lower())
    if scale is None:
        return None
    ms = round(float(match.group("number")) * scale)
    written = format_duration(ms)
    if scale == 60_000:
        seconds = ms // 1000
        written = f"{seconds // 60}:{seconds % 60:02d}" if ms % 1000 == 0 else written
    span = _span(line, column, match.end() + 1)
    return R.E008.diagnostic(
        f"`{match.group(0)}` is written `{written}`",
        span,
        file,
        help="durations are one word: `4s`, `3.5s`, `1500ms` or `0:04`",
        fix=Fix(title=f"write `{written}`", edits=(Edit(span=span, text=written),)),
    )

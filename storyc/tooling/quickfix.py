"""Fixes beyond a diagnostic's own: declare a missing name, split a too-long shot, silence
a line. They change what the film says, so they are unsafe: `lint --fix --unsafe-fixes`
applies them, and the language server offers them as quick fixes.
"""

from __future__ import annotations

from collections.abc import Sequence

from storyc.check.diagnostics import Diagnostic, Edit, Fix
from storyc.check.provider import resolve_offering
from storyc.language.comments import Comment
from storyc.language.model import Shot, Span, Story
from storyc.plan.capabilities import load_table
from storyc.units import format_duration


def declare_fix(name: str, story: Story, source: str) -> Fix:
    """Insert `character NAME:` before the first scene (or at the end of the file)."""
    text = f"character {name}:\n    look:\n\n"
    if story.scenes:
        at = Span.point(story.scenes[0].span.line, 1, 0)
    else:
        lines = source.split("\n")
        last = len(lines)
        at = Span.point(last, len(lines[-1]) + 1, 0)
        text = ("\n" if lines[-1] else "") + "\n" + text.rstrip("\n") + "\n"
    return Fix(title=f"declare `character {name}:`", edits=(Edit(span=at, text=text),), safe=False)


def split_fix(shot: Shot, longest_ms: int, source: str) -> Fix | None:
    """Cut the shot into equal parts that each fit, every part with the shot's cues."""
    parts = -(-shot.duration_ms // longest_ms)
    if parts < 2:
        return None
    each = shot.duration_ms // parts
    lengths = [each] * (parts - 1) + [shot.duration_ms - each * (parts - 1)]
    lines = source.split("\n")
    first, last = shot.header_span.line, shot.span.end_line
    block = lines[first - 1 : last]
    d = shot.duration_span
    column = d.column - 1
    header = block[0]
    copies = []
    for length in lengths[1:]:
        new_header = header[:column] + format_duration(length) + header[d.end_column - 1 :]
        copies.append("\n".join([new_header, *block[1:]]))
    end_of_shot = Span.point(last, len(lines[last - 1]) + 1, 0)
    return Fix(
        title=f"split into {parts} shots of {', '.join(format_duration(n) for n in lengths)}",
        edits=(
            Edit(span=d, text=format_duration(lengths[0])),
            Edit(span=end_of_shot, text="".join("\n\n" + copy for copy in copies)),
        ),
        safe=False,
    )


def _shot_at(story: Story, span: Span) -> Shot | None:
    return next((s for s in story.shots if s.duration_span == span), None)


def suppress_fix(d: Diagnostic, source: str, comments: Sequence[Comment]) -> Fix | None:
    """Silence this code on this line with `# storyc: ignore[CODE]` (None for syntax errors)."""
    if d.code.startswith("E0") or d.code in ("S190", "S191"):
        return None
    line = d.span.line
    lines = source.split("\n")
    if not 1 <= line <= len(lines):
        return None
    text = lines[line - 1]
    comment = next((c for c in comments if c.line == line and not c.own_line), None)
    title = f"silence {d.code} on this line"
    if comment is not None and "storyc: ignore[" in comment.text:
        close = text.index("]", comment.column - 1 + comment.text.index("storyc: ignore["))
        return Fix(
            title=title, edits=(Edit(span=Span.point(line, close + 1, 0), text=f", {d.code}"),)
        )
    end = Span.point(line, len(text.rstrip()) + 1, 0)
    gap = " " if comment is not None else "  "
    return Fix(title=title, edits=(Edit(span=end, text=f"{gap}# storyc: ignore[{d.code}]"),))


def extra_fixes(
    d: Diagnostic, story: Story | None, source: str, provider: str | None = None
) -> list[Fix]:
    """The fixes this module knows for `d` (its own `fix` is not among them)."""
    if story is None:
        return []
    if d.code == "S101" and d.data and isinstance(d.data.get("name"), str):
        name = d.data["name"]
        if name not in story.declared_names():
            return [declare_fix(name, story, source)]
    if d.code == "P205":
        shot = _shot_at(story, d.span)
        offering, _ = resolve_offering(
            story, load_table(), provider or story.header.provider, story.path
        )
        if shot is not None and offering is not None:
            found = split_fix(shot, offering.longest_ms, source)
            return [found] if found else []
    return []


def fixes_for(
    d: Diagnostic, story: Story | None, source: str, provider: str | None = None
) -> list[Fix]:
    """Every fix for `d`: its own first, then the ones made here."""
    own = [d.fix] if d.fix is not None else []
    return own + extra_fixes(d, story, source, provider)

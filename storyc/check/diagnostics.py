"""Diagnostics as data, and the ways they are shown (ruff's snippet, concise, JSON).

A `Diagnostic` is a value: code, kebab-case name, severity, span, message, help and an
optional `Fix`. The checker, the parser, `lint`, the language server and the board all
produce or show these same values.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from enum import StrEnum
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict

from storyc.language.model import Span
from storyc.terminal import json_visible, visible


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Edit(BaseModel):
    """Replace the text in `span` by `text` (an empty span inserts)."""

    model_config = ConfigDict(frozen=True)

    span: Span
    text: str


class Fix(BaseModel):
    model_config = ConfigDict(frozen=True)

    title: str
    edits: tuple[Edit, ...]
    safe: bool = True
    """Safe fixes are applied by `lint --fix`; unsafe ones only on request."""


class Diagnostic(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    name: str
    severity: Severity
    message: str
    span: Span
    file: str = "<story>"
    help: str | None = None
    fix: Fix | None = None
    data: dict[str, Any] | None = None
    """Facts a quick fix or an editor can use without re-analysis (e.g. candidates)."""

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.file, self.span.line, self.span.column, self.code)

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "severity": self.severity.value,
            "message": self.message,
            "help": self.help,
            "file": self.file,
            "line": self.span.line,
            "column": self.span.column,
            "end_line": self.span.end_line,
            "end_column": self.span.end_column,
            "fix": None
            if self.fix is None
            else {
                "title": self.fix.title,
                "safe": self.fix.safe,
                "edits": [
                    {
                        "line": e.span.line,
                        "column": e.span.column,
                        "end_line": e.span.end_line,
                        "end_column": e.span.end_column,
                        "text": e.text,
                    }
                    for e in self.fix.edits
                ],
            },
        }


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


def sorted_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    return sorted(diagnostics, key=Diagnostic.sort_key)


SNIPPET_WIDTH = 120
"""Characters of a source line shown around the caret; longer lines are cut with `…`."""
MESSAGE_WIDTH = 400
"""Characters of a message (which may quote a whole line of the story) shown on a terminal."""


def _shown(text: str, limit: int = MESSAGE_WIDTH) -> str:
    """`text` for a terminal: controls spelled out, the middle of an overlong text cut."""
    if len(text) > limit:
        text = text[: limit // 2] + "…" + text[-(limit // 2) :]
    return visible(text)


def render_concise(diagnostic: Diagnostic) -> str:
    d = diagnostic
    return (
        f"{_shown(d.file)}:{d.span.line}:{d.span.column}: {d.code} [{d.severity}] "
        f"{_shown(d.message)}"
    )


@lru_cache(maxsize=2)
def _lines(source: str) -> list[str]:
    # Cached: every diagnostic of a file shows a line of the same (possibly huge) source.
    return source.split("\n")


def _snippet(line: str, start: int, end: int) -> tuple[str, str]:
    """The source line and its caret line for columns [start, end) (1-based), cut to about
    `SNIPPET_WIDTH` characters around the caret; controls spelled so the text cannot drive
    the terminal, and the caret measured on what is shown, in terminal cells (a CJK
    character or an emoji takes two), so it stays under its text."""
    end = max(start + 1, min(end, len(line) + 1))
    first = max(0, min(start - 1 - SNIPPET_WIDTH // 3, len(line) - SNIPPET_WIDTH))
    last = min(len(line), first + SNIPPET_WIDTH)
    before = "…" if first > 0 else ""
    after = "…" if last < len(line) else ""
    lead = before + visible(line[first : start - 1])
    marked = visible(line[start - 1 : min(end - 1, last)])
    shown = before + visible(line[first:last]) + after
    from rich.cells import cell_len  # not at the top: the language server never prints

    return shown, " " * cell_len(lead) + "^" * max(1, cell_len(marked))


def render_full(diagnostic: Diagnostic, source: str | None) -> str:
    """ruff's shape: a header, a `-->` pointer, the source line with carets, then help."""
    d = diagnostic
    out = [f"{d.severity}[{d.code} {d.name}]: {_shown(d.message)}"]
    out.append(f" --> {_shown(d.file)}:{d.span.line}:{d.span.column}")
    lines = _lines(source) if source is not None else []
    if 1 <= d.span.line <= len(lines):
        text = lines[d.span.line - 1].replace("\t", " ")
        number = str(d.span.line)
        pad = " " * len(number)
        end = d.span.end_column if d.span.end_line == d.span.line else len(text) + 1
        shown, caret = _snippet(text, d.span.column, end)
        out += [f"{pad} |", f"{number} | {shown}", f"{pad} | {caret}"]
    if d.help:
        out.append(f"help: {_shown(d.help)}")
    if d.fix:
        out.append(f"fix: {_shown(d.fix.title)}")
    return "\n".join(out)


_GITHUB_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _github_escape(text: str, *, in_property: bool = False) -> str:
    # GitHub's workflow-command escaping: data escapes %, CR, LF; properties also : and ,
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if in_property:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def render_github(diagnostic: Diagnostic) -> str:
    """A GitHub Actions workflow command: `::error file=…,line=…,col=…::message`."""
    d = diagnostic
    props = {
        "file": d.file,
        "line": str(d.span.line),
        "col": str(d.span.column),
        "endLine": str(d.span.end_line),
        "endColumn": str(d.span.end_column),
        "title": f"{d.code} {d.name}",
    }
    joined = ",".join(f"{k}={_github_escape(v, in_property=True)}" for k, v in props.items())
    message = d.message + (f" (help: {d.help})" if d.help else "")
    # visible: a CI log is a terminal too (CR and LF are already %-escaped above).
    return visible(f"::{_GITHUB_LEVEL[d.severity]} {joined}::{_github_escape(message)}")


def render_json(diagnostics: Sequence[Diagnostic]) -> str:
    return json_visible(
        json.dumps([d.as_json() for d in diagnostics], indent=2, ensure_ascii=False)
    )


def summary_line(diagnostics: Sequence[Diagnostic]) -> str:
    errors = sum(d.severity is Severity.ERROR for d in diagnostics)
    warnings = sum(d.severity is Severity.WARNING for d in diagnostics)
    if not errors and not warnings:
        return "All checks passed."
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    return "Found " + " and ".join(parts) + "."

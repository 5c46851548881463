"""A Fountain screenplay read into a flat list of elements: the one job of this module.

Fountain (https://fountain.io/syntax, version 1.1) is the plain-text screenplay format of
Highland, Slugline, Beat and Afterwriting. Every line of a Fountain file is valid: what a
line is depends on its neighbours (a scene heading and a character cue need a blank line
before them, a cue needs its dialogue right after it). `parse_fountain` follows the spec:

- the title page: `Key: value` lines at the very top, values continued on lines indented by
  three or more spaces or a tab, ended by the first blank line;
- scene headings: a line starting with `INT`, `EXT`, `EST`, `INT./EXT`, `INT/EXT` or `I/E`
  (any case, then a dot or a space) with blank lines around it, or forced with a leading
  `.` (not `...`); an optional scene number `#1A#` at the end is dropped;
- character cues: a line in upper case (extensions such as `(V.O.)` or `(cont'd)` may be in
  any case) holding a letter, after a blank line, with dialogue on the next line; forced
  with `@`; a trailing `^` marks dual dialogue. Dialogue runs to the next blank line (a
  line of two spaces keeps it going); `(...)` lines in it are parentheticals, `~` lyrics;
- transitions: an upper-case line ending in `TO:` with blank lines around it, the spec
  authors' `FADE OUT.`, `FADE TO BLACK.`, `CUT TO BLACK.`, or any line forced with `>`;
- centered text `> text <`, page breaks (`===`), sections (`#`), synopses (`=`);
- notes `[[...]]` (inline or on their own, across lines) and boneyard `/* ... */` (dropped);
- action: everything else, forced with `!`; emphasis (`*`, `**`, `***`, `_`) is markup and
  `plain_text` strips it (`\\*` is a literal star).

Pure functions only: text in, `Screenplay` out. `storyc import` turns one into a story.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

HEADING = re.compile(r"^(?:INT\.?/EXT|INT/EXT|I\.?/E|INT|EXT|EST)[.\s]", re.IGNORECASE)
"""A scene heading's prefix (the spec's list: INT, EXT, EST, INT./EXT, INT/EXT, I/E)."""
SCENE_NUMBER = re.compile(r"\s*#[\w.\-]+#\s*$")
TITLE_KEY = re.compile(r"^([A-Za-z][^:\n\[]*):[ \t]*(.*)$")
TITLE_KEYS = re.compile(
    r"^(title|credit|authors?|source|notes|draft date|date|contact( info)?|revision|copyright"
    r"|font|tl|tc|tr|cc|br|bl|header|footer|watermark)$",
    re.IGNORECASE,
)
"""The keys a title page may open with (afterwriting's list): `CUT TO:` on the first line
is a transition, not a title page."""
TITLE_CONTINUATION = re.compile(r"^(?: {3,}|\t)\s*(.*)$")
NOTE = re.compile(r"\[\[(.*?)\]\]", re.DOTALL)
BONEYARD = re.compile(r"/\*.*?\*/", re.DOTALL)
PAGE_BREAK = re.compile(r"^={3,}$")
SECTION = re.compile(r"^(#+)\s*(.*)$")
SYNOPSIS = re.compile(r"^=(?!==)\s*(.*)$")
CENTERED = re.compile(r"^>\s*(.*?)\s*<$")
FORCED_TRANSITION = re.compile(r"^>\s*(.+)$")
TRANSITION = re.compile(r"^[^a-z]*TO:$")
"""An upper-case line ending in `TO:` (no trailing space: `CUT TO: ` is action)."""
SPECIAL_TRANSITIONS = frozenset({"FADE OUT.", "FADE TO BLACK.", "CUT TO BLACK."})
PARENTHETICAL = re.compile(r"^\((.*)\)$", re.DOTALL)
EXTENSION = re.compile(r"\(([^()]*)\)")
_NOTE_MARK = "\x00{}\x00"
_NOTE_MARK_RE = re.compile(r"\x00(\d+)\x00")


@dataclass(frozen=True)
class Speech:
    """One run of dialogue: what is said, and the parenthetical just before it."""

    text: str
    parenthetical: str = ""


@dataclass(frozen=True)
class Element:
    """One element of the screenplay, in order. `kind` is one of `heading`, `action`,
    `dialogue`, `transition`, `centered`, `note`, `section`, `synopsis`, `page_break`.

    For `dialogue`: `speaker` is the cue without extensions (`EDWARD`, or `McDUCK` when
    `forced`), `extensions` what stood in parentheses after it (`V.O.`, `CONT'D`),
    `speeches` what is said, `dual` whether it is the right half of dual dialogue.
    `notes` are the `[[notes]]` written inside the element's text."""

    kind: str
    text: str = ""
    speaker: str = ""
    extensions: tuple[str, ...] = ()
    speeches: tuple[Speech, ...] = ()
    dual: bool = False
    forced: bool = False
    notes: tuple[str, ...] = ()
    level: int = 0


@dataclass(frozen=True)
class Screenplay:
    title_page: tuple[tuple[str, str], ...] = ()
    """The title page's `(key, value)` pairs as written (value lines joined by newlines)."""
    title_notes: tuple[str, ...] = ()
    elements: tuple[Element, ...] = field(default=())

    def title(self) -> str:
        """The title page's `Title`, emphasis stripped, lines joined; empty if none."""
        for key, value in self.title_page:
            if key.strip().lower() == "title":
                lines = [plain_text(line) for line in value.splitlines()]
                return " — ".join(line for line in lines if line)
        return ""

    def of_kind(self, kind: str) -> list[Element]:
        return [element for element in self.elements if element.kind == kind]


_EMPHASIS = (
    re.compile(r"\*\*\*(?=\S)(.+?)(?<=\S)\*\*\*"),
    re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*"),
    re.compile(r"\*(?=\S)(.+?)(?<=\S)\*"),
    re.compile(r"(?<![\w\\])_(?=\S)(.+?)(?<=\S)_(?!\w)"),
)


def plain_text(text: str) -> str:
    """`text` without Fountain's emphasis markup (`*italic*`, `**bold**`, `***both***`,
    `_underline_`), escaped `\\*` and `\\_` kept as the characters, whitespace collapsed."""
    text = text.replace("\\*", "\x01").replace("\\_", "\x02")
    for pattern in _EMPHASIS:
        text = pattern.sub(r"\1", text)
    text = text.replace("\x01", "*").replace("\x02", "_")
    return " ".join(text.split())


def parse_fountain(source: str) -> Screenplay:
    """The elements of a Fountain screenplay, in order (see the module's docstring)."""
    text = source.replace("\r\n", "\n").replace("\r", "\n").removeprefix("\ufeff")
    # The boneyard is gone before anything else is read; its line breaks stay, so what
    # stood on lines of its own leaves blank lines and joins nothing.
    text = BONEYARD.sub(lambda m: "\n" * m.group().count("\n"), text)
    lines = text.split("\n")
    title_page, title_notes, start = _title_page(lines)
    body = "\n".join(lines[start:])
    notes: list[str] = []

    def mark(match: re.Match[str]) -> str:
        notes.append(" ".join(match.group(1).split()))
        return _NOTE_MARK.format(len(notes) - 1)

    body = NOTE.sub(mark, body)
    elements = _Reader(body.split("\n"), notes).read()
    return Screenplay(tuple(title_page), tuple(title_notes), tuple(elements))


def _title_page(lines: list[str]) -> tuple[list[tuple[str, str]], list[str], int]:
    """The title page's pairs, the notes standing in it, and the index of the first line
    after it (0 when the file has no title page)."""
    first = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    opening = TITLE_KEY.match(lines[first]) if first < len(lines) else None
    if opening is None or not TITLE_KEYS.match(opening.group(1).strip()):
        return [], [], 0
    pairs: list[tuple[str, list[str]]] = []
    notes: list[str] = []
    index = first
    while index < len(lines) and lines[index].strip():
        line = lines[index]
        continuation = TITLE_CONTINUATION.match(line)
        key = TITLE_KEY.match(line)
        if continuation and pairs:
            pairs[-1][1].append(continuation.group(1).strip())
        elif key:
            pairs.append(
                (key.group(1).strip(), [key.group(2).strip()] if key.group(2).strip() else [])
            )
        else:
            notes.extend(" ".join(n.split()) for n in NOTE.findall(line) or [line.strip()])
        index += 1
    return [(key, "\n".join(values)) for key, values in pairs], notes, index


def _blank(line: str | None) -> bool:
    return line is None or not line.strip()


class _Reader:
    """Classifies the body's lines one paragraph at a time, looking at their neighbours."""

    def __init__(self, lines: list[str], notes: list[str]):
        self.lines = lines
        self.notes = notes
        self.index = 0
        self.out: list[Element] = []

    def line(self, offset: int = 0) -> str | None:
        at = self.index + offset
        return self.lines[at] if 0 <= at < len(self.lines) else None

    def take_notes(self, text: str) -> tuple[str, tuple[str, ...]]:
        """`text` without its note marks, and the notes they stood for."""
        found = tuple(self.notes[int(n)] for n in _NOTE_MARK_RE.findall(text))
        return _NOTE_MARK_RE.sub(" ", text), found

    def read(self) -> list[Element]:
        while self.index < len(self.lines):
            raw = self.line()
            assert raw is not None
            stripped = raw.strip()
            if not stripped:
                self.index += 1
                continue
            before_blank = _blank(self.line(-1))
            after_blank = _blank(self.line(1))
            if self.standalone(stripped, raw, before_blank, after_blank):
                self.index += 1
                continue
            if (
                before_blank
                and not after_blank
                and not stripped.startswith("!")
                and self.cue(stripped)
            ):
                continue
            self.action()
        return self.out

    def emit(self, kind: str, text: str, **extra: object) -> None:
        text, notes = self.take_notes(text)
        text = " ".join(text.split())
        if text or kind in ("page_break",):
            self.out.append(Element(kind, text, notes=notes, **extra))  # type: ignore[arg-type]
        for note in notes:
            if not text:
                self.out.append(Element("note", note))

    def standalone(self, stripped: str, raw: str, before_blank: bool, after_blank: bool) -> bool:
        """Reads a one-line element at the current line; False if the line is not one."""
        if _NOTE_MARK_RE.sub("", stripped).strip() == "":
            for note in self.take_notes(stripped)[1]:
                self.out.append(Element("note", note))
            return True
        if PAGE_BREAK.match(stripped):
            self.out.append(Element("page_break"))
            return True
        if (section := SECTION.match(stripped)) is not None:
            self.emit("section", section.group(2), level=len(section.group(1)))
            return True
        if (synopsis := SYNOPSIS.match(stripped)) is not None:
            self.emit("synopsis", synopsis.group(1))
            return True
        if (centered := CENTERED.match(stripped)) is not None:
            self.emit("centered", centered.group(1))
            return True
        if (forced := FORCED_TRANSITION.match(stripped)) is not None:
            self.emit("transition", forced.group(1), forced=True)
            return True
        if not (before_blank and after_blank):
            return False
        if stripped.startswith(".") and not stripped.startswith(".."):
            self.emit("heading", SCENE_NUMBER.sub("", stripped[1:]), forced=True)
            return True
        if HEADING.match(stripped):
            self.emit("heading", SCENE_NUMBER.sub("", stripped))
            return True
        line = raw.lstrip()
        if (TRANSITION.match(line) and line == line.upper()) or line in SPECIAL_TRANSITIONS:
            self.emit("transition", line)
            return True
        return False

    def cue(self, stripped: str) -> bool:
        """Reads a character cue and its dialogue; False if the line is not a cue."""
        forced = stripped.startswith("@")
        cue = stripped[1:] if forced else stripped
        dual = cue.endswith("^")
        cue = cue.removesuffix("^").strip()
        name = cue.split("(", 1)[0].strip()
        if not name or not any(c.isalpha() for c in name):
            return False
        outside = EXTENSION.sub("", cue)
        if not forced and (
            outside != outside.upper()
            or "(" in outside
            or ")" in outside
            or "\x00" in cue
            or HEADING.match(cue)
        ):
            return False
        extensions = tuple(" ".join(e.split()) for e in EXTENSION.findall(cue[len(name) :]))
        self.index += 1
        speeches: list[Speech] = []
        pending = ""
        said: list[str] = []
        notes: list[str] = []

        def close() -> None:
            nonlocal pending
            text, found = self.take_notes(" ".join(said))
            notes.extend(found)
            text = " ".join(text.split())
            if text:
                speeches.append(Speech(text, pending))
                pending = ""
            said.clear()

        while (line := self.line()) is not None and (line.strip() or line == "  "):
            content = line.strip()
            parenthetical = PARENTHETICAL.match(content)
            if parenthetical and "\x00" not in content:
                close()
                if pending:  # two parentheticals in a row: keep both
                    pending = f"{pending}; {parenthetical.group(1).strip()}"
                else:
                    pending = parenthetical.group(1).strip()
            elif content:
                said.append(content.removeprefix("~").strip())
            self.index += 1
        close()
        if pending:  # a parenthetical after the last words: it qualifies them
            if speeches:
                last = speeches[-1]
                joined = f"{last.parenthetical}; {pending}" if last.parenthetical else pending
                speeches[-1] = Speech(last.text, joined)
            else:
                speeches.append(Speech("", pending))
        self.out.append(
            Element(
                "dialogue",
                speaker=" ".join(name.split()),
                extensions=extensions,
                speeches=tuple(speeches),
                dual=dual,
                forced=forced,
                notes=tuple(notes),
            )
        )
        return True

    def action(self) -> None:
        """An action paragraph: this line and the next ones up to a blank line or a line
        that is an element on its own."""
        parts: list[str] = []
        forced = False
        while (line := self.line()) is not None and line.strip():
            content = line.strip()
            if parts and self.breaks_paragraph(content):
                break
            if not parts and content.startswith("!"):
                forced = True
                content = content[1:]
            parts.append(content.removeprefix("~"))
            self.index += 1
        self.emit("action", " ".join(parts), forced=forced)

    @staticmethod
    def breaks_paragraph(content: str) -> bool:
        return bool(
            PAGE_BREAK.match(content)
            or CENTERED.match(content)
            or SECTION.match(content)
            or SYNOPSIS.match(content)
        )

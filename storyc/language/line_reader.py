"""The fast path of `parse`: story text to the very trees Lark builds, read line by line.

The language is line-oriented: every line is a cue, a dialogue line, a block header or a
transition, and its indentation says which block it belongs to. So one regex per line kind
and an indentation stack read a well-formed story in one pass, without Lark's contextual
lexer, its Indenter and its LALR tables turning each of ~20 tokens a shot into Python
objects (issue 15: 0.68 s of a 2.2 s compile at 10,000 shots).

`read_story` returns `None` for anything it does not fully recognise (a line of an unknown
shape, odd indentation, a tab, a keyword used as a key, a carriage return...): the caller
then parses with Lark, which keeps every error and its message. It never returns a tree
Lark would not build: `verify_reader` and `tests/test_line_reader.py` compare the two.

How it mirrors Lark (read before changing it):
- The token patterns below are the grammar's terminals, copied (a test checks they still
  are). Each sits in an atomic group, so a pattern matches here exactly what it matches
  alone in Lark's lexer, and nothing can backtrack into it.
- Lark's lexer skips `[ \\t]+` between tokens but never needs it; the patterns here ask for
  spaces where a writer puts them (`shot wide 4s`) and give up on the rarer glued forms
  (`shot 4s withgolden:`, which Lark reads as `with golden`).
- In Lark a start-of-line word is a keyword (`cut`, `shot`, `cameo`...) or a NAME depending
  on the parser state, and LALR merges states, so `cut: x` is a key after `_INDENT` and a
  transition after a cue. A key spelled like a keyword therefore always gives up.
- Positions are Lark's: `start_pos`/`end_pos` are offsets into the text parsed, lines and
  columns count from 1 and only `\\n` starts a line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

from lark import Token, Tree

# The grammar this reader mirrors (the first 16 hex digits of its SHA-256): a test fails
# when the grammar changes, so whoever changes it looks here too.
GRAMMAR_DIGEST = "652a23090d3db72e"

# The grammar's terminals (grammar/story.lark), verbatim.
NAME = r"[A-Za-z_][A-Za-z0-9_\-]*"
LABEL = r"[A-Za-z][A-Za-z0-9_\-\.\/']*"
REF = r"@[A-Za-z_][A-Za-z0-9_\-]*"
DELIVERY = r"[^()\n]+"
STRING = r'"[^"\n]*"'
INT = r"\d+"
DURATION = r"\d+(\.\d+)?(ms|s)(?![A-Za-z0-9])|\d+:\d\d(\.\d+)?(?![A-Za-z0-9])"
TEXT = (
    r'(?:"[^"\n]*"|#(?![ \t\r\n])|[^ \t\r\n#])'
    r'(?:"[^"\n]*"|[^ \t\r\n]|[ \t]+(?!#(?:[ \t\r\n]))(?=[^ \t\r\n]))*+'
)
TERMINALS = {
    "NAME": NAME,
    "LABEL": LABEL,
    "REF": REF,
    "DELIVERY": DELIVERY,
    "STRING": STRING,
    "INT": INT,
    "DURATION": DURATION,
    "TEXT": TEXT,
}

# Words Lark may read as keywords at the start of a line (see the module docstring).
LINE_KEYWORDS = frozenset(
    ("cameo", "character", "location", "preset", "scene", "shot", "cut", "crossfade", "fade", "dip")
)
DECLARATIONS = ("cameo", "character", "location", "preset")
FADE_KINDS = {"crossfade": "CROSSFADE", "fade": "FADE", "dip": "DIP"}


def _group(name: str, pattern: str) -> str:
    """A named terminal in an atomic group: it matches what it would match alone."""
    return f"(?>(?P<{name}>{pattern}))"


# The rest of a line after its last token: spaces, an optional comment, the newline. The
# text always ends with a newline (the caller appends one), so every line has one.
_END = r"[ \t]*+(?:#(?=[ \t\r\n])[^\n]*+)?+\n"

_BLANK = re.compile(_END)
_NEWLINES = re.compile(r"\n+")
_SPACES = re.compile(r" *")
_WORD = re.compile(NAME)
_PAIR_LINE = re.compile(
    r" *+" + _group("key", NAME) + r"[ \t]*+:[ \t]*+(?:" + _group("text", TEXT) + r")?+" + _END
)
_DIALOGUE = re.compile(
    _group("ref", REF)
    + r"[ \t]*+(?:\((?P<delivery>(?![ \t#])(?>"
    + DELIVERY
    + r"))\)[ \t]*+)?+:[ \t]*+"
    + _group("string", STRING)
    + _END
)
_DECLARATION = re.compile(
    r"(?P<kind>cameo|character|location|preset)[ \t]++"
    + _group("name", NAME)
    + r"[ \t]*+:(?:[ \t]*+"
    + _group("string", STRING)
    + r")?+"
    + _END
)
_SCENE = re.compile(
    r"scene(?:[ \t]++"
    + _group("string", STRING)
    + r")?+(?:[ \t]++at[ \t]++"
    + _group("at", NAME)
    + r")?+[ \t]*+:"
    + _END
)
# A shot header up to its duration; the options after it are read one by one, since a
# shot may have several of each (`with a with b`).
_SHOT = re.compile(
    r"shot[ \t]++(?:" + _group("label", LABEL) + r"[ \t]++)?+" + _group("duration", DURATION)
)
_SHOT_OPTION = re.compile(
    r"[ \t]++(?:with[ \t]++"
    + _group("with", NAME)
    + r"|from[ \t]++"
    + _group("from", STRING)
    + r"|seed[ \t]++"
    + _group("seed", INT)
    + r"|takes[ \t]++"
    + _group("takes", INT)
    + r")"
)
_SHOT_END = re.compile(r"[ \t]*+:" + _END)
_TRANSITION = re.compile(
    r"(?:(?P<cut>cut)(?:[ \t]++(?P<kind>crossfade|fade|dip)[ \t]++"
    + _group("duration", DURATION)
    + r")?+|(?P<fade>crossfade|fade|dip)[ \t]++"
    + _group("fade_duration", DURATION)
    + r")"
    + _END
)
_SHOT_OPTION_RULES = {
    "with": "shot_with",
    "from": "shot_from",
    "seed": "shot_seed",
    "takes": "shot_takes",
}
_SHOT_OPTION_TYPES = {"with": "NAME", "from": "STRING", "seed": "INT", "takes": "INT"}

# What each kind of block may hold, by the kind of line.
_TOP, _BODY, _SCENE_BODY, _SHOT_BODY = "top", "body", "scene", "shot"


# `str.__new__` makes a Token without running Token's constructor (typed for what it makes).
_new_str: Callable[[type[Token], str], Token] = str.__new__  # type: ignore[assignment]


def _token(kind: str, value: str, start: int, line: int, column: int) -> Token:
    """A one-line token with every position Lark gives it.

    Built as `Token._future_new` builds it, without its two call layers: a compile makes
    100,000 of these, and the constructor was a third of this reader's time.
    """
    token = _new_str(Token, value)
    token.type = kind
    token.start_pos = start
    token.value = value
    token.line = line
    token.column = column
    token.end_line = line
    token.end_column = column + len(value)
    token.end_pos = start + len(value)
    return token


class _GiveUp(Exception):
    """The text holds something this reader does not fully recognise."""


class _Reader:
    """One pass over the text. Raises `_GiveUp` at the first line it is unsure of.

    `line` and `line_start` (its offset) are those of the line being read, for `token`.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.line = 0
        self.line_start = 0

    def token(self, kind: str, match: re.Match[str], group: str) -> Token:
        start = match.start(group)
        return _token(kind, match.group(group), start, self.line, start - self.line_start + 1)

    def read(self) -> Tree:
        text = self.text
        end = len(text)
        pair_line = _PAIR_LINE.match
        keywords = LINE_KEYWORDS
        start: list[Tree | Token] = []
        # Open blocks: (indentation, kind, where their lines go); the file is level 0.
        stack: list[tuple[int, str, list[Tree | Token]]] = [(0, _TOP, start)]
        level, kind, into = stack[-1]
        # The block the line above opened, if it did: the next line may indent into it.
        opened: tuple[str, list[Tree | Token]] | None = None
        first = True
        pos = 0
        line = 0
        while pos < end:
            if text[pos] == "\n":
                # A run of empty lines in one step: `parse_block` pads a block with one
                # newline per line above it, so the editor's blocks would otherwise cost
                # time in proportion to their line number (quadratic over a file).
                run = _NEWLINES.match(text, pos).end()  # type: ignore[union-attr]
                line += run - pos
                pos = run
                continue
            line += 1
            # Cue lines are most lines: one regex reads the whole line, indentation and all.
            pair = pair_line(text, pos)
            if pair is not None and pair.group("key") not in keywords:
                at = pair.start("key")
            else:
                pair = None
                blank = _BLANK.match(text, pos)
                if blank is not None:
                    pos = blank.end()
                    continue
                at = _SPACES.match(text, pos).end()
            indent = at - pos
            if first:
                if indent:
                    raise _GiveUp  # Lark reads an indented first line its own way
                first = False
            if indent > level:
                if opened is None:
                    raise _GiveUp  # an indent nothing opened: Lark's error
                block, into = opened
                if block == _BODY:
                    # Lark makes a declaration's `body` subtree only when it has lines.
                    body = Tree("body", [])
                    into.append(body)
                    into = body.children
                stack.append((indent, block, into))
                level, kind = indent, block
            elif indent < level:
                while indent < stack[-1][0]:
                    stack.pop()
                if indent != stack[-1][0]:
                    raise _GiveUp  # a dedent to no enclosing level: Lark's E005
                level, kind, into = stack[-1]
            if pair is not None:
                column = indent + 1
                children: list[Tree | Token] = [_token("NAME", pair.group("key"), at, line, column)]
                text_start = pair.start("text")
                if text_start >= 0:
                    children.append(
                        _token("TEXT", pair.group("text"), text_start, line, text_start - pos + 1)
                    )
                into.append(Tree("pair", children))
                opened = None
                pos = pair.end()
            else:
                self.line, self.line_start = line, pos
                opened, pos = self._line(at, kind, into)
        return Tree("start", start)

    def _line(
        self, at: int, kind: str, into: list[Tree | Token]
    ) -> tuple[tuple[str, list[Tree | Token]] | None, int]:
        """Read the content line starting at `at` into `into`: the block it opens (if it
        does) and where the next line starts."""
        text = self.text
        first = text[at]
        if first == "@":
            if kind != _SHOT_BODY:
                raise _GiveUp
            return None, self._dialogue(at, into)
        word = _WORD.match(text, at)
        if word is None:
            raise _GiveUp
        name = word.group()
        if name not in LINE_KEYWORDS:
            raise _GiveUp  # not a cue line (those are read in `read`)
        if name == "shot" and kind == _SCENE_BODY:
            return self._shot(at, into)
        if name in FADE_KINDS or name == "cut":
            if kind not in (_TOP, _SCENE_BODY):
                raise _GiveUp
            return None, self._transition(at, into)
        if kind != _TOP:
            raise _GiveUp
        if name == "scene":
            return self._scene(at, into)
        if name in DECLARATIONS:
            return self._declaration(at, into)
        raise _GiveUp

    def _dialogue(self, at: int, into: list[Tree | Token]) -> int:
        match = _DIALOGUE.match(self.text, at)
        if match is None:
            raise _GiveUp
        children: list[Tree | Token] = [self.token("REF", match, "ref")]
        if match.group("delivery") is not None:
            children.append(Tree("delivery", [self.token("DELIVERY", match, "delivery")]))
        children.append(self.token("STRING", match, "string"))
        into.append(Tree("dialogue", children))
        return match.end()

    def _transition(self, at: int, into: list[Tree | Token]) -> int:
        match = _TRANSITION.match(self.text, at)
        if match is None:
            raise _GiveUp
        children: list[Tree | Token]
        if match.group("cut") is not None:
            children = [self.token("CUT", match, "cut")]
            if match.group("kind") is not None:
                children.append(self.token(FADE_KINDS[match.group("kind")], match, "kind"))
                children.append(self.token("DURATION", match, "duration"))
        else:
            children = [
                self.token(FADE_KINDS[match.group("fade")], match, "fade"),
                self.token("DURATION", match, "fade_duration"),
            ]
        into.append(Tree("transition", children))
        return match.end()

    def _shot(
        self, at: int, into: list[Tree | Token]
    ) -> tuple[tuple[str, list[Tree | Token]], int]:
        text = self.text
        match = _SHOT.match(text, at)
        if match is None:
            raise _GiveUp
        children: list[Tree | Token] = []
        if match.group("label") is not None:
            children.append(self.token("LABEL", match, "label"))
        children.append(self.token("DURATION", match, "duration"))
        pos = match.end()
        while (option := _SHOT_OPTION.match(text, pos)) is not None:
            group = option.lastgroup
            assert group is not None
            value = self.token(_SHOT_OPTION_TYPES[group], option, group)
            children.append(Tree(_SHOT_OPTION_RULES[group], [value]))
            pos = option.end()
        end = _SHOT_END.match(text, pos)
        if end is None:
            raise _GiveUp
        into.append(Tree("shot", children))
        return (_SHOT_BODY, children), end.end()

    def _scene(
        self, at: int, into: list[Tree | Token]
    ) -> tuple[tuple[str, list[Tree | Token]], int]:
        match = _SCENE.match(self.text, at)
        if match is None:
            raise _GiveUp
        children: list[Tree | Token] = [
            _token("SCENE", "scene", at, self.line, at - self.line_start + 1)
        ]
        if match.group("string") is not None:
            children.append(self.token("STRING", match, "string"))
        if match.group("at") is not None:
            children.append(Tree("scene_at", [self.token("NAME", match, "at")]))
        into.append(Tree("scene", children))
        return (_SCENE_BODY, children), match.end()

    def _declaration(
        self, at: int, into: list[Tree | Token]
    ) -> tuple[tuple[str, list[Tree | Token]], int]:
        match = _DECLARATION.match(self.text, at)
        if match is None:
            raise _GiveUp
        kind = match.group("kind")
        children: list[Tree | Token] = [self.token("NAME", match, "name")]
        if match.group("string") is not None:
            if kind != "cameo":
                raise _GiveUp
            children.append(self.token("STRING", match, "string"))
        into.append(Tree(kind, children))
        return (_BODY, children), match.end()


def read_story(text: str) -> Tree | None:
    """The tree `story_parser().parse(text)` returns, or None where this reader gives up.

    `text` is exactly what Lark would be given (so the positions agree): it must end with a
    newline and use `\\n` alone, or the reader gives up.
    """
    if not text.endswith("\n") or "\r" in text:
        return None
    try:
        return _Reader(text).read()
    except _GiveUp:
        return None


# --- comparing the two paths --------------------------------------------------------------

POSITION_FIELDS = ("start_pos", "line", "column", "end_line", "end_column", "end_pos")


def first_difference(ours: Tree | Token, lark: Tree | Token, where: str = "start") -> str | None:
    """Where two trees first differ (data, children, token types, values, positions), else
    None. Lark's own `==` ignores positions, which the builder's spans come from."""
    if isinstance(ours, Token) or isinstance(lark, Token):
        if not (isinstance(ours, Token) and isinstance(lark, Token)):
            return f"{where}: {ours!r} vs {lark!r}"
        if ours.type != lark.type or ours.value != lark.value:
            return f"{where}: {ours.type} {ours.value!r} vs {lark.type} {lark.value!r}"
        for field in POSITION_FIELDS:
            if getattr(ours, field) != getattr(lark, field):
                return (
                    f"{where}: {ours.type} {ours.value!r} {field} "
                    f"{getattr(ours, field)} vs {getattr(lark, field)}"
                )
        return None
    if ours.data != lark.data:
        return f"{where}: tree {ours.data!r} vs {lark.data!r}"
    if len(ours.children) != len(lark.children):
        return (
            f"{where}/{ours.data}: {len(ours.children)} children vs {len(lark.children)}: "
            f"{ours.children!r} vs {lark.children!r}"
        )
    for index, (a, b) in enumerate(zip(ours.children, lark.children, strict=True)):
        found = first_difference(a, b, f"{where}/{ours.data}[{index}]")
        if found is not None:
            return found
    return None


VERIFY_VARIABLE = "STORYC_VERIFY_READER"


def verify_wanted() -> bool:
    """Whether `STORYC_VERIFY_READER=1` asks every parse to run both paths and compare."""
    return os.environ.get(VERIFY_VARIABLE) == "1"


def check_agrees(text: str, ours: Tree | None, lark_parse: Callable[[str], Tree]) -> None:
    """Raise AssertionError if this reader's tree for `text` is not Lark's.

    A give-up (None) always agrees: Lark then answers alone. A tree where Lark fails is a
    disagreement (the reader must never accept what Lark rejects).
    """
    if ours is None:
        return
    try:
        lark = lark_parse(text)
    except Exception as exc:  # any Lark failure: the reader accepted a bad text
        raise AssertionError(
            f"the line reader read a text Lark rejects ({type(exc).__name__}: {exc})"
        ) from exc
    found = first_difference(ours, lark)
    if found is not None:
        raise AssertionError(f"the line reader and Lark disagree at {found}")

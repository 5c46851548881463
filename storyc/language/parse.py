"""Text to syntax tree, and syntax errors a writer can read.

Lark LALR(1) with the contextual lexer and an `Indenter` postlex; the parser is built once
per process and cached on disk by Lark. A file that fails to parse is parsed again one
top-level block at a time, so one broken shot never hides the diagnostics of the others.

Text is first given to `line_reader`, which reads well-formed stories line by line into the
very trees Lark builds, about five times faster; whatever it does not fully recognise goes
to Lark, which also words every syntax error. `STORYC_VERIFY_READER=1` runs both on every
parse and fails loudly where they differ (`verify_reader` does it for one text).
"""

from __future__ import annotations

import difflib
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import ClassVar

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.indenter import Indenter

from storyc.check import catalog as R
from storyc.check.diagnostics import Diagnostic, Edit, Fix
from storyc.fsutil import file_sha256, normalise_newlines
from storyc.language.comments import Comment, comments_of
from storyc.language.habits import screenplay_habit
from storyc.language.line_reader import check_agrees, read_story, verify_wanted
from storyc.language.model import CUE_KEYS, Span
from storyc.resources import grammar_path

TAB_WIDTH = 4
BLOCK_KEYWORDS = ("cameo", "character", "location", "preset", "scene", "shot")
TRANSITION_WORDS = ("cut", "crossfade", "fade", "dip")


class IndentationError_(Exception):
    """An indentation that matches no enclosing block (raised by the indenter)."""

    def __init__(self, line: int, column: int, expected: list[int]):
        super().__init__(f"unexpected dedent on line {line}")
        self.line = line
        self.column = column
        self.expected = expected


class StoryIndenter(Indenter):
    NL_type = "_NL"
    OPEN_PAREN_types: ClassVar[list[str]] = []
    CLOSE_PAREN_types: ClassVar[list[str]] = []
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = TAB_WIDTH

    def handle_NL(self, token: Token):  # type: ignore[no-untyped-def]
        # Lark's own DedentError carries no position; ours says where.
        indent_str = token.rsplit("\n", 1)[1]
        indent = indent_str.count(" ") + indent_str.count("\t") * self.tab_len
        if indent < self.indent_level[-1] and indent not in self.indent_level:
            line = (token.end_line or token.line or 1) if "\n" in token else token.line or 1
            raise IndentationError_(line, indent + 1, list(self.indent_level))
        yield from super().handle_NL(token)


@cache
def story_parser() -> Lark:
    """The LALR parser, built once; Lark caches the compiled tables on disk."""
    cache_dir = Path(tempfile.gettempdir()) / "storyc-lark-cache"
    cache_dir.mkdir(parents=True, exist_ok=True)
    return Lark.open(
        str(grammar_path()),
        parser="lalr",
        lexer="contextual",
        postlex=StoryIndenter(),
        propagate_positions=False,
        maybe_placeholders=False,
        cache=str(cache_dir / f"story-{_grammar_digest()}.lark.cache"),
    )


@cache
def _grammar_digest() -> str:
    return file_sha256(grammar_path())[:16]


def parse_text(text: str) -> Tree:
    """The syntax tree of `text` (exactly what is parsed: positions are offsets into it),
    read by the line reader where it can and by Lark otherwise. Raises Lark's errors and
    `IndentationError_` on bad text."""
    tree = read_story(text)
    if verify_wanted():
        check_agrees(text, tree, story_parser().parse)
    return tree if tree is not None else story_parser().parse(text)


def verify_reader(text: str) -> Tree | None:
    """The line reader's tree for `text` (None where it gives up), after checking that Lark
    builds the same one: AssertionError, saying where, if not."""
    tree = read_story(text)
    check_agrees(text, tree, story_parser().parse)
    return tree


@dataclass(frozen=True)
class ParsedStory:
    """The syntax trees of a file (one per top-level item) and its syntax diagnostics."""

    items: list[Tree]
    diagnostics: list[Diagnostic]
    source: str
    dropped: bool = False
    """The trees were dropped (`without_trees`): `items` is empty, not the file's items."""
    kept_comments: tuple[Comment, ...] | None = None
    """The comments, read before the trees were dropped (when asked to keep them)."""

    def comments(self) -> list[Comment]:
        """The comments of the source (`storyc.language.comments.comments_of`)."""
        if self.kept_comments is not None:
            return list(self.kept_comments)
        if self.dropped:
            # Read from no trees, every line would be scanned as a broken one: refuse.
            raise RuntimeError("the trees were dropped without keeping the comments")
        return comments_of(self.source, self.items)

    def without_trees(self, *, keep_comments: bool) -> ParsedStory:
        """This parse without its trees, once the model is built from them: at 10,000 shots
        they are about 40 MB, alive for nothing through checking and planning. The comments
        (for `# storyc: ignore[...]`) are read first when `keep_comments`."""
        kept = tuple(self.comments()) if keep_comments else None
        return ParsedStory([], self.diagnostics, self.source, dropped=True, kept_comments=kept)


def parse_story(source: str, file: str = "<story>") -> ParsedStory:
    """Parse `.story` text. Never raises on bad input: problems come back as diagnostics."""
    source = normalise_newlines(source)
    diagnostics = _tab_diagnostics(source, file)
    if "\x00" in source:
        at = source.index("\x00")
        line = source.count("\n", 0, at) + 1
        column = at - source.rfind("\n", 0, at)  # the caret points at the NUL itself
        diagnostics.append(
            _syntax(
                file,
                R.E001,
                "this is not a text file (it has NUL bytes)",
                Span.point(line, column),
                help="a .story file is plain UTF-8 text",
            )
        )
        return ParsedStory([], diagnostics, source)
    try:
        tree = parse_text(source + "\n")
        return ParsedStory(list(tree.children), diagnostics, source)
    except (UnexpectedInput, IndentationError_):
        pass
    items: list[Tree] = []
    for start_line, block in split_blocks(source):
        block_items, block_diagnostics = parse_block(start_line, block, file, source)
        if block_diagnostics:
            block_items, block_diagnostics = _recover_block(
                start_line, block, file, source, block_diagnostics
            )
        items.extend(block_items)
        diagnostics.extend(block_diagnostics)
    return ParsedStory(items, diagnostics, source)


MAX_RECOVERIES = 5


def _recover_block(
    start_line: int, block: str, file: str, source: str, found: list[Diagnostic]
) -> tuple[list[Tree], list[Diagnostic]]:
    return recover_block(
        start_line, block, found, lambda text: parse_block(start_line, text, file, source)
    )


def recover_block(
    start_line: int,
    block: str,
    found: list[Diagnostic],
    parse: Callable[[str], tuple[list[Tree], list[Diagnostic]]],
) -> tuple[list[Tree], list[Diagnostic]]:
    """Blank the line that breaks a block (and its body, if it opens one) and parse again.

    This keeps the rest of a scene whose one shot is broken, so its other shots are still
    checked (and its characters still count as used), and it finds a few more errors in
    the same block instead of stopping at the first. `parse` parses a version of the block
    where it stands (the language server passes a caching one): the command line and the
    editor recover the same way, so they report the same diagnostics.
    """
    lines = block.split("\n")
    diagnostics = list(found)
    for _ in range(MAX_RECOVERIES):
        index = diagnostics[-1].span.line - start_line
        if not 0 <= index < len(lines) or not lines[index].strip():
            return [], diagnostics
        own = len(lines[index]) - len(lines[index].lstrip(" \t"))
        lines[index] = ""
        for j in range(index + 1, len(lines)):
            if lines[j].strip() and len(lines[j]) - len(lines[j].lstrip(" \t")) <= own:
                break
            lines[j] = ""
        items, more = parse("\n".join(lines))
        if not more:
            return items, diagnostics
        if more[0].span.line <= diagnostics[-1].span.line:
            return [], diagnostics
        diagnostics.append(more[0])
    return [], diagnostics


def parse_block(
    start_line: int, block: str, file: str = "<story>", source: str | None = None
) -> tuple[list[Tree], list[Diagnostic]]:
    """Parse one top-level block (from `split_blocks`) where it stands in the file.

    The block is padded with newlines so that positions are those of the whole file; the
    language server caches the result per (start line, text). `source` (the whole file)
    only words the messages; tab diagnostics are not made here.
    """
    padded = "\n" * (start_line - 1) + block + "\n"
    context = source if source is not None else padded
    try:
        tree = parse_text(padded)
    except IndentationError_ as exc:
        return [], [_indentation_diagnostic(exc, context, file)]
    except UnexpectedInput as exc:
        return [], [describe_syntax_error(exc, context, file)]
    return list(tree.children), []


BlockParser = Callable[[int, str, str], tuple[list[Tree], list[Diagnostic]]]


def parse_story_in_blocks(
    source: str, file: str = "<story>", block_parser: BlockParser | None = None
) -> ParsedStory:
    """`parse_story` without the whole-file attempt: every block goes through `block_parser`
    (`parse_block` by default; the language server passes a caching one)."""
    source = normalise_newlines(source)
    if "\x00" in source:
        return parse_story(source, file)
    parse_one = block_parser or (lambda line, block, name: parse_block(line, block, name, source))
    diagnostics = _tab_diagnostics(source, file)
    items: list[Tree] = []
    for start_line, block in split_blocks(source):
        block_items, block_diagnostics = parse_one(start_line, block, file)
        items.extend(block_items)
        diagnostics.extend(block_diagnostics)
    return ParsedStory(items, diagnostics, source)


# A line that starts a block: text in column 1 that is not a comment (`#` then a blank or
# the end of the line). `\S` and `str.isspace` agree on what a blank is.
# Searched as the newline before it: a literal to scan for, far faster than `^` tried at
# every character.
_BLOCK_START = re.compile(r"\n(?!#(?:[ \t]|\n|$))\S")


def split_blocks(source: str) -> list[tuple[int, str]]:
    """Split into top-level blocks: a block starts at a line with text in column 1.

    Comment and blank lines belong to the block before them. Returns (first line, text).
    Runs on every parse (and every keystroke in the editor), so it finds the block starts
    with one regular expression and slices the text between them, line by line no more.
    """
    # The first line opens the first block whatever it holds.
    starts = [0, *(match.start() + 1 for match in _BLOCK_START.finditer(source))]
    ends = [start - 1 for start in starts[1:]]  # each block ends before the next's newline
    ends.append(len(source))
    blocks: list[tuple[int, str]] = []
    line, counted = 1, 0
    for start, end in zip(starts, ends, strict=True):
        line += source.count("\n", counted, start)
        counted = start
        blocks.append((line, source[start:end]))
    return blocks


def _syntax(
    file: str,
    rule: R.Rule,
    message: str,
    span: Span,
    *,
    help: str | None = None,
    fix: Fix | None = None,
    data: dict[str, object] | None = None,
) -> Diagnostic:
    return rule.diagnostic(message, span, file, help=help, fix=fix, data=data)


_TRANSITION_LINE = re.compile(r"(cut|crossfade|fade|dip)(\s|$)")


def _code_of(line: str) -> str:
    """A line without its indentation and end-of-line comment."""
    return re.sub(r"\s+#(\s.*)?$", "", line.strip())


def _opener(code: str) -> str | None:
    """The keyword of a line that opens a block (`shot 4s:`, `scene:`), else None."""
    word = code.split(maxsplit=1)[0].rstrip(":") if code else ""
    return word if code.endswith(":") and word in BLOCK_KEYWORDS else None


def block_depths(lines: list[str]) -> list[int | None]:
    """`block_depth` of every line, in one pass (the tab fix needs most of them)."""
    depths: list[int | None] = []
    above: str | None = None  # the kind of the nearest block opened above the line
    for line in lines:
        code = _code_of(line)
        kind = _opener(code)
        if not code or code.startswith("#"):
            depths.append(None)
        elif kind == "shot" or _TRANSITION_LINE.match(code):
            depths.append(1)
        elif kind is not None:
            depths.append(0)
        elif above is not None:
            depths.append(2 if above == "shot" else 1)
        else:
            depths.append(None)
        if kind is not None:
            above = kind
    return depths


def block_depth(lines: list[str], index: int) -> int | None:
    """How many levels deep `lines[index]` stands, from what it is and the block it is in:
    a shot or transition is in a scene (1); a cue or dialogue is in the nearest block opened
    above it (2 under a shot, 1 under a scene or declaration). None for a comment or a
    line that fits no block (the tab fix then counts each tab as four spaces)."""
    code = _code_of(lines[index])
    if not code or code.startswith("#"):
        return None
    if _opener(code) in ("shot",) or _TRANSITION_LINE.match(code):
        return 1
    if _opener(code) is not None:
        return 0
    for above in range(index - 1, -1, -1):
        kind = _opener(_code_of(lines[above]))
        if kind == "shot":
            return 2
        if kind is not None:
            return 1
    return None


def _indent_unit(lines: list[str], depths: list[int | None]) -> int:
    """The file's indentation step, from its lines indented with spaces only: each one's
    width over its depth (the smallest; 4 if there is none). `depths`: `block_depths`."""
    steps = []
    for line, depth in zip(lines, depths, strict=True):
        width = len(line) - len(line.lstrip(" "))
        if width and line[width:][:1] not in ("\t", "#", "") and depth and width % depth == 0:
            steps.append(width // depth)
    return min(steps, default=TAB_WIDTH)


def _tab_diagnostics(source: str, file: str) -> list[Diagnostic]:
    """E002 on each line with a tab in its indentation. The fix indents every such line with
    spaces by its block's depth (`block_depth`), all at once: fixed one by one, a half-fixed
    file may parse worse than before, and `lint --fix` would drop the fix."""
    if "\t" not in source:  # nearly every file: no need to look at each line
        return []
    lines = source.split("\n")
    depths = block_depths(lines)
    tabbed: list[tuple[int, str, str, int | None]] = []
    for number, line in enumerate(lines, start=1):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent and line.strip():
            tabbed.append((number, indent, "", depths[number - 1]))
    if not tabbed:
        return []
    unit = " " * _indent_unit(lines, depths)
    tabbed = [
        (
            number,
            indent,
            indent.replace("\t", " " * TAB_WIDTH) if depth is None else unit * depth,
            depth,
        )
        for number, indent, _, depth in tabbed
    ]
    fix = Fix(
        title="indent with spaces" + (" (every tab-indented line)" if len(tabbed) > 1 else ""),
        edits=tuple(
            Edit(span=Span(line=n, column=1, end_line=n, end_column=len(indent) + 1), text=spaces)
            for n, indent, spaces, _ in tabbed
        ),
    )
    return [
        _syntax(
            file,
            R.E002,
            "a tab in the indentation: indent with spaces only",
            Span(line=number, column=1, end_line=number, end_column=len(indent) + 1),
            help="a tab is as wide as each editor makes it; indent with spaces"
            + (f" ({len(spaces)} here)" if depth is not None else "")
            + ": `storyc lint --fix` does it",
            fix=fix,
        )
        for number, indent, spaces, depth in tabbed
    ]


def _indentation_diagnostic(exc: IndentationError_, source: str, file: str) -> Diagnostic:
    levels = ", ".join(str(level) for level in exc.expected)
    return _syntax(
        file,
        R.E005,
        "this line's indentation matches no enclosing block",
        Span(line=exc.line, column=1, end_line=exc.line, end_column=exc.column),
        help=f"indent it like a line above it (blocks here are indented by {levels} spaces)",
    )


def _line_text(source: str, line: int) -> str:
    lines = source.split("\n")
    return lines[line - 1] if 1 <= line <= len(lines) else ""


_WORD = re.compile(r"[A-Za-z_@][A-Za-z0-9_\-]*")


def _did_you_mean(word: str, choices: tuple[str, ...] | list[str]) -> str | None:
    matches = difflib.get_close_matches(word.lower(), list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


def describe_syntax_error(exc: UnexpectedInput, source: str, file: str) -> Diagnostic:
    """Turn Lark's exception into one diagnostic with words a writer knows."""
    if isinstance(exc, UnexpectedEOF) or getattr(exc, "line", -1) in (-1, None):
        last = max(1, source.rstrip("\n").count("\n") + 1)
        return _syntax(
            file,
            R.E001,
            "the story ends in the middle of a line",
            Span.point(last, 1),
        )
    line = int(exc.line)
    column = int(exc.column)
    text = _line_text(source, line)
    stripped = text.lstrip(" \t")
    first_col = len(text) - len(stripped) + 1
    first_word_match = _WORD.match(stripped)
    first_word = first_word_match.group(0) if first_word_match else ""
    expected = _expected_words(exc)
    label = _match_example(exc)

    if isinstance(exc, UnexpectedToken) and exc.token.type == "_INDENT":
        line = exc.token.end_line or line
        text = _line_text(source, line)
        first_col = len(text) - len(text.lstrip(" \t")) + 1
        return _syntax(
            file,
            R.E005,
            "this line is indented more than the line above allows",
            Span(line=line, column=1, end_line=line, end_column=first_col),
            help="only the lines inside a block (`shot ...:`, `scene ...:`, a "
            "declaration) are indented, all by the same amount",
        )

    habit = screenplay_habit(text, line, column, source, file)
    if habit is not None:
        return habit

    char = text[column - 1] if 0 < column <= len(text) else ""
    if char == '"' and text.count('"', column - 1) % 2 == 1:
        return _syntax(
            file,
            R.E003,
            "this quote is never closed",
            Span(line=line, column=column, end_line=line, end_column=len(text) + 1),
            help='close it with `"` on the same line',
            fix=Fix(
                title='add the closing `"`',
                edits=(Edit(span=Span.point(line, len(text.rstrip()) + 1, 0), text='"'),),
            ),
        )

    # A block keyword or cue key misspelled at the start of the line.
    if first_word and column > first_col and first_word.lower() not in BLOCK_KEYWORDS:
        looks_like_block = stripped.rstrip().endswith(":") and " " in stripped.split(":")[0]
        guess = _did_you_mean(first_word, BLOCK_KEYWORDS) if looks_like_block else None
        if guess:
            return _syntax(
                file,
                R.E007,
                f"`{first_word}` starts no block; did you mean `{guess}`?",
                Span(
                    line=line,
                    column=first_col,
                    end_line=line,
                    end_column=first_col + len(first_word),
                ),
                help=f"blocks start with one of: {', '.join(BLOCK_KEYWORDS)}",
                fix=Fix(
                    title=f"replace with `{guess}`",
                    edits=(
                        Edit(
                            span=Span(
                                line=line,
                                column=first_col,
                                end_line=line,
                                end_column=first_col + len(first_word),
                            ),
                            text=guess,
                        ),
                    ),
                ),
                data={"name": first_word, "candidates": [guess]},
            )

    if label == "missing-duration" or (first_word == "shot" and "DURATION" in expected):
        found = _token_text(text, column).rstrip(":")
        return _syntax(
            file,
            R.E008,
            f"`{found}` is not a duration; write `4s`, `3.5s`, `1500ms` or `0:04`"
            if found[:1].isdigit()
            else "a shot needs a duration after its label, like `4s`, `3.5s`, `1500ms` or `0:04`",
            Span(
                line=line,
                column=column,
                end_line=line,
                end_column=column + max(1, len(_token_text(text, column))),
            ),
            help='write the shot line as `shot [label] DURATION [with PRESET] [from "image.png"] [seed N]:`',
        )
    if first_word in TRANSITION_WORDS and "DURATION" in expected:
        return _syntax(
            file,
            R.E008,
            f"`{first_word}` needs a duration, like `{first_word} 0.5s`"
            if first_word != "cut"
            else "a transition needs a duration, like `cut crossfade 0.5s`",
            Span(line=line, column=column, end_line=line, end_column=len(text) + 1),
            help="transitions are `cut`, `cut crossfade D`, `cut fade D` or `cut dip D`",
        )
    if first_word.startswith("@") and "STRING" in expected:
        return _syntax(
            file,
            R.E009,
            "dialogue is written in double quotes",
            Span(line=line, column=column, end_line=line, end_column=len(text) + 1),
            help=f'write it as `{first_word} (delivery): "the line"`',
            fix=Fix(
                title="quote the line",
                edits=(
                    Edit(
                        span=Span(
                            line=line,
                            column=column,
                            end_line=line,
                            end_column=len(text.rstrip()) + 1,
                        ),
                        text='"' + text[column - 1 :].rstrip().replace('"', "'") + '"',
                    ),
                ),
            ),
        )
    if expected == {":"} or label == "missing-colon":
        key = first_word or "this line"
        after = first_col + len(first_word)
        is_cue = first_word in CUE_KEYS
        return _syntax(
            file,
            R.E006,
            f"expected `:` after `{key}`",
            Span.point(line, after if is_cue else column),
            help="cue lines are written `key: text`, block lines end with `:`",
            fix=Fix(title="insert `:`", edits=(Edit(span=Span.point(line, after, 0), text=":"),))
            if is_cue
            else None,
        )
    if isinstance(exc, UnexpectedToken) and exc.token.type == "_NL" and ":" in expected:
        return _syntax(
            file,
            R.E006,
            "this block line must end with `:`",
            Span.point(line, len(text.rstrip()) + 1),
            help="block lines (`scene`, `shot`, declarations) end with `:`",
            fix=Fix(
                title="append `:`",
                edits=(Edit(span=Span.point(line, len(text.rstrip()) + 1, 0), text=":"),),
            ),
        )
    if (isinstance(exc, UnexpectedToken) and exc.token.type == "DEDENT") or not stripped:
        return _syntax(file, R.E001, "a block here has nothing inside it", Span.point(line, 1))
    found = _token_text(text, column) or "end of line"
    wanted = _describe_expected(expected)
    return _syntax(
        file,
        R.E001,
        f"unexpected `{found}`" + (f"; expected {wanted}" if wanted else ""),
        Span(line=line, column=column, end_line=line, end_column=column + max(1, len(found))),
        help="see `docs/language.md` for the shape of each line",
    )


def _token_text(text: str, column: int) -> str:
    rest = text[column - 1 :] if column >= 1 else ""
    match = re.match(r"\S+", rest)
    return match.group(0) if match else ""


_TERMINAL_WORDS = {
    "COLON": ":",
    "NAME": "a name",
    "LABEL": "a shot label",
    "DURATION": "a duration",
    "STRING": 'a quoted "text"',
    "TEXT": "text",
    "REF": "an `@name`",
    "INT": "a number",
    "_NL": "the end of the line",
    "_INDENT": "an indented line",
    "_DEDENT": "less indentation",
    "DELIVERY": "a delivery",
    "LPAR": "(",
    "RPAR": ")",
    "CUT": "`cut`",
    "CROSSFADE": "`crossfade`",
    "FADE": "`fade`",
    "DIP": "`dip`",
}


def _expected_words(exc: UnexpectedInput) -> set[str]:
    names: set[str] = set()
    raw = (
        getattr(exc, "accepts", None)
        or getattr(exc, "expected", None)
        or getattr(exc, "allowed", None)
        or ()
    )
    parser = story_parser()
    for name in raw:
        if name in _TERMINAL_WORDS and _TERMINAL_WORDS[name] == ":":
            names.add(":")
            continue
        try:
            pattern = parser.get_terminal(name).pattern
        except KeyError:
            names.add(name)
            continue
        if pattern.type == "str":
            names.add(pattern.value)
        else:
            names.add(name)
    return names


def _describe_expected(expected: set[str]) -> str:
    words = sorted(
        {_TERMINAL_WORDS.get(e, f"`{e}`" if e.islower() or e == ":" else e) for e in expected}
    )
    return ", ".join(words[:6])


# Labelled bad examples: Lark's match_examples finds the one that fails in the same parser
# state as the writer's text, which tells us what kind of mistake it is.
SYNTAX_EXAMPLES: dict[str, list[str]] = {
    "missing-colon": [
        "title Morning\n",
        'scene "A":\n    shot 4s:\n        camera slow dolly\n',
        "preset p:\n    light warm\n",
    ],
    "missing-duration": [
        'scene "A":\n    shot wide:\n        action: x\n',
        'scene "A":\n    shot:\n        action: x\n',
    ],
}


def _match_example(exc: UnexpectedInput) -> str | None:
    try:
        return exc.match_examples(
            lambda text: story_parser().parse(text), SYNTAX_EXAMPLES, use_accepts=True
        )
    except Exception:
        return None

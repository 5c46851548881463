"""Where the comments are: the grammar folds them into the newline token, so they never
reach the syntax tree, and `fmt`, `lint` (suppressions) and the language server read them
back from the source lines here.

A comment is `#` followed by a space, a tab or the end of the line, standing where the
language allows one (after the last token of a line, or alone on its line). The parse tree
says exactly where each line's last token ends, so the first `#` after it starts the
comment: nothing the parser drops (`:`, keywords, parentheses) contains a `#`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from lark import Token, Tree


@dataclass(frozen=True)
class Comment:
    line: int
    """1-based line of the comment."""
    column: int
    """1-based column of its `#`."""
    text: str
    """From the `#` to the end of the line, trailing blanks removed."""
    own_line: bool
    """Nothing but blanks before it on its line."""


def _tokens(node: Tree | Token) -> Iterator[Token]:
    if isinstance(node, Token):
        yield node
        return
    for child in node.children:
        yield from _tokens(child)


def line_ends(items: Iterable[Tree]) -> dict[int, int]:
    """For each line holding a token: the 0-based index just past its last token."""
    ends: dict[int, int] = {}
    for item in items:
        for token in _tokens(item):
            if token.line is None or token.end_column is None:
                continue
            end = token.end_column - 1
            if end > ends.get(token.line, -1):
                ends[token.line] = end
    return ends


def _is_comment_at(text: str, index: int) -> bool:
    return text[index] == "#" and (index + 1 == len(text) or text[index + 1] in " \t\r")


def scan_comment(text: str) -> int | None:
    """Best guess for a line the parser could not read: the index of its comment's `#`.

    Quoted runs are skipped, and a `#` starts a comment only after a blank or a `:`
    (inside free text, `a# b` is text).
    """
    quoted = False
    for index, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif (
            not quoted and _is_comment_at(text, index) and (index == 0 or text[index - 1] in " \t:")
        ):
            return index
    return None


def find_comments(source: str, ends: Mapping[int, int]) -> list[Comment]:
    """Every comment of `source`, given `line_ends` of its parse (lines without tokens that
    are not comment lines, i.e. lines of blocks that failed to parse, are scanned)."""
    found: list[Comment] = []
    for number, text in enumerate(source.split("\n"), start=1):
        stripped = text.lstrip(" \t")
        if not stripped:
            continue
        end = ends.get(number)
        if end is not None:
            index = text.find("#", end)
            index = index if index >= 0 else None
        elif _is_comment_at(stripped, 0):
            index = len(text) - len(stripped)
        else:
            index = scan_comment(text)
        if index is not None:
            found.append(
                Comment(number, index + 1, text[index:].rstrip(), own_line=not text[:index].strip())
            )
    return found


def comments_of(source: str, items: Sequence[Tree]) -> list[Comment]:
    """The comments of a parsed source."""
    return find_comments(source, line_ends(items))

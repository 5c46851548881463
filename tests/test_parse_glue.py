"""Issue 15: the glue around the parser (`split_blocks`, the tab scan) runs on every parse and
every editor keystroke, so it was rewritten to do one pass. These properties hold it to the
line-by-line versions it replaced, on any text."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from storyc.language.parse import _tab_diagnostics, block_depth, block_depths, split_blocks

_COMMENT_LINE = re.compile(r"[ \t]*(#(?=[ \t]|$).*)?$")


def split_blocks_by_line(source: str) -> list[tuple[int, str]]:
    """`split_blocks` as it was: line by line (the oracle)."""
    blocks: list[tuple[int, list[str]]] = []
    for number, line in enumerate(source.split("\n"), start=1):
        starts_block = bool(line) and not line[0].isspace() and not _COMMENT_LINE.match(line)
        if starts_block or not blocks:
            blocks.append((number, [line]))
        else:
            blocks[-1][1].append(line)
    return [(start, "\n".join(lines)) for start, lines in blocks]


# Lines made of what decides a block start: blanks of every kind, `#`, words, block keywords.
_PIECES = st.sampled_from(
    ["", " ", "\t", "#", "# note", "#x", "a", "shot 4s:", "scene:", "\x0c", "\u00a0", "\r", ":"]
)
_LINES = st.lists(st.lists(_PIECES, max_size=4).map("".join), max_size=12).map("\n".join)


@settings(max_examples=400, deadline=None)
@given(_LINES)
def test_split_blocks_agrees_with_the_line_by_line_split(source: str) -> None:
    assert split_blocks(source) == split_blocks_by_line(source)


def test_split_blocks_keeps_comments_and_blanks_with_the_block_before() -> None:
    source = "title: x\n# a note\n\nscene:\n    shot 4s:\n#not a comment\n"
    assert split_blocks(source) == [
        (1, "title: x\n# a note\n"),
        (4, "scene:\n    shot 4s:"),
        (6, "#not a comment\n"),
    ]


@settings(max_examples=300, deadline=None)
@given(_LINES)
def test_block_depths_is_block_depth_of_every_line(source: str) -> None:
    lines = source.split("\n")
    assert block_depths(lines) == [block_depth(lines, i) for i in range(len(lines))]


def test_a_text_without_tabs_is_not_scanned_line_by_line() -> None:
    assert _tab_diagnostics("scene:\n    shot 4s:\n        camera: x\n", "s.story") == []
    found = _tab_diagnostics("scene:\n\tshot 4s:\n\t\tcamera: x\n", "s.story")
    assert [(d.code, d.span.line) for d in found] == [("E002", 2), ("E002", 3)]
    assert found[0].fix is not None
    assert [e.text for e in found[0].fix.edits] == ["    ", "        "]

"""Reading a `.story` file: a regular file of bounded size, UTF-8, answered at once.

Every command reads its stories through `read_story_text` (via `compiler.read_story`), so
`storyc check /dev/zero` is refused by `stat` instead of filling memory, a FIFO is never
opened (it would wait for a writer forever), and a file saved in another encoding is an
error that points at the first bad byte instead of text silently full of `�`.
"""

from __future__ import annotations

import os
from pathlib import Path

from storyc.check import catalog as R
from storyc.errors import StorycError
from storyc.fsutil import normalise_newlines
from storyc.language.model import Span
from storyc.sandbox import mode_problem, size_problem

MAX_STORY_BYTES = 16 * 1024 * 1024
"""The largest story storyc reads (a feature film's screenplay is well under 1 MB)."""

BOM = b"\xef\xbb\xbf"
"""The UTF-8 byte order mark some Windows editors write first; dropped, never a column."""


class NotUtf8(StorycError):
    """The story holds bytes that are not UTF-8. `diagnostic` (E010) points at the first of
    them in `source`, the text decoded with U+FFFD in their place, so `check` can show it
    like any other mistake; commands that need the exact text stop on the message."""

    exit_code = 2

    def __init__(self, file: str, source: str, line: int, column: int, byte: int):
        message = f"byte 0x{byte:02x} is not UTF-8 text"
        help = "save the story as UTF-8 (most editors: Save with Encoding, UTF-8)"
        self.diagnostic = R.E010.diagnostic(message, Span.point(line, column), file, help=help)
        self.source = source
        super().__init__(f"{file}:{line}:{column}: {message}", hint=help)


def read_story_text(path: Path) -> str:
    """The text of the story at `path`: raises `StorycError` (exit 2) for anything that is
    not a regular file of at most `MAX_STORY_BYTES`, `NotUtf8` for undecodable bytes."""
    return decode_story(read_story_bytes(path), str(path))


def read_story_bytes(path: Path) -> bytes:
    """The bytes of a regular file within the size cap, judged by `stat` before opening."""
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise StorycError(f"{path}: no such file", exit_code=2) from None
    except OSError as exc:
        raise StorycError(f"{path}: cannot read it ({exc.strerror})", exit_code=2) from None
    _refuse(path, info.st_mode, info.st_size)
    # O_NONBLOCK: should a FIFO replace the file after the stat, opening it still returns
    # at once (and fstat then refuses it) instead of waiting for a writer.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise StorycError(f"{path}: cannot read it ({exc.strerror})", exit_code=2) from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        _refuse(path, info.st_mode, info.st_size)
        data = handle.read(MAX_STORY_BYTES + 1)  # + 1: a file that grew is still refused
    _refuse(path, info.st_mode, len(data))
    return data


def _refuse(path: Path, mode: int, size: int) -> None:
    problem = mode_problem(mode)
    if problem is not None:
        raise StorycError(f"{path} {problem}", hint="a story is a .story text file", exit_code=2)
    problem = size_problem(size, MAX_STORY_BYTES, "a story")
    if problem is not None:
        raise StorycError(f"{path} {problem}", exit_code=2)


def decode_story(data: bytes, file: str) -> str:
    """UTF-8 text without a leading BOM; `NotUtf8` names the line and column of a bad byte."""
    data = data.removeprefix(BOM)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _not_utf8(data, exc.start, file) from None


def _not_utf8(data: bytes, start: int, file: str) -> NotUtf8:
    # Lines and columns as the parser counts them: CR LF and a lone CR end a line, and a
    # column counts characters. Everything before the first bad byte decodes.
    before = normalise_newlines(data[:start].decode("utf-8"))
    line = before.count("\n") + 1
    column = len(before) - (before.rfind("\n") + 1) + 1
    source = normalise_newlines(data.decode("utf-8", errors="replace"))
    return NotUtf8(file, source, line, column, data[start])

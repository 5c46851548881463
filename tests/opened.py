"""Which files the code under test opens, seen through Python's `open` audit event.

`with opened() as names:` collects the path of every file opened in this process meanwhile
(`open`, `io.open`, `os.open`, `Path.open`, `Path.read_bytes`...). Tests use it to prove
that a file was refused by `stat` alone, without being read: a fact about the code's
behaviour, where a wall-clock bound would only guess at it.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

_watchers: list[list[str]] = []
_lock = threading.Lock()
_installed = False


def _hook(event: str, args: tuple[object, ...]) -> None:
    if event != "open" or not _watchers:
        return
    path = args[0] if args else None
    if isinstance(path, (str, bytes, os.PathLike)):
        name = os.path.abspath(os.fsdecode(path))  # now: the working folder may change
        for names in list(_watchers):
            names.append(name)


@contextlib.contextmanager
def opened() -> Iterator[list[str]]:
    """The absolute paths of the files opened inside the `with` block."""
    global _installed
    with _lock:
        if not _installed:
            sys.addaudithook(_hook)  # hooks cannot be removed: one, installed once
            _installed = True
    names: list[str] = []
    _watchers.append(names)
    try:
        yield names
    finally:
        _watchers.remove(names)


def was_opened(names: list[str], path: Path) -> bool:
    """Whether `path` (through any symlink) is among `names`."""
    target = os.path.realpath(path)
    return any(os.path.realpath(name) == target for name in names)

"""Small file-system helpers every stage shares: atomic writes, newlines, streaming hashes.

- `write_atomic(path, text_or_bytes)` replaces a file in one step: the data goes to a
  temporary file in the same folder, is flushed to disk (`fsync`), and is renamed over the
  target (`os.replace` is atomic within one folder). A crash, a kill or a full disk leaves
  the old file or the new one, never half of one, and never a stray temporary file.
- `atomic_path(path)` is the same for a file some other tool writes (ffmpeg, Pillow,
  OpenTimelineIO): it hands out the temporary path and renames it into place on success.
- `normalise_newlines(text)` turns `\\r\\n` and a lone `\\r` into `\\n`, the one form the
  parser, the checker, the formatter and the editor tooling see.
- `file_sha256(path_or_file)` hashes a file in 1 MB blocks, never reading it whole.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

HASH_BLOCK = 1 << 20


def normalise_newlines(text: str) -> str:
    """`\\r\\n` (Windows) and a lone `\\r` (old Mac) become `\\n`."""
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _temporary_name(path: Path, suffix: str = "") -> Path:
    """A fresh hidden name next to `path`: unique per process, thread and call."""
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp{suffix}")


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _keep_mode(temporary: Path, target: Path) -> None:
    """Give the new file the permissions of the file it replaces (a new file keeps the
    umask's)."""
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except OSError:
        return
    os.chmod(temporary, mode)


def write_atomic(path: Path | str, data: str | bytes, *, encoding: str = "utf-8") -> Path:
    """Replace `path` with `data` in one step (text is written as `encoding`, newlines as
    given). Returns `path`. On any failure the temporary file is removed and the error
    raised; the old file, if any, is untouched."""
    path = Path(path)
    payload = data.encode(encoding) if isinstance(data, str) else data
    while True:
        temporary = _temporary_name(path)
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:  # pragma: no cover - 32 random bits collided
            continue
        break
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        _keep_mode(temporary, path)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


@contextlib.contextmanager
def atomic_path(path: Path | str, suffix: str = "") -> Iterator[Path]:
    """A temporary path next to `path` for a tool to write; renamed onto `path` when the
    block ends without an error (and the tool made the file), removed otherwise.

    `suffix` ends the temporary name, for tools that choose a format by extension
    (`.jpg`, `.otio`).
    """
    path = Path(path)
    temporary = _temporary_name(path, suffix)
    try:
        yield temporary
        _fsync_file(temporary)
        _keep_mode(temporary, path)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def file_sha256(source: Path | str | BinaryIO) -> str:
    """The sha256 of a file, read in 1 MB blocks (a reference is never read whole into
    memory). `source` is a path, or a file already open for binary reading (read from
    where it stands to its end, and not closed)."""
    if not isinstance(source, Path | str):
        return _stream_sha256(source)
    with Path(source).open("rb") as f:
        return _stream_sha256(f)


def _stream_sha256(f: BinaryIO) -> str:
    digest = hashlib.sha256()
    for block in iter(lambda: f.read(HASH_BLOCK), b""):
        digest.update(block)
    return digest.hexdigest()

"""The stamp `storyc build` checks before compiling: is the film already what a build makes?

A build that finishes records, in `DIR/.storyc-inputs.json`, everything its result depends
on: the story's bytes (sha256, with its size and mtime so an untouched file is not read
again), the options that change an output, storyc's version and code, the environment
variables storyc reads (as one digest: they may hold keys), every file the build opened to
read (references, keyframes, the picks lock, config files, grammar, model table, templates:
seen through an audit hook, so a new kind of input cannot be forgotten here), the files
whose absence mattered (lock, configs not written yet), and every file under DIR (clips,
film, subtitles, edit list, plan.json, keyframes, takes).

`is_fresh` checks it in a new process with the standard library alone (no front end, no
jinja2, pydantic, lark, numpy, moviepy or httpx): os.stat calls, one small read and hash of
the story, one walk of DIR. Anything it cannot prove unchanged answers False and the build
takes the normal path, so the worst a mistake here costs is time, never a stale film:

- a file is the same only when its size, mtime_ns and inode all match (a replacement made
  by `mv` keeps the mtime but not the inode);
- an input modified less than `RACY_S` before the build started, or while it ran, gets no
  stamp at all (a later write in the same timestamp tick would be invisible to stat, the
  race git calls "racily clean"); the next build records it;
- the stamp is removed when a build starts, and written only after it succeeded.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from storyc import __version__

STAMP_NAME = ".storyc-inputs.json"
STAMP_VERSION = 1
ASSEMBLY_STAMP_NAME = ".storyc-build.json"
"""`storyc.assemble.stamp.STAMP_NAME` (not imported: that module imports the plan schema)."""

RACY_S = 2.0
"""Inputs changed this recently when a build starts are not trusted to stat alone."""

MAX_OUT_FILES = 5000
"""A folder with more files than this under DIR is not walked on every build: no stamp."""

ENV_PREFIXES = ("STORYC_", "OPENAI_", "FAL_", "PRODIA_", "RUNWAYML_", "IMAGEIO_")
ENV_NAMES = ("HOME", "XDG_CONFIG_HOME")
"""The environment storyc reads (providers' URLs and modes, cache, config, ffmpeg)."""

_PACKAGE_DIR = Path(__file__).resolve().parent.parent
_CODE_SUFFIXES = (".py", ".toml", ".j2", ".lark", ".json")

FileState = list[Any]
"""[size, mtime_ns, inode], or None for a file that is not there."""


@dataclass(frozen=True)
class BuildKey:
    """What the build was asked for: any difference means another stamp."""

    story: str
    out_dir: str
    """Both absolute; `as_given` keeps them as typed (plan.json names the story so)."""
    as_given: tuple[str, str]
    provider: str | None
    from_keyframes: bool
    absolute_paths: bool
    allow_paths: tuple[str, ...]
    cwd: str

    @classmethod
    def of(
        cls,
        story: Path,
        out_dir: Path,
        *,
        provider: str | None,
        from_keyframes: bool,
        absolute_paths: bool,
        allow_paths: Iterable[Path],
    ) -> BuildKey:
        return cls(
            story=str(Path(story).absolute()),
            out_dir=str(Path(out_dir).absolute()),
            as_given=(str(story), str(out_dir)),
            provider=provider,
            from_keyframes=from_keyframes,
            absolute_paths=absolute_paths,
            allow_paths=tuple(str(Path(p).absolute()) for p in allow_paths),
            cwd=os.getcwd(),
        )


def _state(path: str) -> FileState | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns, stat.st_ino]


SECRET_SUFFIXES = ("_KEY", "_TOKEN", "_SECRET")
"""API keys change no film, and even a hash of one has no place in a file in the project."""


def environment_digest() -> str:
    chosen = sorted(
        (name, value)
        for name, value in os.environ.items()
        if (name.startswith(ENV_PREFIXES) or name in ENV_NAMES)
        and not name.endswith(SECRET_SUFFIXES)
    )
    return hashlib.sha256(json.dumps(chosen).encode("utf-8")).hexdigest()


def code_digest() -> str:
    """storyc's own files by name, size and mtime (a changed module may change the film),
    with the grammar and the prompt templates wherever this install keeps them (a process
    that read them before the build started, such as a test run, would not see them read)."""
    from storyc.resources import shipped_dir

    found: list[tuple[str, int, int]] = []
    folders = (_PACKAGE_DIR, shipped_dir("grammar"), shipped_dir("templates"))
    for folder, dirs, files in (entry for root in folders for entry in os.walk(root)):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith("."))
        for name in sorted(files):
            if name.endswith(_CODE_SUFFIXES):
                stat = os.stat(os.path.join(folder, name))
                found.append((os.path.join(folder, name), stat.st_size, stat.st_mtime_ns))
    return hashlib.sha256(json.dumps([__version__, found]).encode("utf-8")).hexdigest()


def out_files(out_dir: str) -> dict[str, FileState] | None:
    """Every file under DIR but the stamps and hidden folders (scratch, caches), by
    relative path; None when there are too many to check on every build."""
    found: dict[str, FileState] = {}
    for folder, dirs, files in os.walk(out_dir):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if folder == out_dir and name in (STAMP_NAME, ASSEMBLY_STAMP_NAME):
                continue
            path = os.path.join(folder, name)
            state = _state(path)
            if state is not None:
                found[os.path.relpath(path, out_dir)] = state
            if len(found) > MAX_OUT_FILES:
                return None
    return found


def _story_digest(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError:
        return None


def is_fresh(key: BuildKey) -> bool:
    """True only when every recorded input and output is as the last successful build of
    this same request left it (see the module's docstring). Never raises."""
    try:
        return _is_fresh(key)
    except Exception:  # an odd stamp or file system answer means: build normally
        return False


def _is_fresh(key: BuildKey) -> bool:
    try:
        with open(os.path.join(key.out_dir, STAMP_NAME), encoding="utf-8") as handle:
            recorded = json.load(handle)
    except (OSError, ValueError):
        return False
    if not isinstance(recorded, dict) or recorded.get("version") != STAMP_VERSION:
        return False
    if recorded.get("key") != json.loads(json.dumps(asdict(key))):
        return False
    story = recorded["story"]
    if _state(key.story) != story["state"] and _story_digest(key.story) != story["sha256"]:
        return False
    if any(_state(path) != state for path, state in recorded["inputs"]):
        return False
    if recorded["out"] != out_files(key.out_dir):
        return False
    return recorded["env"] == environment_digest() and recorded["code"] == code_digest()


def clear(out_dir: Path) -> None:
    with contextlib.suppress(OSError):
        (out_dir / STAMP_NAME).unlink()


# -- recording (the slow path: imports here may be heavy) ----------------------------------


@dataclass
class _Seen:
    reads: dict[str, FileState | None] = field(default_factory=dict)
    """Path -> its state when it was first opened to read."""
    writes: set[str] = field(default_factory=set)
    listed: set[str] = field(default_factory=set)


_active: list[_Seen] = []
_hooked = False
_MADE = ("os.rename", "os.link", "os.symlink")
_EVENTS = ("open", "os.listdir", "os.scandir", "os.remove", *_MADE)
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def _audit(event: str, args: tuple[Any, ...]) -> None:
    # Runs for every audited event of the process, in any thread: cheap, and never raises
    # (an exception here would fail the open that triggered it).
    if not _active or event not in _EVENTS:
        return
    try:
        if event in _MADE:  # (src, dst, ...): the build wrote dst (`write_atomic`'s rename)
            _active[-1].writes.add(os.path.abspath(os.fsdecode(args[1])))
            return
        raw = args[0]
        if raw is None or isinstance(raw, int):
            return
        path = os.path.abspath(os.fsdecode(raw))
        seen = _active[-1]
        if event == "os.remove":
            seen.writes.add(path)
            return
        if event != "open":
            seen.listed.add(path)
            return
        mode, flags = args[1], args[2]
        writing = (isinstance(mode, str) and any(c in mode for c in "wxa+")) or (
            isinstance(flags, int) and flags & _WRITE_FLAGS
        )
        if writing:
            seen.writes.add(path)
        elif path not in seen.reads:
            seen.reads[path] = _state(path)
    except Exception:  # a hook must not break the program it watches
        pass


@contextlib.contextmanager
def watching_files() -> Iterator[_Seen]:
    """Note every file this process opens (and folder it lists) while the block runs."""
    global _hooked
    if not _hooked:
        sys.addaudithook(_audit)  # hooks cannot be removed: it idles when nothing watches
        _hooked = True
    seen = _Seen()
    _active.append(seen)
    try:
        yield seen
    finally:
        _active.remove(seen)


@dataclass(frozen=True)
class StoryRead:
    """The story as it was before the build read it."""

    state: FileState | None
    sha256: str | None
    taken_ns: int

    @classmethod
    def now(cls, story: Path) -> StoryRead:
        taken = time.time_ns()
        return cls(_state(str(story)), _story_digest(str(story)), taken)


def _outside(path: str, roots: Iterable[str]) -> bool:
    return not any(path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def _scratch(path: str, writes: set[str]) -> bool:
    """`path` is, or sits in, a folder this build wrote files into."""
    folders = {path, os.path.dirname(path)}
    return any(os.path.dirname(written) in folders for written in writes)


def record(
    key: BuildKey,
    before: StoryRead,
    seen: _Seen,
    *,
    maybe_inputs: Iterable[Path],
    unlisted_roots: Iterable[Path] = (),
) -> str | None:
    """Write the stamp after a successful build. Returns None, or why no stamp was written
    (an input changed during the build, or too recently to trust its mtime).

    `maybe_inputs` are files whose appearance would change the build (the picks lock,
    config files); `unlisted_roots` are folders whose listings are bookkeeping, not inputs
    (the clip cache). Python's own files (its prefixes) are not inputs, except inside the
    story's folder, where a reference may sit beside a virtual environment."""
    clear(Path(key.out_dir))
    if before.state is None or before.sha256 is None:
        return "the story could not be read"
    if _state(key.story) != before.state or _story_digest(key.story) != before.sha256:
        return "the story changed during the build"
    racy_ns = before.taken_ns - int(RACY_S * 1e9)
    if before.state[1] >= racy_ns:
        return "the story was changed just before the build"
    project = [os.path.dirname(key.story)]
    python = [p for p in {sys.prefix, sys.base_prefix, sys.exec_prefix} if _outside(p, project)]
    skipped = [
        *python,
        str(_PACKAGE_DIR),  # in `code`
        key.out_dir,  # in `out`
        key.story,
        "/proc",
        "/dev",
        "/sys",
    ]
    inputs: dict[str, FileState | None] = {}
    for path, state in seen.reads.items():
        if path in seen.writes or not _outside(path, skipped) or path.endswith((".pyc", ".so")):
            continue
        if state is not None and _state(path) is None and _scratch(path, seen.writes):
            continue  # a folder the build made, filled and removed (the preview's stills)
        if state is None:  # looked for and not there: its arrival changes the build
            if _state(path) is not None:
                return f"{path} appeared during the build"
        elif _state(path) != state or state[1] >= racy_ns:
            return f"{path} changed during the build or just before"
        inputs[path] = state
    for path in map(str, (Path(p).absolute() for p in maybe_inputs)):
        state = _state(path)
        if state is not None and state[1] >= racy_ns:
            return f"{path} was changed just before the build"
        inputs.setdefault(path, state)
    search_path = {os.path.abspath(entry or ".") for entry in sys.path}
    bookkeeping = [*skipped, *(str(Path(p).absolute()) for p in unlisted_roots)]
    for path in seen.listed:
        # A folder's mtime moves when a file appears in it or leaves: a keyframe made since.
        # Not the import system's folders (sys.path), nor the clip cache's (every build
        # of every story writes its journal there).
        if _outside(path, bookkeeping) and path not in search_path:
            state = _state(path)
            if state is not None and state[1] >= racy_ns:
                return f"folder {path} changed just before the build"
            inputs[path] = state
    out = out_files(key.out_dir)
    if out is None:
        return f"more than {MAX_OUT_FILES} files in {key.out_dir}"
    stamp = {
        "version": STAMP_VERSION,
        "key": asdict(key),
        "story": {"state": before.state, "sha256": before.sha256},
        "inputs": sorted(inputs.items()),
        "out": out,
        "env": environment_digest(),
        "code": code_digest(),
    }
    from storyc.fsutil import write_atomic

    write_atomic(Path(key.out_dir) / STAMP_NAME, json.dumps(stamp))
    return None

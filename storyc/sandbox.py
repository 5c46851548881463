"""Where the files a story references may live, and which of them storyc will read at all.

A story names files (cameo references, first frames) that the renderers upload to a paid
provider. A story from someone else's repository must not be able to send
`~/.ssh/id_ed25519`, or `/etc/passwd` through a symlink in its `refs/` folder. So every
reference must resolve, after following symlinks, inside the story's *project root* (the
nearest folder at or above the story's folder holding a `storyc.toml`, else the story's own
folder) or inside a folder the *user* allowed: `--allow-path DIR` on the command line, or
`allow-paths` under `[tool.storyc]` in the user's own config file. Nothing the story or its
repository says can widen the sandbox.

    policy = policy_for(Path("film/cafe.story"), [Path("~/footage")])
    policy.check(path)             # None, or why the path may not be used (a phrase)
    policy.file_problem(path)      # the same, plus: a regular file within the size limit
    with policy.open(path) as f:   # the checked file, checked again once it is open
        ...

Problems are phrases meant to follow the path's name: f"{path} {problem}".

What a file is goes by its content: an image decodes, a video probes with frames, and an
audio reference (a cameo's voice sample) probes with an audio stream (`audio_length`).
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from storyc.errors import StorycError, UsageError

PROJECT_MARKER = "storyc.toml"
CONFIG_ENV = "STORYC_CONFIG"
CONFIG_HINT = "~/.config/storyc/config.toml"

MAX_VIDEO_BYTES = 512 * 1024 * 1024
"""The largest video reference storyc reads (providers take far smaller ones)."""
MAX_IMAGE_BYTES = 50 * 1024 * 1024
"""The largest image reference storyc reads."""
MAX_AUDIO_BYTES = 50 * 1024 * 1024
"""The largest audio reference (a cameo's voice sample) storyc reads: minutes of WAV, far
beyond the 15 s the providers take."""
MAX_REFERENCE_BYTES = max(MAX_VIDEO_BYTES, MAX_IMAGE_BYTES, MAX_AUDIO_BYTES)
"""Before its content says what a file is, nothing larger is read at all."""
MAX_IMAGE_PIXELS = 40_000_000
"""An image is decoded only below this many pixels (8K UHD is 33 million)."""

ALLOW_HINT = (
    "copy the file into the project folder, or allow its folder with `--allow-path DIR` "
    f"or `allow-paths` in {CONFIG_HINT}"
)


class ReferenceRefused(StorycError):
    """A reference file that may not be read: outside the sandbox, not a file, too large."""


@dataclass(frozen=True)
class ReferencePolicy:
    """The folders a story's references may resolve into (all absolute and resolved)."""

    project_root: Path
    allowed: tuple[Path, ...] = ()
    """Folders (or single files) the user allowed besides the project root."""

    @classmethod
    def for_story(cls, story: Path | str, allowed: Sequence[Path] = ()) -> ReferencePolicy:
        """The policy for one story: its project root plus `allowed` (already the user's)."""
        return cls(project_root(Path(story)), tuple(_resolved(p) for p in allowed))

    @property
    def roots(self) -> tuple[Path, ...]:
        return (self.project_root, *self.allowed)

    def allows(self, real: Path) -> bool:
        """Whether a resolved path is inside the project root or an allowed path."""
        return any(real == root or real.is_relative_to(root) for root in self.roots)

    def check(self, path: Path | str) -> str | None:
        """None when `path` (absolute, as the story spells it) resolves inside the sandbox;
        otherwise a phrase saying where it resolves to. Reads links, never the file."""
        lexical = Path(path).absolute()
        real = real_path(lexical)
        if real is None:
            return "is a symlink that leads nowhere (a loop)"
        if self.allows(real):
            return None
        return f"{_where_it_goes(lexical, real)} outside {self.describe()}"

    def describe(self) -> str:
        where = f"the project folder {self.project_root}"
        if self.allowed:
            count = len(self.allowed)
            where += f" and the {count} allowed path{'s' if count != 1 else ''}"
        return where

    def file_problem(self, path: Path | str, limit: int = MAX_REFERENCE_BYTES) -> str | None:
        """`check`, then: an existing regular file of at most `limit` bytes (stat only)."""
        return self.check(path) or regular_file_problem(Path(path), limit)

    def open(self, path: Path | str, limit: int = MAX_REFERENCE_BYTES) -> BinaryIO:
        """Open a reference for reading (an upload): checked before, and again on the file
        actually opened, so a symlink swapped in between the check and the read is caught.
        Raises `ReferenceRefused`."""
        problem = self.file_problem(path, limit)
        if problem is not None:
            raise ReferenceRefused(f"{path} {problem}", hint=ALLOW_HINT)
        real = real_path(Path(path).absolute())
        assert real is not None  # `check` refused the loops
        handle = open_regular(real, limit)
        opened = _opened_path(handle)
        if opened is not None and not self.allows(opened):
            handle.close()
            raise ReferenceRefused(
                f"{path} changed while storyc read it: it now leads to {opened}, "
                f"outside {self.describe()}",
                hint=ALLOW_HINT,
            )
        return handle


def project_root(story: Path) -> Path:
    """The nearest folder at or above the story's folder with a `storyc.toml`, else the
    story's folder (resolved, so symlinked folders compare as what they are)."""
    folder = Path(story).absolute().parent.resolve(strict=False)
    for candidate in (folder, *folder.parents):
        if (candidate / PROJECT_MARKER).is_file():
            return candidate
    return folder


def regular_file_problem(path: Path, limit: int = MAX_REFERENCE_BYTES) -> str | None:
    """None for an existing regular file of at most `limit` bytes; else why not.

    Uses `os.stat` only: a FIFO is never opened (that would hang) and a huge or sparse
    file is refused by its size before a byte of it is read."""
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return "does not exist"
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    return mode_problem(info.st_mode) or size_problem(info.st_size, limit)


def mode_problem(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    if stat.S_ISFIFO(mode):
        return "is a FIFO (named pipe), not a regular file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a regular file"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a regular file"
    return "is not a regular file"


def size_problem(size: int, limit: int, what: str = "a reference") -> str | None:
    if size <= limit:
        return None
    return f"is {human_size(size)}; storyc reads {what} of at most {human_size(limit)}"


def human_size(size: int) -> str:
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def open_regular(path: Path, limit: int = MAX_REFERENCE_BYTES) -> BinaryIO:
    """Open `path` for reading only if what was opened is a regular file within `limit`.

    O_NONBLOCK makes opening a FIFO that appeared since the last stat return at once (and
    is then refused by fstat) instead of waiting for a writer. Raises `ReferenceRefused`."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise ReferenceRefused(f"{path} cannot be read ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        problem = mode_problem(info.st_mode) or size_problem(info.st_size, limit)
        if problem is not None:
            raise ReferenceRefused(f"{path} {problem}")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _opened_path(handle: BinaryIO) -> Path | None:
    """Where the open file really is, from the kernel (Linux); None where it cannot say."""
    link = Path(f"/proc/self/fd/{handle.fileno()}")
    try:
        return Path(os.readlink(link))
    except OSError:
        return None


def real_path(path: Path) -> Path | None:
    """`path` with every symlink followed (None for a symlink loop)."""
    try:
        return path.resolve(strict=False)
    except (RuntimeError, OSError):  # 3.11 raises RuntimeError for a loop, 3.13 OSError
        return None


def _resolved(path: Path) -> Path:
    """A path the user gave (an allowed folder): `~` is theirs to use, unlike a story's."""
    return Path(path).expanduser().resolve(strict=False)


def _where_it_goes(lexical: Path, real: Path) -> str:
    """The start of the phrase: where the path really leads, unless it says so itself."""
    if lexical.is_symlink():
        return f"is a symlink to {real},"
    if lexical != real:  # a `..`, or a symlinked folder on the way
        return f"resolves to {real},"
    return "is"


# Audio references ------------------------------------------------------------------------

_AUDIO_STREAM = re.compile(r"Stream #\d+:\d+.*?: Audio: \w+")
_VIDEO_STREAM = re.compile(r"Stream #\d+:\d+.*?: Video: ")


def audio_length(path: Path, size: int, *, timeout_s: float = 30.0) -> int | str | None:
    """The length in ms of a file whose content is audio ffmpeg reads whole (an audio stream
    with packets, and no video: a video is a video reference); a phrase when it is audio
    that may not be used (too large); None when it is not audio at all.

    Only for a file already inside the sandbox. ffmpeg copies the packets without decoding
    them, so a long file costs little; a cut-off or broken file fails."""
    from storyc.probe import ffmpeg_exe

    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-i", str(path)]
    cmd += ["-map", "0:a:0", "-c", "copy", "-f", "framecrc", "-"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    except (OSError, subprocess.TimeoutExpired, StorycError):
        return None
    header = done.stderr
    if done.returncode != 0 or not _AUDIO_STREAM.search(header) or _VIDEO_STREAM.search(header):
        return None
    length = _packets_end_ms(done.stdout)
    if length is None:
        return None
    return size_problem(size, MAX_AUDIO_BYTES, "an audio file") or length


def _packets_end_ms(framecrc: str) -> int | None:
    """Where the last packet of ffmpeg's `framecrc` listing (one stream) ends, ms."""
    time_base: tuple[int, int] | None = None
    end = 0
    for line in framecrc.splitlines():
        if line.startswith("#tb "):
            num, _, den = line.partition(":")[2].strip().partition("/")
            time_base = (int(num), int(den))
        elif line and not line.startswith("#"):
            fields = line.split(",")
            end = max(end, int(fields[2]) + int(fields[3]))
    if time_base is None or end <= 0:
        return None
    return round(end * 1000 * time_base[0] / time_base[1])


# The user's own configuration ------------------------------------------------------------


def user_config_path() -> Path:
    """`$STORYC_CONFIG`, else `$XDG_CONFIG_HOME/storyc/config.toml` (~/.config by default)."""
    named = os.environ.get(CONFIG_ENV)
    if named:
        return Path(named).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "storyc" / "config.toml"


def user_allowed_paths(config: Path | None = None) -> tuple[Path, ...]:
    """`allow-paths` under `[tool.storyc]` in the user's config file (none if it is absent).

    Relative entries are relative to the config file's folder; entries that do not exist
    are kept (resolved as they would be), so one config serves several machines."""
    path = config if config is not None else user_config_path()
    named = config is None and bool(os.environ.get(CONFIG_ENV))
    if not path.exists():
        if named:
            raise StorycError(
                f"{CONFIG_ENV} names {path}, which does not exist",
                hint=f"create it or unset {CONFIG_ENV}",
                exit_code=2,
            )
        return ()
    table = _config_table(path)
    entries = table.get("allow-paths", [])
    if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
        raise StorycError(
            f"{path}: `allow-paths` under [tool.storyc] must be a list of folder names",
            hint='allow-paths = ["~/footage"]',
            exit_code=2,
        )
    return tuple(_resolved(path.parent / Path(entry).expanduser()) for entry in entries)


def _config_table(path: Path) -> dict[str, object]:
    problem = regular_file_problem(path, 1024 * 1024)
    if problem is not None:
        raise StorycError(f"storyc's config {path} {problem}", exit_code=2)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise StorycError(f"{path} is not UTF-8 text", exit_code=2) from None
    except tomllib.TOMLDecodeError as exc:
        raise StorycError(f"{path} is not valid TOML: {exc}", exit_code=2) from None
    except OSError as exc:
        raise StorycError(f"cannot read {path} ({exc.strerror})", exit_code=2) from None
    tool = data.get("tool", {})
    table = tool.get("storyc", {}) if isinstance(tool, dict) else None
    if not isinstance(table, dict):
        raise StorycError(f"{path}: [tool.storyc] must be a table", exit_code=2)
    return table


def allowed_paths(extra: Iterable[Path] = ()) -> tuple[Path, ...]:
    """The user's allowed paths: `--allow-path` options (which must exist), then the config's."""
    given: list[Path] = []
    for path in extra:
        real = _resolved(path)
        if not real.exists():
            raise UsageError(f"--allow-path {path}: no such file or folder")
        given.append(real)
    return tuple(dict.fromkeys([*given, *user_allowed_paths()]))


def policy_for(story: Path | str, extra: Iterable[Path] = ()) -> ReferencePolicy:
    """The policy a command applies to `story`: its project root, `--allow-path` and the
    user's config. Raises `StorycError` for a broken config, `UsageError` for a bad option."""
    return ReferencePolicy.for_story(story, allowed_paths(extra))

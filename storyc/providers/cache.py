"""The content-addressed clip cache: a rendered clip is never rendered (or paid for) twice.

The key is the clip's `id` from the plan, a hash of everything that changes its pixels, so a
file `<id>.mp4` is the clip whatever the story file is called. Files enter the cache only
whole: they are written to a temporary file in the cache folder, probed, flushed to disk and
renamed into place (`os.replace` is atomic within one folder), so a crash, a kill or a cut
download leaves at worst a stray `*.part` file, never a broken `<id>.mp4`.

Every file is probed whole (ffmpeg reads every packet) once, when it enters the cache or is
first found there; a small record beside it (`.<id>.probed`: its size and modification time
then) lets later runs, in any process, take it without probing again. A file changed since
(another size or time) is probed again.

Default location: `.storyc/cache` next to the story, or `$STORYC_CACHE_DIR`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import time
from pathlib import Path

from storyc.errors import StorycError
from storyc.fsutil import write_atomic
from storyc.probe import MediaInfo, ProbeError, probe

CACHE_DIR_ENV = "STORYC_CACHE_DIR"
DEFAULT_DIR = Path(".storyc") / "cache"
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def cache_dir_for(story_path: Path) -> Path:
    """Where the cache of the story at `story_path` lives (`$STORYC_CACHE_DIR` wins)."""
    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        return Path(override).expanduser()
    return Path(story_path).resolve().parent / DEFAULT_DIR


class ClipCache:
    """Finished clips keyed by clip id, in one folder."""

    suffix = ".mp4"
    """The finished files' suffix (the keyframe cache keeps `.png` stills)."""

    def check(self, path: Path) -> MediaInfo:
        """What a file must pass to be in the cache; raises `ProbeError` if it does not."""
        return probe(path)

    def __init__(self, root: Path):
        self.root = Path(root)
        # Files already probed in this process, keyed by (size, mtime): probing is cheap but
        # not free, and the scheduler asks about every clip.
        self._valid: dict[Path, tuple[int, int]] = {}

    @classmethod
    def for_story(cls, story_path: Path) -> ClipCache:
        return cls(cache_dir_for(story_path))

    def ensure(self) -> None:
        """Create the cache folder; a clear error if that is impossible."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorycError(
                f"cannot create the render cache at {self.root}: {exc.strerror}",
                hint=f"set {CACHE_DIR_ENV} to a writable folder",
            ) from exc

    def path_for(self, clip_id: str) -> Path:
        if not _SAFE_ID.match(clip_id):
            # The id names a file: refuse anything that could climb out of the folder.
            raise StorycError(f"clip id {clip_id!r} is not a valid cache key")
        return self.root / f"{clip_id}{self.suffix}"

    def lookup(self, clip_id: str) -> Path | None:
        """The cached file for `clip_id` if it is there and whole, else None.

        A file that fails `check` (it cannot normally get there, but disks and people do
        things) is renamed `<id>.mp4.invalid` so it is kept for inspection, not reused.
        """
        path = self.path_for(clip_id)
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        signature = (stat.st_size, stat.st_mtime_ns)
        if self._valid.get(path) == signature:
            return path
        if stat.st_size > 0 and self._recorded(path) == signature:
            self._valid[path] = signature
            return path
        if stat.st_size > 0:
            try:
                self.check(path)
            except ProbeError:
                pass
            else:
                self._valid[path] = signature
                self._record(path, signature)
                return path
        with contextlib.suppress(OSError):
            os.replace(path, path.with_name(path.name + ".invalid"))
        return None

    def new_temp(self, clip_id: str) -> Path:
        """A fresh empty temporary file in the cache folder, for a download or an encode.

        It lives in the same folder as the final file so that `store` is a rename, never a
        copy across file systems. Its name ends in `.part` (never `.mp4`) so nothing mistakes
        it for a finished clip.
        """
        self.ensure()
        self.path_for(clip_id)  # validates the id
        while True:
            path = self.root / f".{clip_id}.{secrets.token_hex(6)}{self.suffix}.part"
            try:
                # Not mkstemp: its 0600 would follow the file into the cache and the
                # output folder; 0666 minus the umask is what any other file gets.
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            except FileExistsError:
                continue
            os.close(fd)
            return path

    def store(self, clip_id: str, source: Path) -> tuple[Path, MediaInfo]:
        """Probe `source`, flush it to disk and move it into the cache atomically.

        Raises `ProbeError` (and leaves the cache untouched) if `source` is not a whole
        video. `source` should come from `new_temp` so the move is a same-folder rename.
        """
        info = self.check(source)
        target = self.path_for(clip_id)
        with open(source, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(source, target)
        _fsync_dir(self.root)
        stat = target.stat()
        self._valid[target] = (stat.st_size, stat.st_mtime_ns)
        self._record(target, self._valid[target])
        return target, info

    @staticmethod
    def _record_path(path: Path) -> Path:
        return path.with_name(f".{path.stem}.probed")

    def _recorded(self, path: Path) -> tuple[int, int] | None:
        """(size, mtime_ns) the file had when it last passed the probe, if recorded."""
        try:
            size, mtime_ns = json.loads(self._record_path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError, TypeError):
            return None
        if not isinstance(size, int) or not isinstance(mtime_ns, int):
            return None
        return size, mtime_ns

    def _record(self, path: Path, signature: tuple[int, int]) -> None:
        """Remember that the file passed the probe as it is now (best effort: a cache we
        cannot write the record to is probed again next time)."""
        with contextlib.suppress(OSError):
            write_atomic(self._record_path(path), json.dumps(list(signature)))

    def discard(self, temp: Path) -> None:
        """Remove a temporary file that will not be stored (missing is fine)."""
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()

    def sweep_partials(self, *, older_than_s: float = 24 * 3600) -> int:
        """Delete `*.part` files that killed runs left behind; return how many.

        Only old ones: another `storyc render` on the same cache may be writing a young one.
        """
        if not self.root.is_dir():
            return 0
        cutoff = time.time() - older_than_s
        removed = 0
        for leftover in self.root.glob(f".*{self.suffix}.part"):
            with contextlib.suppress(OSError):
                if leftover.stat().st_mtime < cutoff:
                    leftover.unlink()
                    removed += 1
        return removed


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; not every platform lets a folder be opened.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

"""What storyc has already uploaded to a provider, so a reference file is uploaded once.

OpenAI's characters (cameos) are uploaded once and then named by id in every clip that uses
them. The store remembers the id per (provider, key fingerprint, file sha256) in a small JSON
file in the cache folder. The fingerprint is a hash of the key, never the key: a different
account gets its own uploads, and nothing secret is written.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storyc.fsutil import write_atomic

if TYPE_CHECKING:
    from storyc.sandbox import ReferencePolicy

STORE_NAME = "uploads.json"


def default_cache_dir() -> Path:
    """The cache folder when the caller names none: `$STORYC_CACHE_DIR` or `.storyc/cache`."""
    return Path(os.environ.get("STORYC_CACHE_DIR") or Path(".storyc") / "cache")


def key_fingerprint(key: str) -> str:
    """A short, one-way name for a key (which account an upload belongs to)."""
    return hashlib.sha256(b"storyc-key-fingerprint:" + key.encode()).hexdigest()[:16]


class UploadStore:
    """A JSON map `provider:fingerprint:sha256 -> record`, written atomically."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / STORE_NAME
        self._lock = threading.Lock()

    @staticmethod
    def _name(provider: str, fingerprint: str, sha256: str) -> str:
        return f"{provider}:{fingerprint}:{sha256}"

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, provider: str, fingerprint: str, sha256: str) -> dict[str, Any] | None:
        with self._lock:
            record = self._read().get(self._name(provider, fingerprint, sha256))
        return record if isinstance(record, dict) else None

    def put(self, provider: str, fingerprint: str, sha256: str, record: dict[str, Any]) -> None:
        with self._lock:
            data = self._read()
            data[self._name(provider, fingerprint, sha256)] = record
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, json.dumps(data, indent=2, sort_keys=True))


def read_reference(
    path: str | Path, *, policy: ReferencePolicy | None, provider: str, clip: str
) -> bytes:
    """The bytes of a file a clip sends to `provider`, read the moment before it leaves.

    With a `policy` (every run `storyc render` starts), the file is checked against the
    story's sandbox once more and opened through it, so a symlink swapped in after
    `storyc check` is refused; the size caps bound what is read. A refusal fails the clip
    (`JobRejected`) before anything is paid.
    """
    from storyc.providers.errors import JobRejected
    from storyc.sandbox import MAX_REFERENCE_BYTES, ReferenceRefused, open_regular

    try:
        if policy is not None:
            with policy.open(path) as handle:
                return handle.read()
        with open_regular(Path(path).resolve(), MAX_REFERENCE_BYTES) as handle:
            return handle.read()
    except ReferenceRefused as refused:
        raise JobRejected(provider, f"{refused.message}; nothing was sent", clip) from None
    except OSError as exc:
        raise JobRejected(provider, f"cannot read {path}: {exc.strerror}", clip) from None

"""The render journal: every provider job, recorded the moment it exists.

A paid job must never be paid for twice. The scheduler writes the provider's job id here as
soon as `submit` returns, before it waits for anything, and commits at once (SQLite in WAL
mode, one transaction per write). A run killed at any moment, even by `kill -9`, leaves
either no row (the submit had not returned: nothing to follow) or a row with the job id,
which the next run follows instead of submitting again.

One row per submitted job (a clip rendered again with `--force` gets a second row), in
`journal.sqlite3` inside the cache folder. Keys are never stored: a row holds the job id,
the renderer's follow-up state (status URLs), timestamps, a status and the provider's
error message, all passed through `redact` with the provider keys set in the environment.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from storyc.errors import StorycError
from storyc.render.base import Submitted
from storyc.render.errors import known_secrets, redact

JOURNAL_NAME = "journal.sqlite3"
SCHEMA_VERSION = 1

JobRecordStatus = Literal["submitted", "in_progress", "downloading", "done", "failed", "expired"]
ACTIVE: tuple[JobRecordStatus, ...] = ("submitted", "in_progress", "downloading")
"""A job that was submitted and not yet collected: a rerun follows it."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    clip_id      TEXT NOT NULL,
    provider     TEXT NOT NULL,
    job_id       TEXT NOT NULL,
    state        TEXT NOT NULL DEFAULT '{}',
    status       TEXT NOT NULL,
    submitted_at REAL NOT NULL,
    updated_at   REAL NOT NULL,
    error        TEXT
);
CREATE INDEX IF NOT EXISTS jobs_by_clip ON jobs (clip_id, provider);
"""


@dataclass(frozen=True)
class JobRecord:
    """One row of the journal."""

    row: int
    clip_id: str
    provider: str
    job_id: str
    state: dict[str, str]
    status: JobRecordStatus
    submitted_at: float
    updated_at: float
    error: str | None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def submitted(self) -> Submitted:
        """The `Submitted` handle a renderer needs to follow or download this job."""
        return Submitted(job_id=self.job_id, state=dict(self.state) or None)


class Journal:
    """The SQLite journal of provider jobs in one cache folder.

    Use one `Journal` per process (it holds one connection); the scheduler calls it from
    the event loop's thread only. Other processes may open the same file: SQLite's locking
    and a busy timeout keep them consistent.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: autocommit, so every statement below is its own
            # committed transaction the moment it returns.
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=10.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            # FULL: a committed job id survives not only kill -9 but a power cut.
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.Error as exc:
            raise StorycError(
                f"cannot open the render journal {self.path}: {exc}",
                hint="delete the file only if no render is running and nothing is in flight",
            ) from exc

    @classmethod
    def in_folder(cls, folder: Path) -> Journal:
        return cls(Path(folder) / JOURNAL_NAME)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def record_submit(self, clip_id: str, provider: str, job: Submitted) -> JobRecord:
        """Write a job the provider just accepted; committed before this returns."""
        now = time.time()
        state = _clean(json.dumps(job.state or {}, sort_keys=True))
        cursor = self._db.execute(
            "INSERT INTO jobs (clip_id, provider, job_id, state, status, submitted_at,"
            " updated_at) VALUES (?, ?, ?, ?, 'submitted', ?, ?)",
            (clip_id, provider, _clean(job.job_id), state, now, now),
        )
        row = cursor.lastrowid
        assert row is not None
        return self._get(row)

    def set_status(self, row: int, status: JobRecordStatus, error: str | None = None) -> None:
        """Move job `row` to `status` (with the provider's message for `failed`)."""
        self._db.execute(
            "UPDATE jobs SET status = ?, error = ?, updated_at = ? WHERE id = ?",
            (status, _clean(error) if error else None, time.time(), row),
        )

    def latest(self, clip_id: str, provider: str) -> JobRecord | None:
        """The most recent job for this clip on this provider, whatever its status."""
        found = self._db.execute(
            "SELECT * FROM jobs WHERE clip_id = ? AND provider = ? ORDER BY id DESC LIMIT 1",
            (clip_id, provider),
        ).fetchone()
        return _record(found) if found else None

    def resumable(self, clip_id: str, provider: str) -> JobRecord | None:
        """A job to follow instead of submitting: the latest one, if still active or done.

        `done` is included because the provider may still hold the video if the cached file
        was deleted; a failed or expired job is not (the next run submits anew).
        """
        record = self.latest(clip_id, provider)
        if record and (record.active or record.status == "done"):
            return record
        return None

    def jobs(self, clip_id: str | None = None) -> list[JobRecord]:
        """Every job (of one clip, if given), oldest first."""
        if clip_id is None:
            rows = self._db.execute("SELECT * FROM jobs ORDER BY id").fetchall()
        else:
            rows = self._db.execute(
                "SELECT * FROM jobs WHERE clip_id = ? ORDER BY id", (clip_id,)
            ).fetchall()
        return [_record(row) for row in rows]

    def _get(self, row: int) -> JobRecord:
        return _record(self._db.execute("SELECT * FROM jobs WHERE id = ?", (row,)).fetchone())


def _clean(text: str) -> str:
    return redact(text, known_secrets())


def _record(row: tuple[object, ...]) -> JobRecord:
    row_id, clip_id, provider, job_id, state, status, submitted_at, updated_at, error = row
    return JobRecord(
        row=int(row_id),  # type: ignore[call-overload]
        clip_id=str(clip_id),
        provider=str(provider),
        job_id=str(job_id),
        state=json.loads(str(state)),
        status=status,  # type: ignore[arg-type]
        submitted_at=float(submitted_at),  # type: ignore[arg-type]
        updated_at=float(updated_at),  # type: ignore[arg-type]
        error=str(error) if error is not None else None,
    )

"""The render journal: every paid request, claimed before it leaves and recorded as it goes.

A paid job must never be paid for twice, not by a rerun, not by a second `storyc` process on
the same cache, not after a kill at the worst moment. So every clip goes through these
states, one row per attempt, in `journal.sqlite3` inside the cache folder (SQLite in WAL
mode, every write committed before the call returns):

    claimed ──> sending ──> submitted ──> in_progress ──> downloading ──> done
       │           │            └──────────────┴───────────────┴────────> failed / expired
       │           └──> uncertain ──> (found at the provider) submitted
       │                    └──> abandoned (the writer asked to pay again: --resubmit)
       └──> released (nothing was sent: the next attempt may claim again)

- `claim` checks the clip's latest row and inserts a `claimed` row in one `BEGIN IMMEDIATE`
  transaction, so of two processes asking at once exactly one gets the claim; the other is
  told to wait for it, or to follow the job it became.
- The renderer says `sending` the moment before the paid create request leaves. A create
  whose answer never came (timeout, 5xx, hang-up, Ctrl-C) leaves the row `uncertain`: the job
  may exist, so it is looked for, never sent again on a guess.
- A claim records its owner (host, pid and the process's start time) and a lease that the
  owner renews. A claim whose owner is gone is recovered: `claimed` (nothing left the
  machine) is released, `sending` (the request may have left) becomes `uncertain`.

Keys are never stored: a row holds the job id, the renderer's follow-up state (status URLs),
timestamps, a status and the provider's error message, all passed through `redact` with the
provider keys set in the environment.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from storyc.errors import StorycError
from storyc.providers.base import Submitted
from storyc.providers.errors import known_secrets, redact

JOURNAL_NAME = "journal.sqlite3"
SCHEMA_VERSION = 2
LEASE_S = 120.0
"""How long a claim stays someone's without a renewal (owners renew every third of it)."""

JobRecordStatus = Literal[
    "claimed",
    "sending",
    "uncertain",
    "released",
    "abandoned",
    "submitted",
    "in_progress",
    "downloading",
    "done",
    "failed",
    "expired",
]
ACTIVE: tuple[JobRecordStatus, ...] = ("submitted", "in_progress", "downloading")
"""A job that was submitted and not yet collected: a rerun follows it."""
HELD: tuple[JobRecordStatus, ...] = ("claimed", "sending")
"""A claim some process holds: nobody else submits this clip meanwhile."""
OPEN_AGAIN: tuple[JobRecordStatus, ...] = ("released", "abandoned", "failed", "expired")
"""Nothing of this attempt is running or paid and unseen: the clip may be claimed again."""

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
_ADDED_COLUMNS = {
    "owner": "TEXT NOT NULL DEFAULT ''",
    "lease_until": "REAL NOT NULL DEFAULT 0",
    "sent_at": "REAL",
}
"""Columns of schema 2 (claims); added in place to a schema-1 journal."""


@dataclass(frozen=True)
class JobRecord:
    """One row of the journal: one attempt at one clip on one provider."""

    row: int
    clip_id: str
    provider: str
    job_id: str
    """The provider's id; empty while the row is only a claim or uncertain."""
    state: dict[str, str]
    status: JobRecordStatus
    submitted_at: float
    """When the row was made (the claim, for rows that started as one)."""
    updated_at: float
    error: str | None
    owner: str = ""
    lease_until: float = 0.0
    sent_at: float | None = None
    """When the create request was about to leave (None: it never was)."""

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def submitted(self) -> Submitted:
        """The `Submitted` handle a renderer needs to follow or download this job."""
        return Submitted(job_id=self.job_id, state=dict(self.state) or None)


@dataclass(frozen=True)
class Claimed:
    """This process holds the clip's claim: it may submit (and pay for) it."""

    record: JobRecord


@dataclass(frozen=True)
class Follow:
    """A job exists for the clip (this run's, an earlier run's or another process's)."""

    record: JobRecord


@dataclass(frozen=True)
class Wait:
    """Another live process holds the clip's claim: wait for it to become a job."""

    record: JobRecord


@dataclass(frozen=True)
class Uncertain:
    """A create for the clip was sent and its answer never came: find it, don't resubmit."""

    record: JobRecord


ClaimResult = Claimed | Follow | Wait | Uncertain


def this_process() -> str:
    """The owner tag of this process: host, pid and start time (pids are reused)."""
    return f"{socket.gethostname()}\t{os.getpid()}\t{_start_time(os.getpid())}"


def owner_alive(owner: str, lease_until: float, now: float | None = None) -> bool:
    """Whether the process that wrote `owner` may still be working on its claim.

    On this host the process table answers (and a pid reused by another program is told
    apart by its start time); for another host sharing the cache folder, the lease does.
    """
    now = time.time() if now is None else now
    host, _, rest = owner.partition("\t")
    pid_text, _, started = rest.partition("\t")
    if host != socket.gethostname() or not pid_text.isdigit():
        return lease_until > now
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    return not started or _start_time(pid) in ("", started)


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), or "" where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    # Field 22; the command name (field 2) may hold spaces, so count from its `)`.
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else ""


class Journal:
    """The SQLite journal of provider jobs in one cache folder.

    Use one `Journal` per process (it holds one connection); the scheduler calls it from
    the event loop's thread only. Other processes may open the same file: SQLite's locking,
    `BEGIN IMMEDIATE` around every read-then-write and a busy timeout keep them consistent.
    """

    def __init__(self, path: Path, *, owner: str | None = None):
        self.path = Path(path)
        self.owner = owner or this_process()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: autocommit, so every statement below is its own
            # committed transaction the moment it returns (or an explicit BEGIN's).
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
            self._prepare()
        except (sqlite3.Error, OSError) as exc:
            raise StorycError(
                f"cannot open the render journal {self.path}: {exc}",
                hint="delete the file only if no render is running and nothing is in flight",
            ) from exc

    def _prepare(self) -> None:
        """WAL mode and the schema. Two processes opening a new journal at once can meet
        SQLite's deadlock guard (a lock upgrade fails at once, without the busy timeout),
        so a "locked" answer is tried again for a while."""
        deadline = time.monotonic() + 30.0
        while True:
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                # FULL: a committed claim or job id survives kill -9 and a power cut.
                self._db.execute("PRAGMA synchronous=FULL")
                with self._transaction():
                    for statement in _SCHEMA.strip().split(";"):
                        if statement.strip():
                            self._db.execute(statement)
                    present = {row[1] for row in self._db.execute("PRAGMA table_info(jobs)")}
                    for column, declaration in _ADDED_COLUMNS.items():
                        if column not in present:
                            self._db.execute(f"ALTER TABLE jobs ADD COLUMN {column} {declaration}")
                    self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    @classmethod
    def in_folder(cls, folder: Path, *, owner: str | None = None) -> Journal:
        return cls(Path(folder) / JOURNAL_NAME, owner=owner)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction that takes SQLite's write lock first (no lost updates)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- claims ------------------------------------------------------------------------------

    def claim(
        self, clip_id: str, provider: str, *, force: bool = False, resubmit: bool = False
    ) -> ClaimResult:
        """Decide, atomically, what this process does about `clip_id` on `provider`.

        `force` (render again what is done) ignores a `done` job; `resubmit` (the writer
        said so) abandons an uncertain attempt and claims anew. Neither overrides a job that
        is running or a claim another live process holds.
        """
        now = time.time()
        with self._transaction():
            latest = self._latest(clip_id, provider)
            if latest is not None and latest.status in HELD:
                # Ours too: two clips of one plan can share an id (the same content).
                if latest.owner == self.owner or owner_alive(latest.owner, latest.lease_until, now):
                    return Wait(latest)
                # Its owner is gone. `claimed`: nothing left the machine, claim again.
                # `sending`: the request may have reached the provider.
                if latest.status == "sending":
                    self._set(latest.row, "uncertain", "the run that sent it ended first", now)
                    return Uncertain(self._get(latest.row))
                self._set(latest.row, "released", "the run that claimed it ended", now)
                latest = self._get(latest.row)
            if latest is not None and latest.status == "uncertain":
                if not resubmit:
                    return Uncertain(latest)
                self._set(latest.row, "abandoned", "paid again on purpose (--resubmit)", now)
                latest = self._get(latest.row)
            if latest is not None and (latest.active or (latest.status == "done" and not force)):
                return Follow(latest)
            cursor = self._db.execute(
                "INSERT INTO jobs (clip_id, provider, job_id, state, status, submitted_at,"
                " updated_at, owner, lease_until) VALUES (?, ?, '', '{}', 'claimed', ?, ?, ?, ?)",
                (clip_id, provider, now, now, self.owner, now + LEASE_S),
            )
            row = cursor.lastrowid
            assert row is not None
            return Claimed(self._get(row))

    def sending(self, row: int) -> None:
        """The create request of claim `row` is about to leave: from now on it may be paid."""
        now = time.time()
        self._db.execute(
            "UPDATE jobs SET status = 'sending', sent_at = ?, updated_at = ? WHERE id = ?",
            (now, now, row),
        )

    def attach(self, row: int, job: Submitted) -> JobRecord:
        """The provider accepted the claim's request (or it was found): record the job."""
        now = time.time()
        self._db.execute(
            "UPDATE jobs SET job_id = ?, state = ?, status = 'submitted', error = NULL,"
            " updated_at = ? WHERE id = ?",
            (_clean(job.job_id), _state_json(job), now, row),
        )
        return self._get(row)

    def release(self, row: int, reason: str) -> None:
        """Nothing of claim `row` reached the provider: the clip may be claimed again."""
        self._set(row, "released", reason, time.time())

    def mark_uncertain(self, row: int, reason: str) -> JobRecord:
        """Claim `row`'s create was sent and its answer never came."""
        self._set(row, "uncertain", reason, time.time())
        return self._get(row)

    def renew(self) -> None:
        """Extend the lease of every claim this process holds (called periodically)."""
        now = time.time()
        self._db.execute(
            "UPDATE jobs SET lease_until = ? WHERE owner = ? AND status IN ('claimed', 'sending')",
            (now + LEASE_S, self.owner),
        )

    def uncertain(self, provider: str | None = None) -> list[JobRecord]:
        """Every attempt whose latest state is `uncertain` (for reports), oldest first."""
        rows = self._db.execute(
            "SELECT * FROM jobs WHERE status = 'uncertain' ORDER BY id"
        ).fetchall()
        found = [_record(row) for row in rows]
        latest = [r for r in found if self._latest(r.clip_id, r.provider) == r]
        return [r for r in latest if provider is None or r.provider == provider]

    # -- jobs --------------------------------------------------------------------------------

    def record_submit(self, clip_id: str, provider: str, job: Submitted) -> JobRecord:
        """Write a job the provider accepted outside any claim; committed before this returns."""
        now = time.time()
        cursor = self._db.execute(
            "INSERT INTO jobs (clip_id, provider, job_id, state, status, submitted_at,"
            " updated_at, sent_at) VALUES (?, ?, ?, ?, 'submitted', ?, ?, ?)",
            (clip_id, provider, _clean(job.job_id), _state_json(job), now, now, now),
        )
        row = cursor.lastrowid
        assert row is not None
        return self._get(row)

    def set_status(self, row: int, status: JobRecordStatus, error: str | None = None) -> None:
        """Move job `row` to `status` (with the provider's message for `failed`)."""
        self._set(row, status, error, time.time())

    def latest(self, clip_id: str, provider: str) -> JobRecord | None:
        """The most recent attempt for this clip on this provider, whatever its status."""
        return self._latest(clip_id, provider)

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
        """Every row (of one clip, if given), oldest first."""
        if clip_id is None:
            rows = self._db.execute("SELECT * FROM jobs ORDER BY id").fetchall()
        else:
            rows = self._db.execute(
                "SELECT * FROM jobs WHERE clip_id = ? ORDER BY id", (clip_id,)
            ).fetchall()
        return [_record(row) for row in rows]

    def known_job_ids(self, provider: str) -> set[str]:
        """Every job id already recorded for `provider` (a found job must not be one)."""
        rows = self._db.execute(
            "SELECT job_id FROM jobs WHERE provider = ? AND job_id != ''", (provider,)
        ).fetchall()
        return {str(row[0]) for row in rows}

    def _latest(self, clip_id: str, provider: str) -> JobRecord | None:
        found = self._db.execute(
            "SELECT * FROM jobs WHERE clip_id = ? AND provider = ? ORDER BY id DESC LIMIT 1",
            (clip_id, provider),
        ).fetchone()
        return _record(found) if found else None

    def _set(self, row: int, status: JobRecordStatus, error: str | None, now: float) -> None:
        self._db.execute(
            "UPDATE jobs SET status = ?, error = ?, updated_at = ? WHERE id = ?",
            (status, _clean(error) if error else None, now, row),
        )

    def _get(self, row: int) -> JobRecord:
        return _record(self._db.execute("SELECT * FROM jobs WHERE id = ?", (row,)).fetchone())


def _clean(text: str) -> str:
    return redact(text, known_secrets())


def _state_json(job: Submitted) -> str:
    return _clean(json.dumps(job.state or {}, sort_keys=True))


def _record(row: tuple[object, ...]) -> JobRecord:
    (
        row_id,
        clip_id,
        provider,
        job_id,
        state,
        status,
        submitted_at,
        updated_at,
        error,
        owner,
        lease_until,
        sent_at,
    ) = row
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
        owner=str(owner or ""),
        lease_until=float(lease_until or 0.0),  # type: ignore[arg-type]
        sent_at=float(sent_at) if sent_at is not None else None,  # type: ignore[arg-type]
    )

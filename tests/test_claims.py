"""Never pay twice: claims, uncertain creates, reconciliation and `--resubmit`.

The journal's claim logic is tested directly; everything else runs the real `storyc render`
in subprocesses against the fake provider on 127.0.0.1 (OpenAI, fal, Prodia and Runway
protocols),
counting what the provider was asked to create.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fakeprovider import FakeProvider
from fakeprovider.testing import StoryShot, provider_env, storyc, write_story

from storyc.providers.base import Submitted
from storyc.providers.engine import BREAKER_LIMIT
from storyc.providers.journal import (
    JOURNAL_NAME,
    Claimed,
    Follow,
    Journal,
    Uncertain,
    Wait,
)

FAKE_MEDIA = ((1280, 720, 4),)
MODELS = {"openai": "sora-2", "fal": "veo-3.1-fast", "prodia": "sora-2", "runway": "veo-3.1-fast"}
PROVIDERS = tuple(MODELS)
OTHER_HOST = "another-machine.example"


# -- the journal's decisions ---------------------------------------------------------------


def _dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


def test_a_claim_is_exclusive_and_a_live_claim_makes_others_wait(tmp_path: Path) -> None:
    with (
        Journal.in_folder(tmp_path) as mine,
        Journal.in_folder(tmp_path, owner=f"{OTHER_HOST}\t1\t1") as theirs,
    ):
        first = mine.claim("clip", "fal")
        assert isinstance(first, Claimed)
        # Two clips of one plan with the same content share an id: one submit for both.
        assert isinstance(mine.claim("clip", "fal"), Wait)
        # Another process (here: another host) sees the claim and waits for it.
        assert isinstance(theirs.claim("clip", "fal"), Wait)
        mine.sending(first.record.row)
        assert isinstance(theirs.claim("clip", "fal"), Wait)
        mine.attach(first.record.row, Submitted("req_1", {"status_url": "u"}))
        follow = theirs.claim("clip", "fal")
        assert isinstance(follow, Follow) and follow.record.job_id == "req_1"
        assert len(mine.jobs("clip")) == 1


def test_a_dead_owners_claim_is_released_and_its_unanswered_send_is_uncertain(
    tmp_path: Path,
) -> None:
    dead = f"{socket.gethostname()}\t{_dead_pid()}\t"
    with Journal.in_folder(tmp_path, owner=dead) as gone, Journal.in_folder(tmp_path) as me:
        gone.claim("quiet", "openai")  # died before sending: nothing left the machine
        sent = gone.claim("sent", "openai")
        assert isinstance(sent, Claimed)
        gone.sending(sent.record.row)  # died while the create was in flight

        again = me.claim("quiet", "openai")
        assert isinstance(again, Claimed)
        assert [r.status for r in me.jobs("quiet")] == ["released", "claimed"]
        unsure = me.claim("sent", "openai")
        assert isinstance(unsure, Uncertain)
        assert me.latest("sent", "openai").status == "uncertain"  # type: ignore[union-attr]
        # It stays uncertain, run after run, until the writer says otherwise.
        assert isinstance(me.claim("sent", "openai"), Uncertain)
        paid_again = me.claim("sent", "openai", resubmit=True)
        assert isinstance(paid_again, Claimed)
        assert [r.status for r in me.jobs("sent")] == ["abandoned", "claimed"]


def test_another_hosts_claim_counts_until_its_lease_runs_out(tmp_path: Path) -> None:
    with (
        Journal.in_folder(tmp_path, owner=f"{OTHER_HOST}\t7\t7") as remote,
        Journal.in_folder(tmp_path) as me,
    ):
        claim = remote.claim("c", "prodia")
        assert isinstance(claim, Claimed)
        assert isinstance(me.claim("c", "prodia"), Wait)
        with sqlite3.connect(tmp_path / JOURNAL_NAME) as db:
            db.execute("UPDATE jobs SET lease_until = 1 WHERE id = ?", (claim.record.row,))
        assert isinstance(me.claim("c", "prodia"), Claimed)


def test_a_schema_1_journal_is_upgraded_in_place_and_its_jobs_are_followed(
    tmp_path: Path,
) -> None:
    with sqlite3.connect(tmp_path / JOURNAL_NAME) as db:
        db.executescript(
            """
            CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, clip_id TEXT NOT NULL,
                provider TEXT NOT NULL, job_id TEXT NOT NULL, state TEXT NOT NULL DEFAULT '{}',
                status TEXT NOT NULL, submitted_at REAL NOT NULL, updated_at REAL NOT NULL,
                error TEXT);
            INSERT INTO jobs (clip_id, provider, job_id, status, submitted_at, updated_at)
                VALUES ('c', 'openai', 'video_1', 'in_progress', 1, 1);
            PRAGMA user_version=1;
            """
        )
    with Journal.in_folder(tmp_path) as journal:
        decision = journal.claim("c", "openai")
        assert isinstance(decision, Follow) and decision.record.job_id == "video_1"


# -- real runs against the fake provider --------------------------------------------------


def _story(tmp_path: Path, provider: str, count: int = 6) -> list[StoryShot]:
    return write_story(
        tmp_path / "spot.story",
        provider=provider,
        model=MODELS[provider],
        shots=[StoryShot(f"{provider}: a lantern swings, take {n}", 4) for n in range(count)],
    )


def _prompts(fake: FakeProvider, provider: str) -> dict[str, int]:
    with fake.lock:
        return {text: n for (p, text), n in fake.submits.items() if p == provider}


def _start(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", "from storyc.cli import main; main()", *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _journal_has(cache: Path, status: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        path = cache / JOURNAL_NAME
        if path.exists():
            try:
                with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as db:
                    found = db.execute(
                        "SELECT COUNT(*) FROM jobs WHERE status = ?", (status,)
                    ).fetchone()[0]
            except sqlite3.Error:
                found = 0
            if found:
                return
        time.sleep(0.02)
    raise AssertionError(f"no `{status}` row in the journal in time")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_two_renders_at_once_pay_each_clip_once(
    fake: FakeProvider, tmp_path: Path, provider: str
) -> None:
    _story(tmp_path, provider)
    env = provider_env(fake, tmp_path / "cache")
    fake.faults.job_seconds = 1.0
    command = ["render", "spot.story", "--yes", "--jobs", "3"]

    first = _start([*command, "-o", "out1"], env, tmp_path)
    second = _start([*command, "-o", "out2"], env, tmp_path)
    outputs = [p.communicate(timeout=120) for p in (first, second)]

    assert first.returncode == 0, outputs[0][1]
    assert second.returncode == 0, outputs[1][1]
    counts = _prompts(fake, provider)
    assert len(counts) == 6 and set(counts.values()) == {1}, counts
    for out in ("out1", "out2"):
        assert len(list((tmp_path / out / "clips").glob("*.mp4"))) == 6


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGINT], ids=["kill-9", "ctrl-c"])
def test_a_run_stopped_while_a_create_is_in_flight_never_pays_twice(
    fake: FakeProvider, tmp_path: Path, provider: str, stop: signal.Signals
) -> None:
    _story(tmp_path, provider, count=3)
    cache = tmp_path / "cache"
    env = provider_env(fake, cache)
    fake.faults.slow = {"submit": 1}  # the first create is answered only after 2 s
    fake.faults.slow_s = 2.0
    command = ["render", "spot.story", "--yes", "--jobs", "1", "-o", "out"]

    process = _start(command, env, tmp_path)
    _journal_has(cache, "sending")
    deadline = time.monotonic() + 30
    while not fake.requests("submit") and time.monotonic() < deadline:
        time.sleep(0.01)  # the request is on the wire; its answer is 2 s away
    process.send_signal(stop)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode != 0
    assert "Traceback" not in stderr
    time.sleep(fake.faults.slow_s + 0.3)  # the provider made the job all the same
    assert sum(_prompts(fake, provider).values()) == 1

    rerun = storyc(command, env, tmp_path)
    counts = _prompts(fake, provider)
    assert set(counts.values()) == {1}, counts  # the lost create was never sent again
    if provider == "openai":
        # Found in the account's video list and collected.
        assert rerun.returncode == 0, rerun.stderr
        assert len(counts) == 3
        assert "found again" in rerun.stderr
        return
    # fal, Prodia and Runway cannot be asked: the clip is reported, not paid for again.
    assert rerun.returncode == 1
    assert "--resubmit 01" in rerun.stderr and "uncertain" in rerun.stderr
    assert "Traceback" not in rerun.stderr
    assert len(counts) == 3  # the two other clips were rendered

    again = storyc(command, env, tmp_path)
    assert again.returncode == 1 and sum(_prompts(fake, provider).values()) == 3

    paid = storyc([*command, "--resubmit", "01"], env, tmp_path)
    assert paid.returncode == 0, paid.stderr
    assert sorted(_prompts(fake, provider).values()) == [1, 1, 2]  # only when asked
    assert len(list((tmp_path / "out" / "clips").glob("*.mp4"))) == 3


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_gateway_504_after_an_accepted_create_is_not_paid_twice(
    fake: FakeProvider, tmp_path: Path, provider: str
) -> None:
    _story(tmp_path, provider, count=3)
    env = provider_env(fake, tmp_path / "cache")
    fake.faults.after = {"submit": [504]}  # the provider took it; the gateway said 504
    command = ["render", "spot.story", "--yes", "--jobs", "1", "-o", "out"]

    first = storyc(command, env, tmp_path)
    rerun = storyc(command, env, tmp_path)

    counts = _prompts(fake, provider)
    assert len(counts) == 3 and set(counts.values()) == {1}, counts
    assert "Traceback" not in first.stderr + rerun.stderr
    if provider == "openai":
        assert first.returncode == 0, first.stderr  # found at once in the video list
        assert rerun.returncode == 0
        return
    assert first.returncode == 1 and rerun.returncode == 1
    assert "may have reached" in first.stderr
    paid = storyc([*command, "--resubmit-uncertain"], env, tmp_path)
    assert paid.returncode == 0, paid.stderr
    assert sorted(_prompts(fake, provider).values()) == [1, 1, 2]


def test_resubmit_must_name_a_clip(fake: FakeProvider, tmp_path: Path) -> None:
    _story(tmp_path, "fal", count=2)
    env = provider_env(fake, tmp_path / "cache")

    done = storyc(["render", "spot.story", "--yes", "--resubmit", "07"], env, tmp_path)

    assert done.returncode != 0
    assert "--resubmit 07 names no clip" in done.stderr
    assert fake.total_submits() == 0


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_provider_that_keeps_failing_stops_the_run(
    fake: FakeProvider, tmp_path: Path, provider: str
) -> None:
    _story(tmp_path, provider, count=6)
    env = provider_env(fake, tmp_path / "cache", STORYC_RETRY_ATTEMPTS="2")
    fake.faults.script("submit", *([503] * 20))
    command = ["render", "spot.story", "--yes", "--jobs", "1", "-o", "out"]

    done = storyc(command, env, tmp_path)

    assert done.returncode == 1
    # Every 503 may hide a paid job: after BREAKER_LIMIT of them in a row, stop sending.
    assert len(fake.requests("submit", provider)) == BREAKER_LIMIT
    assert done.stderr.count("not tried") >= 6 - BREAKER_LIMIT
    assert "Traceback" not in done.stderr


def test_clips_folder_collects_no_temporary_links(fake: FakeProvider, tmp_path: Path) -> None:
    _story(tmp_path, "openai", count=2)
    env = provider_env(fake, tmp_path / "cache")
    command = ["render", "spot.story", "--yes", "-o", "out"]

    for _ in range(3):
        assert storyc(command, env, tmp_path).returncode == 0

    names = sorted(p.name for p in (tmp_path / "out" / "clips").iterdir())
    assert len(names) == 2 and all(n.endswith(".mp4") for n in names), names


def test_the_consent_list_names_every_file_that_leaves(fake: FakeProvider, tmp_path: Path) -> None:
    from fakeprovider import make_png

    make_png(tmp_path / "frames" / "dawn.png", 1280, 720)
    write_story(
        tmp_path / "spot.story",
        provider="openai",
        model="sora-2",
        shots=[StoryShot("dawn", 4, image="frames/dawn.png"), StoryShot("noon", 4)],
    )
    env = provider_env(fake, tmp_path / "cache")

    done = storyc(["render", "spot.story", "--yes", "-o", "out"], env, tmp_path)

    assert done.returncode == 0, done.stderr
    assert "files sent to openai" in done.stderr
    assert "dawn.png" in done.stderr
    assert os.path.getsize(tmp_path / "frames" / "dawn.png") > 0

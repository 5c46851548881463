"""The clip cache (whole files only) and the job journal (committed at once, no keys)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
from pathlib import Path

import pytest
from render_clips import make_clip

from storyc.errors import StorycError
from storyc.probe import ProbeError
from storyc.providers.base import Submitted
from storyc.providers.cache import CACHE_DIR_ENV, ClipCache, cache_dir_for
from storyc.providers.errors import JobRejected, MissingKey, redact
from storyc.providers.journal import JOURNAL_NAME, Journal
from storyc.providers.preview import render_clip


@pytest.fixture(scope="module")
def real_mp4(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("media") / "clip.mp4"
    asyncio.run(render_clip(make_clip(), path))
    return path.read_bytes()


def test_cache_lives_beside_the_story_unless_the_environment_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CACHE_DIR_ENV, raising=False)
    story = tmp_path / "films" / "cafe.story"
    assert cache_dir_for(story) == tmp_path / "films" / ".storyc" / "cache"
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "elsewhere"))
    assert cache_dir_for(story) == tmp_path / "elsewhere"


def test_a_stored_clip_is_found_again(tmp_path: Path, real_mp4: bytes) -> None:
    cache = ClipCache(tmp_path / "cache")
    assert cache.lookup("abc123") is None
    temp = cache.new_temp("abc123")
    assert temp.parent == cache.root and temp.name.endswith(".part")
    temp.write_bytes(real_mp4)
    path, info = cache.store("abc123", temp)
    assert path == tmp_path / "cache" / "abc123.mp4"
    assert info.video_frames == 96
    assert not temp.exists()
    assert ClipCache(tmp_path / "cache").lookup("abc123") == path  # a fresh process too


def test_a_clip_probed_once_is_not_probed_again_in_a_new_process(
    tmp_path: Path, real_mp4: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    import storyc.providers.cache as cache_module

    cache = ClipCache(tmp_path)
    temp = cache.new_temp("abc")
    temp.write_bytes(real_mp4)
    path, _ = cache.store("abc", temp)  # probed here, and recorded
    probes: list[Path] = []
    real_probe = cache_module.probe
    monkeypatch.setattr(cache_module, "probe", lambda p: probes.append(p) or real_probe(p))
    assert ClipCache(tmp_path).lookup("abc") == path
    assert probes == []
    # Changed since (another size): probed again, and set aside if it is broken.
    path.write_bytes(real_mp4[:5000])
    assert ClipCache(tmp_path).lookup("abc") is None
    assert probes == [path]
    # A file found in the cache without a record is probed once, then remembered.
    (tmp_path / "def.mp4").write_bytes(real_mp4)
    assert ClipCache(tmp_path).lookup("def") == tmp_path / "def.mp4"
    assert ClipCache(tmp_path).lookup("def") == tmp_path / "def.mp4"
    assert probes == [path, tmp_path / "def.mp4"]


def test_cached_files_get_ordinary_permissions(tmp_path: Path, real_mp4: bytes) -> None:
    cache = ClipCache(tmp_path)
    temp = cache.new_temp("abc")
    temp.write_bytes(real_mp4)
    path, _ = cache.store("abc", temp)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_a_partial_file_never_enters_the_cache(tmp_path: Path, real_mp4: bytes) -> None:
    cache = ClipCache(tmp_path)
    temp = cache.new_temp("abc")
    temp.write_bytes(real_mp4[: len(real_mp4) // 2])
    with pytest.raises(ProbeError):
        cache.store("abc", temp)
    assert not (tmp_path / "abc.mp4").exists()
    assert cache.lookup("abc") is None


def test_a_damaged_cached_file_is_set_aside_not_reused(tmp_path: Path, real_mp4: bytes) -> None:
    cache = ClipCache(tmp_path)
    (tmp_path / "abc.mp4").write_bytes(real_mp4[:5000])
    (tmp_path / "empty.mp4").write_bytes(b"")
    assert cache.lookup("abc") is None
    assert cache.lookup("empty") is None
    assert (tmp_path / "abc.mp4.invalid").exists()


def test_clip_ids_cannot_escape_the_cache_folder(tmp_path: Path) -> None:
    with pytest.raises(StorycError):
        ClipCache(tmp_path).path_for("../../etc/passwd")


def test_only_old_leftovers_are_swept(tmp_path: Path) -> None:
    cache = ClipCache(tmp_path)
    old, young = cache.new_temp("a"), cache.new_temp("b")
    os.utime(old, (1, 1))
    assert cache.sweep_partials() == 1
    assert young.exists() and not old.exists()


def test_a_job_is_committed_the_moment_it_is_recorded(tmp_path: Path) -> None:
    journal = Journal.in_folder(tmp_path)
    journal.record_submit("clip1", "fal", Submitted("req_1", {"status_url": "https://q/1"}))
    # Another connection (another process after a kill -9) sees it without any close.
    other = sqlite3.connect(tmp_path / JOURNAL_NAME)
    assert other.execute("SELECT job_id, status FROM jobs").fetchall() == [("req_1", "submitted")]
    assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    other.close()
    reopened = Journal.in_folder(tmp_path)
    record = reopened.resumable("clip1", "fal")
    assert record is not None
    assert record.submitted() == Submitted("req_1", {"status_url": "https://q/1"})
    journal.close()
    reopened.close()


def test_resumable_jobs_are_the_active_and_done_ones(tmp_path: Path) -> None:
    with Journal.in_folder(tmp_path) as journal:
        row = journal.record_submit("c", "openai", Submitted("video_1")).row
        for status, resumable in (
            ("in_progress", True),
            ("downloading", True),
            ("done", True),
            ("expired", False),
            ("failed", False),
        ):
            journal.set_status(row, status)  # type: ignore[arg-type]
            assert (journal.resumable("c", "openai") is not None) is resumable, status
        assert journal.resumable("c", "fal") is None  # another provider's job is not ours
        second = journal.record_submit("c", "openai", Submitted("video_2"))
        assert journal.resumable("c", "openai") == second
        assert [r.job_id for r in journal.jobs("c")] == ["video_1", "video_2"]


def test_no_key_reaches_the_journal_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "fal-secret-4f1c9a77e0"
    monkeypatch.setenv("FAL_KEY", secret)
    with Journal.in_folder(tmp_path) as journal:
        row = journal.record_submit(
            "c", "fal", Submitted("req_1", {"status_url": f"https://q/1?key={secret}"})
        ).row
        journal.set_status(row, "failed", f"401: key {secret} is not valid")
        stored = journal.latest("c", "fal")
    assert stored is not None and secret not in repr(stored)
    for path in tmp_path.iterdir():
        assert secret.encode() not in path.read_bytes(), path.name


def test_redact_hides_every_secret_and_ignores_unset_ones() -> None:
    text = "Bearer sk-long-secret and sk-long, then nothing"
    assert redact(text, ["sk-long", "sk-long-secret", None, ""]) == (
        "Bearer *** and ***, then nothing"
    )


def test_render_errors_are_one_clear_sentence() -> None:
    missing = MissingKey("fal", "FAL_KEY")
    assert "FAL_KEY" in str(missing) and missing.exit_code == 1
    rejected = JobRejected("openai", "Your request was blocked by moderation.", "01-abc")
    assert rejected.provider_message == "Your request was blocked by moderation."
    assert "01-abc" in rejected.message

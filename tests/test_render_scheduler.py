"""The scheduler: cache first, journal always, failures reported, nothing paid for twice."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from render_clips import StubProvider, make_clip, make_plan, paid_plan
from rich.console import Console

from storyc.cli.progress_view import render_in_terminal
from storyc.errors import StorycError
from storyc.plan.schema import Clip, ClipPlan
from storyc.probe import probe
from storyc.providers.cache import ClipCache
from storyc.providers.engine import Phase, clip_cache, render_plan, render_to_dir
from storyc.providers.errors import KeyRefused
from storyc.providers.journal import JOURNAL_NAME, Journal
from storyc.providers.preview import PreviewRenderer

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def quiet() -> Console:
    return Console(file=io.StringIO(), width=120)


async def run(plan: ClipPlan, renderer: object, cache_dir: Path, **options: object):
    with Journal.in_folder(cache_dir) as journal:
        return await render_plan(
            plan,
            renderer,  # type: ignore[arg-type]
            cache=ClipCache(cache_dir),
            journal=journal,
            **options,  # type: ignore[arg-type]
        )


def preview_plan() -> ClipPlan:
    return make_plan(
        [
            make_clip(1, render_ms=4000, shots=((0, 2000), (2000, 3600))),
            make_clip(2, render_ms=8000, shots=((0, 7000),), film_start=3600, dialogue=True),
        ]
    )


def test_render_to_dir_writes_the_plan_and_the_clips(tmp_path: Path) -> None:
    plan = preview_plan()
    out, cache = tmp_path / "build", tmp_path / "cache"
    report = render_in_terminal(plan, out, jobs=2, console=quiet(), cache_dir=cache)
    assert report.ok and report.cached == 0
    assert ClipPlan.read(out / "plan.json") == plan
    assert [r.path.name for r in report.rendered] == [f"{c.stem}.mp4" for c in plan.clips]
    for rendered in report.rendered:
        info = probe(rendered.path)
        assert rendered.path.parent == out / "clips"
        assert info.size == rendered.clip.size
        assert info.video_frames == rendered.clip.render_ms * 24 // 1000
        assert info.fps == 24 and info.audio_codec == "aac"
        # A link into the cache, not a second copy of the bytes.
        # (The preview's cache key carries its drawing version: `engine.clip_cache`.)
        assert rendered.path.samefile(clip_cache("preview", cache).path_for(rendered.clip.id))


def test_a_second_run_renders_nothing_and_force_renders_again(tmp_path: Path) -> None:
    plan = preview_plan()
    out, cache = tmp_path / "build", tmp_path / "cache"
    render_in_terminal(plan, out, console=quiet(), cache_dir=cache)
    again = render_in_terminal(plan, out, console=quiet(), cache_dir=cache)
    assert again.ok and again.cached == 2 and again.submitted == 0
    forced = render_in_terminal(plan, out, force=True, console=quiet(), cache_dir=cache)
    assert forced.cached == 0 and forced.submitted == 2


def test_clips_of_an_earlier_plan_leave_the_output_folder(tmp_path: Path) -> None:
    out, cache = tmp_path / "build", tmp_path / "cache"
    render_in_terminal(make_plan([make_clip(1)]), out, console=quiet(), cache_dir=cache)
    changed = make_plan([make_clip(1, render_ms=8000, shots=((0, 8000),))])
    render_in_terminal(changed, out, console=quiet(), cache_dir=cache)
    assert sorted(p.name for p in (out / "clips").iterdir()) == [f"{changed.clips[0].stem}.mp4"]
    assert len(list(cache.glob("*.mp4"))) == 2  # the cache still has both


async def test_progress_goes_from_queued_to_done_with_the_providers_percentage(
    tmp_path: Path,
) -> None:
    plan = paid_plan(1)
    seen: list[tuple[Phase, float | None]] = []

    def progress(clip: Clip, phase: Phase, percent: float | None) -> None:
        seen.append((phase, percent))

    stub = StubProvider(tmp_path / "provider", auto_complete_s=0.2, poll_s=0.02)
    report = await run(plan, stub, tmp_path / "cache", progress=progress)
    assert report.ok and report.submitted == 1
    phases = [phase for phase, _ in seen]
    assert phases[:2] == ["queued", "submitting"]
    assert phases[-2:] == ["downloading", "done"]
    percents = [p for phase, p in seen if phase == "in_progress"]
    assert percents and all(p is not None for p in percents)
    # retry_after_s (20 ms) was honoured, not the default one-second poll.
    assert stub.status_calls >= 5


@pytest.mark.parametrize("jobs", [1, 3])
async def test_jobs_run_concurrently_up_to_the_limit(tmp_path: Path, jobs: int) -> None:
    stub = StubProvider(tmp_path / "provider", auto_complete_s=0.2, poll_s=0.02)
    report = await run(paid_plan(4), stub, tmp_path / "cache", jobs=jobs)
    assert report.ok and len(report.rendered) == 4
    assert stub.peak_in_flight == jobs


async def test_a_slot_is_given_back_when_the_provider_is_done_not_after_the_download(
    tmp_path: Path,
) -> None:
    # --jobs 1: clip 1's download waits for clip 2's submit. Were the download inside the
    # slot, clip 2 could not start and the download would time out.
    import asyncio

    class SlowFetch(StubProvider):
        async def download(self, clip: Clip, job, destination: Path) -> None:  # type: ignore[no-untyped-def]
            if clip.index == 1:
                async with asyncio.timeout(10):
                    while len(self.submits()) < 2:
                        await asyncio.sleep(0.01)
            await super().download(clip, job, destination)

    stub = SlowFetch(tmp_path / "provider", auto_complete_s=0.05, poll_s=0.01)
    report = await run(paid_plan(3), stub, tmp_path / "cache", jobs=1)
    assert report.ok and len(report.rendered) == 3, [str(f) for f in report.failures]
    assert stub.peak_in_flight == 1  # the provider never had two jobs of ours at once
    assert stub.peak_downloading <= 1


async def test_the_local_preview_keeps_its_slot_while_it_draws(tmp_path: Path) -> None:
    from storyc.providers.engine import _works_while_downloading

    assert _works_while_downloading(PreviewRenderer())  # it encodes in `download`
    assert not _works_while_downloading(StubProvider(tmp_path / "provider"))


async def test_a_failed_job_is_reported_with_its_line_and_the_others_go_on(tmp_path: Path) -> None:
    plan = paid_plan(3)
    provider = tmp_path / "provider"
    stub = StubProvider(provider)
    (provider / "fail-2").write_text("Your request was blocked by our moderation system.")
    report = await run(plan, stub, tmp_path / "cache")
    assert not report.ok
    assert [r.clip.index for r in report.rendered] == [1, 3]
    (failure,) = report.failures
    assert failure.clip.index == 2
    assert failure.message == "Your request was blocked by our moderation system."
    assert failure.location == "stories/cafe.story:21"
    assert "stories/cafe.story:21" in str(failure)
    with Journal.in_folder(tmp_path / "cache") as journal:
        assert journal.latest(plan.clips[1].id, "stub").status == "failed"  # type: ignore[union-attr]
    # Fixed at the provider's end: the rerun submits only the failed clip.
    (provider / "fail-2").unlink()
    rerun = await run(plan, StubProvider(provider), tmp_path / "cache")
    assert rerun.ok and rerun.submitted == 1 and rerun.cached == 2
    assert stub.submits().count(plan.clips[1].id) == 2


async def test_a_refused_key_stops_the_run(tmp_path: Path) -> None:
    stub = StubProvider(tmp_path / "provider", refuse_key=True)
    with pytest.raises(KeyRefused):
        await run(paid_plan(3), stub, tmp_path / "cache")


async def test_a_job_we_could_not_follow_is_kept_and_collected_later(tmp_path: Path) -> None:
    plan = paid_plan(2)
    provider = tmp_path / "provider"
    down = StubProvider(provider, unavailable_status=True)
    report = await run(plan, down, tmp_path / "cache")
    assert len(report.failures) == 2
    assert all(f.retry_collects for f in report.failures)
    assert "run again to collect it" in str(report.failures[0])
    back = StubProvider(provider)
    rerun = await run(plan, back, tmp_path / "cache")
    assert rerun.ok and rerun.submitted == 0 and rerun.resumed == 2
    assert len(back.submits()) == 2  # one submit per clip over both runs


async def test_a_download_cut_short_is_fetched_again_and_never_cached(tmp_path: Path) -> None:
    stub = StubProvider(tmp_path / "provider", cut_downloads=1)
    report = await run(paid_plan(1), stub, tmp_path / "cache")
    assert report.ok and stub.downloads == 2 and report.submitted == 1
    assert probe(report.rendered[0].path).video_frames == 96
    assert not list((tmp_path / "cache").glob("*.part"))


async def test_a_lost_cache_file_is_fetched_from_the_finished_job(tmp_path: Path) -> None:
    plan = paid_plan(1)
    stub = StubProvider(tmp_path / "provider")
    first = await run(plan, stub, tmp_path / "cache")
    first.rendered[0].path.unlink()
    again = await run(plan, stub, tmp_path / "cache")
    assert again.ok and again.submitted == 0 and again.resumed == 1
    assert len(stub.submits()) == 1


def test_a_paid_run_off_a_terminal_needs_yes(tmp_path: Path) -> None:
    stub = StubProvider(tmp_path / "provider")
    console = quiet()
    with pytest.raises(StorycError, match="--yes"):
        render_in_terminal(paid_plan(2), tmp_path / "out", renderer=stub, console=console,
                      cache_dir=tmp_path / "cache")  # fmt: skip
    assert stub.submits() == []
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    assert "Estimated cost" in shown and "$0.80" in shown


def test_max_cost_refuses_before_paying_and_counts_only_uncached_clips(tmp_path: Path) -> None:
    stub = StubProvider(tmp_path / "provider")
    cache = tmp_path / "cache"
    with pytest.raises(StorycError, match="over --max-cost"):
        render_in_terminal(paid_plan(3), tmp_path / "out", renderer=stub, yes=True, max_cost=1.0,
                      console=quiet(), cache_dir=cache)  # fmt: skip
    assert stub.submits() == []
    # Two clips rendered (and paid) in a smaller run: the third alone fits the budget.
    render_in_terminal(paid_plan(2), tmp_path / "out", renderer=stub, yes=True, console=quiet(),
                  cache_dir=cache)  # fmt: skip
    report = render_in_terminal(paid_plan(3), tmp_path / "out", renderer=stub, yes=True,
                           max_cost=0.5, console=quiet(), cache_dir=cache)  # fmt: skip
    assert report.ok and report.submitted == 1 and report.cached == 2
    assert len(stub.submits()) == 3


def test_a_plan_for_another_provider_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StorycError, match="compile again"):
        render_in_terminal(paid_plan(1), tmp_path, provider="preview", console=quiet(),
                      cache_dir=tmp_path / "cache")  # fmt: skip


def test_the_engine_refuses_a_paid_run_nobody_approved(tmp_path: Path) -> None:
    stub = StubProvider(tmp_path / "provider")
    with pytest.raises(StorycError, match="nobody approved"):
        render_to_dir(paid_plan(1), tmp_path / "out", renderer=stub, cache_dir=tmp_path / "c")
    assert stub.submits() == []
    seen = []
    report = render_to_dir(paid_plan(1), tmp_path / "out", renderer=stub,
                           cache_dir=tmp_path / "c", approve=seen.append)  # fmt: skip
    assert report.ok and [len(run.to_pay) for run in seen] == [1]
    assert seen[0].cost == pytest.approx(0.4)


def test_the_preview_needs_no_consent(tmp_path: Path) -> None:
    report = render_in_terminal(make_plan([make_clip()]), tmp_path / "out", renderer=PreviewRenderer(),
                           console=quiet(), cache_dir=tmp_path / "cache")  # fmt: skip
    assert report.ok and not report.paid


# --- kill -9 ----------------------------------------------------------------------------

CHILD = """
import asyncio, sys
from pathlib import Path
from render_clips import StubProvider, paid_plan
from storyc.providers.cache import ClipCache
from storyc.providers.journal import Journal
from storyc.providers.engine import render_plan

provider, cache = Path(sys.argv[1]), Path(sys.argv[2])
stub = StubProvider(provider, auto_complete_s=None, poll_s=0.05)
report = asyncio.run(render_plan(paid_plan(3), stub, cache=ClipCache(cache),
                                 journal=Journal.in_folder(cache), jobs=4))
print(report.submitted, report.resumed, len(report.rendered), len(report.failures))
"""


def _child(provider: Path, cache: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), str(ROOT)])}
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(provider), str(cache)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _journaled(cache: Path) -> int:
    path = cache / JOURNAL_NAME
    if not path.exists():
        return 0
    db = sqlite3.connect(path, timeout=5)
    try:
        # Claims are rows too; count the jobs the provider accepted.
        return db.execute("SELECT count(*) FROM jobs WHERE job_id != ''").fetchone()[0]
    except sqlite3.OperationalError:  # the child has not created the table yet
        return 0
    finally:
        db.close()


def test_a_run_killed_after_submitting_resumes_and_submits_nothing_twice(tmp_path: Path) -> None:
    provider, cache = tmp_path / "provider", tmp_path / "cache"
    first = _child(provider, cache)
    deadline = time.monotonic() + 30
    while _journaled(cache) < 3:
        assert first.poll() is None, first.stderr.read() if first.stderr else ""
        assert time.monotonic() < deadline, "the child never journaled its jobs"
        time.sleep(0.05)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    assert first.returncode == -signal.SIGKILL
    stub = StubProvider(provider)
    assert len(stub.submits()) == 3
    assert not list(cache.glob("*.mp4"))  # nothing was finished before the kill

    (provider / "release").write_text("")  # the provider finishes the jobs meanwhile
    second = _child(provider, cache)
    out, err = second.communicate(timeout=60)
    assert second.returncode == 0, err
    assert out.split() == ["0", "3", "3", "0"]  # nothing submitted, three resumed
    assert sorted(stub.submits()) == sorted(c.id for c in paid_plan(3).clips)
    for clip in paid_plan(3).clips:
        assert probe(cache / f"{clip.id}.mp4").video_frames == 96


# --- the command ------------------------------------------------------------------------


def storyc(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "FAL_KEY")}
    return subprocess.run(
        [sys.executable, "-m", "storyc.cli", *args],
        cwd=cwd,
        env={**clean, "STORYC_CACHE_DIR": str(cwd / "cache"), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def story(tmp_path: Path) -> Path:
    source = ROOT / "examples" / "cafe.story"
    # A copy: a symlink out of the project is refused (P218), as it must be.
    shutil.copytree(ROOT / "examples" / "refs", tmp_path / "refs")
    target = tmp_path / "cafe.story"
    target.write_text(source.read_text())
    return target


def test_storyc_render_writes_build_dir_and_a_rerun_is_free(story: Path) -> None:
    done = storyc("render", story.name, cwd=story.parent)
    assert done.returncode == 0, done.stderr
    clips = sorted((story.parent / "build" / "cafe" / "clips").glob("*.mp4"))
    plan = ClipPlan.read(story.parent / "build" / "cafe" / "plan.json")
    assert [p.name for p in clips] == [f"{c.stem}.mp4" for c in plan.clips]
    assert "rendered" in done.stderr
    again = storyc("render", story.name, "-o", "out", "--jobs", "1", cwd=story.parent)
    assert again.returncode == 0, again.stderr
    assert f"{len(plan.clips)} clip(s): 0 rendered, {len(plan.clips)} cached" in again.stderr
    assert len(list((story.parent / "out" / "clips").glob("*.mp4"))) == len(plan.clips)


def test_storyc_render_stops_on_story_errors(story: Path) -> None:
    story.write_text(story.read_text().replace("model: sora-2-pro", "model: sora-9"))
    done = storyc("render", story.name, cwd=story.parent)
    assert done.returncode == 1
    assert "nothing was compiled" in done.stderr and "Traceback" not in done.stderr
    assert not (story.parent / "build").exists()


def test_storyc_render_paid_without_key_or_consent_is_one_clear_sentence(story: Path) -> None:
    no_key = storyc("render", story.name, "--provider", "openai", cwd=story.parent)
    assert no_key.returncode == 1
    assert "set OPENAI_API_KEY" in no_key.stderr and "Traceback" not in no_key.stderr
    secret = "sk-test-2f9a1c77b3d4e5"
    # An unreachable endpoint: if anything were submitted the run would fail differently.
    env = {"OPENAI_API_KEY": secret, "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
    no_yes = storyc("render", story.name, "--provider", "openai", cwd=story.parent, **env)
    assert no_yes.returncode == 1
    assert "Estimated cost" in no_yes.stderr and "--yes" in no_yes.stderr
    over = storyc("render", story.name, "-p", "openai", "--yes", "--max-cost", "0.5",
                  cwd=story.parent, **env)  # fmt: skip
    assert over.returncode == 1 and "over --max-cost $0.50" in over.stderr
    for run_ in (no_yes, over):
        assert secret not in run_.stdout + run_.stderr
    for path in story.parent.rglob("*"):
        if path.is_file() and not path.is_symlink():
            assert secret.encode() not in path.read_bytes(), path


# --- the registry -----------------------------------------------------------------------


def test_every_provider_has_a_renderer_and_paid_ones_need_their_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from storyc.errors import UsageError
    from storyc.plan.capabilities import PROVIDERS
    from storyc.providers.base import Renderer
    from storyc.providers.errors import MissingKey
    from storyc.providers.registry import create_renderer, renderer_class

    for variable in ("OPENAI_API_KEY", "FAL_KEY", "PRODIA_TOKEN", "RUNWAYML_API_SECRET"):
        monkeypatch.delenv(variable, raising=False)
    for name in PROVIDERS:
        assert renderer_class(name).name == name
        if name == "preview":
            assert isinstance(create_renderer(name), Renderer)
            continue
        with pytest.raises(MissingKey):
            create_renderer(name, cache_dir=tmp_path)
    with pytest.raises(UsageError, match="unknown provider"):
        create_renderer("sora-cloud")


def test_on_a_terminal_the_paid_run_asks_and_no_submits_nothing(story: Path) -> None:
    import pty

    controller, terminal = pty.openpty()
    clean = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    env = {
        **clean,
        "STORYC_CACHE_DIR": str(story.parent / "cache"),
        "OPENAI_API_KEY": "sk-test-a1b2c3d4e5f6",
        "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",  # nothing listens: a submit would fail
        "COLUMNS": "120",
    }
    child = subprocess.Popen(
        [sys.executable, "-m", "storyc.cli", "render", story.name, "-p", "openai"],
        cwd=story.parent,
        env=env,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
    )
    os.close(terminal)
    shown = b""
    deadline = time.monotonic() + 60
    while b"[y/n]" not in shown:
        assert time.monotonic() < deadline, shown.decode(errors="replace")
        shown += os.read(controller, 4096)
    os.write(controller, b"n\n")
    assert child.wait(timeout=60) == 1
    with contextlib.suppress(OSError):  # the child closed its side
        while chunk := os.read(controller, 4096):
            shown += chunk
    os.close(controller)
    text = shown.decode(errors="replace")
    assert "Estimated cost" in text and "render cancelled" in text
    assert "sk-test-a1b2c3d4e5f6" not in text

"""`storyc watch`: an edit re-renders only its clip, and an open board reloads itself."""

from __future__ import annotations

import io
import queue
import threading
from pathlib import Path

import httpx
import pytest
from rich.console import Console

from storyc.board.make import BoardResult
from storyc.cli.watch import serve, watch_loop, watch_once
from tests.board_support import ARGS, CHROMIUM, write_story


def _quiet() -> Console:
    return Console(file=io.StringIO(), width=120)


def _ids(result: BoardResult) -> list[str]:
    assert result.compilation.plan is not None
    return [clip.id for clip in result.compilation.plan.clips]


def test_watch_once_rerenders_only_the_edited_clip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORYC_CACHE_DIR", str(tmp_path / "cache"))
    story = write_story(tmp_path)
    out = tmp_path / "out"
    first = watch_once(story, out, console=_quiet())
    assert sorted(first.rendered) == sorted(_ids(first))

    story.write_text(
        story.read_text().replace("the hall light flickers on.", "the hall goes dark."),
        encoding="utf-8",
    )
    second = watch_once(story, out, console=_quiet())
    before, after = _ids(first), _ids(second)
    assert before[0] == after[0] and before[1] != after[1]
    assert second.rendered == [after[1]]
    assert "the hall goes dark." in (out / "board.html").read_text(encoding="utf-8")
    assert '<meta http-equiv="refresh"' in (out / "board.html").read_text(encoding="utf-8")


def test_watch_once_with_errors_keeps_going(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORYC_CACHE_DIR", str(tmp_path / "cache"))
    story = write_story(tmp_path)
    story.write_text(story.read_text().replace("shot medium 4s:", "shot medium:"), "utf-8")
    console = _quiet()
    result = watch_once(story, tmp_path / "out", console=console)
    assert result.compilation.plan is None
    output = console.file.getvalue()  # type: ignore[attr-defined]
    assert "error" in output and "not rebuilt" in output
    assert "there is no plan" in (tmp_path / "out" / "board.html").read_text(encoding="utf-8")


def test_watch_loop_follows_saves_and_the_served_page_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORYC_CACHE_DIR", str(tmp_path / "cache"))
    story = write_story(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    builds: queue.Queue[BoardResult] = queue.Queue()
    stop = threading.Event()
    server, url = serve(out)
    worker = threading.Thread(
        target=watch_loop,
        args=(story, out, stop),
        kwargs={"live": "serve", "console": _quiet(), "debounce_ms": 50, "on_build": builds.put},
        daemon=True,
    )
    worker.start()
    try:
        first = builds.get(timeout=30)
        version = httpx.get(url.replace("board.html", "board.version")).text.strip()
        page = httpx.get(url)
        assert page.status_code == 200 and f'data-version="{version}"' in page.text
        assert 'fetch("board.version"' in page.text

        story.write_text(story.read_text().replace("opens the fridge", "shuts the fridge"), "utf-8")
        second = builds.get(timeout=30)
        assert second.rendered == [_ids(second)[0]]
        assert _ids(second)[1] == _ids(first)[1]
        assert httpx.get(url.replace("board.html", "board.version")).text.strip() != version
        assert "shuts the fridge" in httpx.get(url).text
    finally:
        stop.set()
        worker.join(timeout=10)
        server.shutdown()
        server.server_close()
    assert not worker.is_alive()


def test_served_board_reloads_itself_in_chromium(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (/usr/bin/chromium); .ci/run installs it")
    sync_api = pytest.importorskip("playwright.sync_api", reason="PyPI playwright not installed")
    monkeypatch.setenv("STORYC_CACHE_DIR", str(tmp_path / "cache"))
    story = write_story(tmp_path)
    out = tmp_path / "out"
    watch_once(story, out, live="serve", console=_quiet())
    server, url = serve(out)
    try:
        with sync_api.sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            page = browser.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(url)
            old = page.evaluate("document.body.dataset.version")
            story.write_text(story.read_text().replace("distant traffic", "rain"), "utf-8")
            # Playwright's sync API owns this thread's event loop; render from another one.
            rebuild = threading.Thread(
                target=watch_once, args=(story, out), kwargs={"live": "serve", "console": _quiet()}
            )
            rebuild.start()
            rebuild.join(timeout=60)
            page.wait_for_function(
                # A function, not a string: the served page's CSP forbids eval.
                f"() => document.body && document.body.dataset.version !== {old!r}",
                timeout=10_000,
            )
            assert "Ambience: Rain" in page.content()  # cues start upper-case in prompts
            assert errors == []
            browser.close()
    finally:
        server.shutdown()
        server.server_close()

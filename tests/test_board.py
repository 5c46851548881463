"""`storyc board`: the page's content, its files, and the page in a real headless Chromium."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from PIL import Image, ImageStat
from typer.testing import CliRunner

from storyc.board.make import make_board
from storyc.board.page import board_page, render_board, shot_of_line, timecode
from storyc.check.diagnostics import Diagnostic, Severity
from storyc.cli import app
from storyc.frontend import compile_file
from storyc.language.model import Span
from tests.board_support import ARGS, CHROMIUM, STORY, write_story

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One board of the two-scene story, shared by the tests that only read it."""
    folder = tmp_path_factory.mktemp("board")
    story = write_story(folder)
    out = folder / "build"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STORYC_CACHE_DIR", str(folder / "cache"))
        result = make_board(story, out)
    assert result.compilation.plan is not None
    assert len(result.rendered) == 2
    return story, out


def test_timecode() -> None:
    assert timecode(0) == "0:00.000"
    assert timecode(61_250) == "1:01.250"


def test_board_files_and_content(built: tuple[Path, Path]) -> None:
    story, out = built
    html = (out / "board.html").read_text(encoding="utf-8")
    plan = compile_file(story).plan
    assert plan is not None
    # A card per shot, each with a picture file beside the page and its clip's video.
    cards = re.findall(r'<article class="card[^"]*" id="(shot-\d+)"', html)
    assert cards == ["shot-1", "shot-2", "shot-3"]
    for src in re.findall(r'<img class="thumb" src="([^"]+)"', html):
        picture = out / src
        assert picture.is_file()
        with Image.open(picture) as image:
            assert max(ImageStat.Stat(image.convert("L")).stddev) > 5  # not a blank frame
    for clip in plan.clips:
        assert f'data-src="clips/{clip.stem}.mp4"' in html
        assert (out / "clips" / f"{clip.stem}.mp4").is_file()
    assert html.count('class="scene"') == 2
    assert "0:04.000" in html  # shot 2's place in the film
    assert "0:12.000" in html  # the film's length
    # The title is escaped (autoescape), the prompt is there folded, the cameo has a picture.
    assert "Two &lt;Rooms&gt; &amp; a Hall" in html and "<Rooms>" not in html
    assert "<details><summary>prompt of clip 01</summary>" in html
    assert html.count('alt="mara"') == 3  # the two shots that name her, and the cast strip
    # The cost of the same story on each provider of sora-2, from the capability table.
    assert re.search(r"<td>openai</td><td>sora-2</td>\s*<td>2</td>", html)
    assert "Last one." in html and "quietly" in html
    # Nothing is loaded from the network.
    assert not re.search(r"(src|href)=\"(https?:)?//", html)


def test_rebuild_renders_nothing_and_keeps_pictures(built: tuple[Path, Path]) -> None:
    story, out = built
    before = sorted(p.name for p in (out / "board").iterdir())
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STORYC_CACHE_DIR", str(story.parent / "cache"))
        result = make_board(story, out)
    assert result.rendered == []
    assert sorted(p.name for p in (out / "board").iterdir()) == before


def test_shot_diagnostics_land_on_their_card(tmp_path: Path) -> None:
    story_path = write_story(tmp_path)
    compilation = compile_file(story_path)
    assert compilation.plan is not None and compilation.story is not None
    hall_line = compilation.story.shots[2].span.line + 1
    warning = Diagnostic(
        code="X999",
        name="made-up",
        severity=Severity.WARNING,
        message="the <hall> is dark",
        span=Span.point(hall_line, 5),
        file=str(story_path),
    )
    assert shot_of_line(compilation.story, hall_line) == 3
    page = board_page(
        compilation.plan,
        compilation.story,
        [warning],
        stem="rooms",
        source="rooms.story",
        files={},
    )
    cards = [card for scene in page.scenes for card in scene.cards]
    assert [len(c.diagnostics) for c in cards] == [0, 0, 1]
    html = render_board(page)
    assert "the &lt;hall&gt; is dark" in html
    assert "no picture yet" in html  # no files given: placeholders, not broken images


def test_paid_provider_board_draws_missing_clips_with_the_preview(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    story = write_story(tmp_path)
    monkeypatch.setenv("STORYC_CACHE_DIR", str(tmp_path / "cache"))
    result = make_board(story, tmp_path / "out", provider="openai")
    plan = result.compilation.plan
    assert plan is not None and plan.story.provider == "openai"
    html = (tmp_path / "out" / "board.html").read_text(encoding="utf-8")
    assert "board/preview/clips/" in html
    assert "not rendered on openai yet" in html
    assert not (tmp_path / "out" / "clips").exists()  # nothing was rendered on openai
    assert len(re.findall(r'<img class="thumb"', html)) == 3


def test_board_command_with_errors_exits_1_and_lists_them(tmp_path: Path) -> None:
    story = write_story(tmp_path, STORY.replace("model: sora-2", "model: no-such-model"))
    result = CliRunner().invoke(app, ["board", str(story), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    html = (tmp_path / "out" / "board.html").read_text(encoding="utf-8")
    assert "no-such-model" in html
    assert "there is no plan" in html


def test_board_command_writes_the_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    story = write_story(tmp_path)
    monkeypatch.setenv("STORYC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["board", story.name])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "build" / "rooms" / "board.html").is_file()


# --- in a real browser -------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (/usr/bin/chromium); .ci/run installs it")
    sync_api = pytest.importorskip("playwright.sync_api", reason="PyPI playwright not installed")
    with sync_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


def test_board_in_chromium(built: tuple[Path, Path], browser) -> None:  # type: ignore[no-untyped-def]
    _, out = built
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
    page.goto((out / "board.html").as_uri())
    page.wait_for_load_state("load")

    cards = page.query_selector_all("article.card")
    assert len(cards) == 3
    for card in cards:
        img = card.query_selector("img.thumb")
        assert img is not None
        assert img.evaluate("i => i.complete && i.naturalWidth > 100 && i.naturalHeight > 50")

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "board.png"), full_page=True)

    # Clicking shot 2 plays its stretch of clip 01 (it starts 4 s in): time moves on.
    page.click("#shot-2 .screen")
    video = page.query_selector("#shot-2 video")
    assert video is not None
    page.wait_for_function(
        "v => !v.paused && v.currentTime > 4.3", arg=video, timeout=10_000, polling=100
    )
    first = video.evaluate("v => v.currentTime")
    time.sleep(0.3)
    assert video.evaluate("v => v.currentTime") > first
    assert video.evaluate("v => v.src").endswith(".mp4")

    # Shot 3 is clip 02 on its own, from its start.
    page.click("#shot-3 .screen")
    video3 = page.query_selector("#shot-3 video")
    page.wait_for_function("v => v.currentTime > 0.2", arg=video3, timeout=10_000, polling=100)
    assert video.evaluate("v => v.paused")  # the other shot stopped
    assert problems == []
    page.close()


def test_board_prints_one_scene_per_a4_landscape_page(
    built: tuple[Path, Path],
    browser,  # type: ignore[no-untyped-def]
) -> None:
    _, out = built
    page = browser.new_page()
    page.goto((out / "board.html").as_uri())
    page.wait_for_load_state("load")
    page.emulate_media(media="print")
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    page.close()
    boxes = re.findall(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert len(boxes) == 2  # two scenes, two pages
    width, height = (float(v) for v in boxes[0])
    assert (round(width), round(height)) == (842, 595)  # A4 landscape in points


def test_board_on_a_phone(built: tuple[Path, Path], browser) -> None:  # type: ignore[no-untyped-def]
    _, out = built
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    page.goto((out / "board.html").as_uri())
    page.wait_for_load_state("load")
    # One column, nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    lefts = page.eval_on_selector_all(
        "#scene-1 article.card", "cards => cards.map(c => c.getBoundingClientRect().left)"
    )
    assert len(set(lefts)) == 1
    page.close()

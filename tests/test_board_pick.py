"""A board a director would share (issue 13, item 5): keyframes, notes, cast, takes side by
side with their videos, and click-to-pick on the board `storyc watch --serve` serves.

The browser test runs the real command (`python -m storyc watch --serve`) on a story whose
takes the free preview renders, drives headless Chromium through playwright, clicks a take
and waits for the lock file to change and the page to show the new pick; it keeps a
screenshot (the path is printed). The refusals are plain HTTP requests to `serve`."""

from __future__ import annotations

import http.client
import io
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image
from rich.console import Console

from storyc.board.make import make_board
from storyc.board.picks import PickRefused, PickRequest, board_picker
from storyc.cli.watch import serve, watch_once
from storyc.frontend import compile_file
from storyc.plan.takes import lock_path
from storyc.sandbox import policy_for
from tests.board_support import chromium, write_story

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
KEY_GREEN = (20, 160, 60)
KEY_YELLOW = (240, 220, 30)

STORY = """\
title: The <Door> & the Street
model: sora-2
size: 1280x720
seed: 3

cameo mara: "refs/mara.mp4"
    look: courier in a <red> coat
    voice: warm alto

character kid:
    look: a boy of ten with a kite

scene "Street":
    shot door 4s takes 2:
        keyframe: "boards/door.png"
        camera: slow push in
        action: @mara knocks on the green door.
        note: the door must read as <green> & bright

    shot 4s:
        camera: pan left
        action: @kid runs past with his kite.
        @kid: "Mara! Look!"

scene "Roof":
    shot wide 4s:
        camera: static
        action: pigeons lift off the roof.
"""


def _story(folder: Path) -> Path:
    """The story, the cameo's clip and a keyframe drawn to be recognised: a yellow
    rectangle on green."""
    story = write_story(folder, STORY, name="street.story")
    (folder / "boards").mkdir()
    picture = Image.new("RGB", (1280, 720), KEY_GREEN)
    picture.paste(KEY_YELLOW, (400, 200, 880, 520))
    picture.save(folder / "boards" / "door.png")
    return story


def _picks(story: Path) -> dict[str, int] | None:
    path = lock_path(story)
    return json.loads(path.read_text())["picks"] if path.is_file() else None


# --- the page's content --------------------------------------------------------------------


def test_cards_show_keyframe_notes_cast_cost_and_takes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORYC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("STORYC_PREVIEW_TTS", "off")
    story = _story(tmp_path)
    out = tmp_path / "out"
    result = make_board(story, out)
    assert result.page is not None
    cards = {card.index: card for scene in result.page.scenes for card in scene.cards}
    # Shot 1's picture is its keyframe (a small copy beside the board), with the note.
    key = cards[1].keyframe
    assert key is not None and key.what == "keyframe"
    with Image.open(out / key.thumb) as still:
        assert still.convert("RGB").getpixel((still.width // 2, still.height // 2)) == (
            pytest.approx(KEY_YELLOW, abs=12)
        )
    assert cards[1].notes == ("the door must read as <green> & bright",)
    assert cards[2].keyframe is None and cards[3].keyframe is None
    # Cast per card: the cameo and the character each shot names.
    assert [(c.name, c.kind) for c in cards[1].cameos] == [("mara", "cameo")]
    assert [(c.name, c.kind) for c in cards[2].cameos] == [("kid", "character")]
    # Shots 1 and 2 share clip 01 and its two takes; shot 3 (clip 02) has none.
    assert [t.take for t in cards[1].takes] == [1, 2] == [t.take for t in cards[2].takes]
    assert [t.picked for t in cards[1].takes] == [True, False]
    assert cards[3].takes == () and cards[3].pick_command is None
    assert cards[1].pick_command == "storyc pick street.story 1"
    for take in cards[1].takes:
        assert take.media is not None and (out / take.media.src).is_file()
    assert cards[1].render == "8 s render, $0.00 a take; 2 takes $0.00"  # the preview is free
    assert cards[3].render == "4 s render, $0.00"
    # The cast strip: every cameo and character, with looks; the video cameo has a still.
    cast = {m.name: m for m in result.page.cast}
    assert list(cast) == ["mara", "kid"]
    assert cast["mara"].video and cast["mara"].thumb and (out / cast["mara"].thumb).is_file()
    assert cast["kid"].look == "a boy of ten with a kite" and cast["kid"].thumb is None

    html = (out / "board.html").read_text(encoding="utf-8")
    # Everything from the story is text: escaped, never markup.
    assert "courier in a &lt;red&gt; coat" in html and "<red>" not in html
    assert "the door must read as &lt;green&gt; &amp; bright" in html
    # Each take is a <video> of its rendered file, relative to the board.
    videos = re.findall(r'<video preload="metadata" muted playsinline controls src="([^"]+)"', html)
    assert len(videos) == 4  # two takes, on each of the two cards of clip 01
    for src in videos:
        assert not src.startswith(("/", "..")) and (out / src.split("#")[0]).is_file()
    assert '<meta name="storyc-token"' not in html  # only in the page a server sends


def test_picking_a_take_rebuilds_the_board_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORYC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("STORYC_PREVIEW_TTS", "off")
    story = _story(tmp_path)
    before = make_board(story, tmp_path / "out").page
    picker = board_picker(story, policy_for(story))
    plan = compile_file(story, picks=False).plan
    assert plan is not None and before is not None

    said = picker(PickRequest(clip=plan.clips[0].id, take=2))
    assert said == "clip 01 (shots #1, #2): take 2 of 2 (recorded in street.story.lock)"
    assert _picks(story) == {"1": 2}
    after = make_board(story, tmp_path / "out").page
    assert after is not None
    card = after.scenes[0].cards[0]
    assert [t.picked for t in card.takes] == [False, True]
    assert card.media is not None and card.media.src == card.takes[1].media.src  # type: ignore[union-attr]
    assert after.version != before.version


# --- the refusals, over plain HTTP ----------------------------------------------------------


@dataclass
class Server:
    story: Path
    out: Path
    port: int
    token: str
    clip: str

    def post(
        self,
        body: bytes | str | dict[str, object],
        *,
        host: str | None = "",
        origin: str | None = "",
        token: str | None = "",
        content_type: str = "application/json",
        path: str = "/pick",
    ) -> tuple[int, dict[str, str]]:
        """POST verbatim; "" means the right value, None leaves the header out."""
        data = (
            body
            if isinstance(body, bytes)
            else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
        )
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.putrequest("POST", path, skip_host=True, skip_accept_encoding=True)
            if host is not None:
                conn.putheader("Host", host or f"127.0.0.1:{self.port}")
            if origin is not None:
                conn.putheader("Origin", origin or f"http://127.0.0.1:{self.port}")
            if token is not None:
                conn.putheader("X-Storyc-Token", token or self.token)
            conn.putheader("Content-Type", content_type)
            conn.putheader("Content-Length", str(len(data)))
            conn.endheaders(data)
            response = conn.getresponse()
            return response.status, json.loads(response.read() or b"{}")
        finally:
            conn.close()


def _token(port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/board.html")
        page = conn.getresponse().read().decode()
    finally:
        conn.close()
    found = re.search(r'<meta name="storyc-token" content="([A-Za-z0-9_-]{32,})">', page)
    assert found, "the served page carries the token"
    return found.group(1)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("pick")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STORYC_CACHE_DIR", str(root / "cache"))
        patch.setenv("STORYC_PREVIEW_TTS", "off")
        story = _story(root)
        out = root / "out"
        watch_once(story, out, live="serve", console=Console(file=io.StringIO(), width=120))
        plan = compile_file(story, picks=False).plan
        assert plan is not None
        running, _url = serve(out, picker=board_picker(story, policy_for(story)))
        port = running.server_address[1]
        try:
            yield Server(story, out, port, _token(port), plan.clips[0].id)
        finally:
            running.shutdown()
            running.server_close()


def test_a_good_pick_is_written_as_storyc_pick_writes_it(server: Server) -> None:
    status, said = server.post({"clip": server.clip, "take": 2})
    assert status == 200, said
    assert said["message"].startswith("clip 01 (shots #1, #2): take 2 of 2")
    assert _picks(server.story) == {"1": 2}
    assert server.post({"clip": server.clip, "take": 1})[0] == 200
    assert _picks(server.story) == {"1": 1}
    # Same bytes as the command line writes.
    written = lock_path(server.story).read_text()
    lock_path(server.story).unlink()
    done = subprocess.run(
        [sys.executable, "-m", "storyc", "pick", str(server.story), "door", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert lock_path(server.story).read_text() == written


@pytest.mark.parametrize(
    ("headers", "status", "words"),
    [
        ({"host": "evil.example:{port}"}, 421, "127.0.0.1 only"),  # DNS rebinding
        ({"host": None}, 421, "127.0.0.1 only"),
        ({"origin": "http://evil.example"}, 403, "another site"),
        ({"origin": "http://localhost:{port}"}, 403, "another site"),  # not the Host's origin
        ({"origin": "null"}, 403, "another site"),
        ({"token": None}, 403, "X-Storyc-Token"),
        ({"token": "not-the-token"}, 403, "X-Storyc-Token"),
        ({"content_type": "text/plain"}, 415, "JSON"),
        ({"path": "/pick/../pick"}, 404, "only /pick"),
    ],
)
def test_a_pick_from_elsewhere_is_refused(
    server: Server, headers: dict[str, str | None], status: int, words: str
) -> None:
    lock = lock_path(server.story)
    lock.unlink(missing_ok=True)
    given = {
        k: (v.format(port=server.port) if isinstance(v, str) else v) for k, v in headers.items()
    }
    got, said = server.post({"clip": server.clip, "take": 2}, **given)  # type: ignore[arg-type]
    assert (got, words in said.get("error", "")) == (status, True), said
    assert not lock.exists()


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"\xff\xfe", 400, "not JSON"),
        ("[1, 2]", 400, "nothing else"),
        ({"clip": "{clip}", "take": 2, "shot": 1}, 400, "nothing else"),
        ({"clip": "{clip}", "take": "2"}, 400, "take number"),
        ({"clip": "{clip}", "take": True}, 400, "take number"),
        ({"clip": "{clip}", "take": 0}, 400, "take number"),
        ({"clip": "../etc", "take": 2}, 400, "clip id"),
        ({"clip": "0123456789abcdef", "take": 2}, 409, "out of date"),
        ({"clip": "{clip}", "take": 3}, 422, "no take 3"),
        ("x" * 2000, 413, "at most"),
    ],
)
def test_a_bad_pick_is_refused_with_a_reason(
    server: Server, body: bytes | str | dict[str, object], status: int, words: str
) -> None:
    lock = lock_path(server.story)
    lock.unlink(missing_ok=True)
    if isinstance(body, dict):
        body = {k: v.format(clip=server.clip) if isinstance(v, str) else v for k, v in body.items()}
    got, said = server.post(body)
    assert (got, words in said.get("error", "")) == (status, True), said
    assert not lock.exists()


def test_each_server_has_its_own_token(server: Server) -> None:
    other, _url = serve(server.out)
    try:
        theirs = _token(other.server_address[1])
        assert theirs != server.token
        got, said = server.post({"clip": server.clip, "take": 2}, token=theirs)
        assert got == 403, said
        # A server given no picker refuses to pick, and says how to instead.
        elsewhere = Server(server.story, server.out, other.server_address[1], theirs, server.clip)
        got, said = elsewhere.post({"clip": server.clip, "take": 2})
        assert got == 405 and "storyc pick" in said["error"]
    finally:
        other.shutdown()
        other.server_close()


# --- in a real browser, on the real command ------------------------------------------------


class Watch:
    """`python -m storyc watch --serve` in the background, its stderr read line by line."""

    def __init__(self, story: Path, out: Path, env: dict[str, str]):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "storyc", "watch", str(story), "-o", str(out), "--serve"],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.said: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.put(line)

    def wait_for(self, pattern: str, timeout: float = 120) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            self.said.append(line)
            found = re.search(pattern, line)
            if found:
                return found
        raise AssertionError(
            f"`storyc watch` never said {pattern!r}; it said:\n{''.join(self.said)}"
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def test_click_to_pick_in_chromium(tmp_path: Path) -> None:
    story = _story(tmp_path)
    env = {
        **os.environ,
        "STORYC_CACHE_DIR": str(tmp_path / "cache"),
        "STORYC_PREVIEW_TTS": "off",
        "COLUMNS": "300",
    }
    watch = Watch(story, tmp_path / "out", env)
    try:
        url = watch.wait_for(r"serving the board at (http://127\.0\.0\.1:\d+/board\.html)")[1]
        watch.wait_for(r"board: .*rendered:")
        with chromium() as browser:
            _drive(browser, url, story, watch)
    finally:
        watch.stop()


def _drive(browser, url: str, story: Path, watch: Watch) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(url)
    page.wait_for_load_state("load")

    # The keyframe is shot 1's picture: yellow in the middle, green at the edge (pixels).
    keyframe = page.wait_for_selector("#shot-1 img.thumb.keyframe")
    assert keyframe is not None
    page.wait_for_function("i => i.complete && i.naturalWidth > 100", arg=keyframe)
    pixels = keyframe.evaluate(
        """i => { const c = document.createElement("canvas");
                  c.width = i.naturalWidth; c.height = i.naturalHeight;
                  const g = c.getContext("2d"); g.drawImage(i, 0, 0);
                  const at = (x, y) => Array.from(g.getImageData(x, y, 1, 1).data.slice(0, 3));
                  return [at(c.width / 2, c.height / 2), at(4, 4)]; }"""
    )
    assert pixels[0] == pytest.approx(list(KEY_YELLOW), abs=16)
    assert pixels[1] == pytest.approx(list(KEY_GREEN), abs=16)
    assert page.inner_text("#shot-1 .kind") == "keyframe"
    # Notes and the cast, as text (the story's < and & are characters, not markup).
    assert page.inner_text("#shot-1 dd.note") == "the door must read as <green> & bright"
    assert page.eval_on_selector_all("#cast figure", "f => f.map(x => x.dataset.name)") == [
        "mara",
        "kid",
    ]
    page.wait_for_function(
        "() => { const i = document.querySelector('#cast img'); return i && i.naturalWidth > 0; }"
    )
    # The takes, side by side, each a video of its own rendered file.
    page.wait_for_function(
        "() => [...document.querySelectorAll('#shot-1 .takes video')]"
        ".every(v => v.readyState >= 1 && v.duration > 1)",
        timeout=20_000,
    )
    sources = page.eval_on_selector_all("#shot-1 .takes video", "vs => vs.map(v => v.src)")
    assert len(sources) == 2 and len(set(sources)) == 2
    assert all("/board/takes/clips/" in s or "/clips/" in s for s in sources)
    assert _picked(page) == ["1", "1"]
    version = page.evaluate("document.body.dataset.version")
    screen_before = page.get_attribute("#shot-1 .screen", "data-src")

    # Click take 2: the lock file changes, then the rebuilt page shows the new pick.
    with page.expect_event("load", timeout=90_000):
        page.click('#shot-1 button.pick[data-take="2"]')
        page.wait_for_function(
            "() => document.querySelector('#shot-1 .pick-status').textContent"
            ".includes('take 2 of 2')",
            timeout=30_000,
        )
        assert _picks(story) == {"1": 2}
    page.wait_for_load_state("load")
    assert page.evaluate("document.body.dataset.version") != version
    assert _picked(page) == ["2", "2"]  # both shots of clip 01
    assert page.get_attribute("#shot-1 .screen", "data-src") != screen_before
    assert (
        page.get_attribute("#shot-1 .screen", "data-src")
        == page.get_attribute('#shot-1 figure.take[data-take="2"] video', "src").split("#")[0]
    )
    page.wait_for_function("i => i.complete", arg=page.query_selector("#shot-1 img.thumb"))

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "board-pick.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")
    assert problems == []
    page.close()


def _picked(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The picked take on each card of clip 01."""
    return page.eval_on_selector_all(
        "#shot-1 figure.take.picked, #shot-2 figure.take.picked", "f => f.map(x => x.dataset.take)"
    )


def test_a_static_board_says_how_to_pick(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("STORYC_PREVIEW_TTS", "off")
    story = _story(tmp_path)
    make_board(story, tmp_path / "out")
    with chromium() as browser:
        page = browser.new_page()
        page.goto((tmp_path / "out" / "board.html").as_uri())
        page.click('#shot-2 button.pick[data-take="2"]')
        said = page.inner_text("#shot-2 .pick-status")
        page.close()
    assert "storyc pick street.story 2 2" in said and "storyc watch --serve" in said
    assert _picks(story) is None


def test_a_board_for_another_provider_picks_that_providers_clip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORYC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("STORYC_PREVIEW_TTS", "off")
    story = _story(tmp_path)
    page = make_board(story, tmp_path / "out", provider="openai").page
    assert page is not None
    clip = page.scenes[0].cards[0].pick_clip
    assert clip is not None
    # Every take is rendered and paid: the card says what they cost together.
    assert page.scenes[0].cards[0].render == "8 s render, $0.80 a take; 2 takes $1.60"
    # Clip ids depend on the provider: the picker compiles for the board's.
    with pytest.raises(PickRefused, match="out of date"):
        board_picker(story, policy_for(story))(PickRequest(clip=clip, take=2))
    said = board_picker(story, policy_for(story), provider="openai")(PickRequest(clip, 2))
    assert "take 2 of 2" in said and _picks(story) == {"1": 2}


def test_a_card_shows_the_still_storyc_keyframes_made_or_its_first_frame(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORYC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("STORYC_PREVIEW_TTS", "off")
    story = _story(tmp_path)
    text = story.read_text().replace("    shot 4s:\n", '    shot 4s from "boards/door.png":\n')
    story.write_text(text)
    out = tmp_path / "out"
    (out / "keyframes").mkdir(parents=True)
    Image.new("RGB", (640, 360), (200, 30, 30)).save(out / "keyframes" / "03-wide.png")
    page = make_board(story, out).page
    assert page is not None
    cards = {card.index: card for scene in page.scenes for card in scene.cards}
    assert [(i, c.keyframe.what if c.keyframe else None) for i, c in cards.items()] == [
        (1, "keyframe"),
        (2, "first frame"),
        (3, "keyframe"),
    ]
    first, second = cards[1].keyframe, cards[2].keyframe
    assert first is not None and second is not None
    assert first.thumb == second.thumb  # one file, one copy (named after its content)
    with Image.open(out / cards[3].keyframe.thumb) as still:  # type: ignore[union-attr]
        assert still.convert("RGB").getpixel((5, 5)) == pytest.approx((200, 30, 30), abs=12)
    html = (out / "board.html").read_text(encoding="utf-8")
    assert html.count('<span class="kind">first frame</span>') == 1


def test_the_served_board_cannot_be_framed_by_another_page(server: Server) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request("GET", "/board.html")
        response = conn.getresponse()
        response.read()
    finally:
        conn.close()
    assert response.getheader("X-Frame-Options") == "DENY"
    assert "frame-ancestors 'none'" in (response.getheader("Content-Security-Policy") or "")
    # In Chromium: another page that frames the board gets no board (so no take to click).
    with chromium() as browser:
        page = browser.new_page()
        page.set_content(
            f'<iframe id="f" src="http://127.0.0.1:{server.port}/board.html"></iframe>'
        )
        page.wait_for_timeout(1500)
        framed = [f for f in page.frames if f is not page.main_frame]
        assert len(framed) == 1
        assert framed[0].url != f"http://127.0.0.1:{server.port}/board.html" or (
            framed[0].evaluate("document.querySelectorAll('button.pick').length") == 0
        )
        page.close()
    assert not lock_path(server.story).exists()

"""`storyc watch --serve` serves the board to this machine's browser and nothing else
(issue 9, item 6): the `Host` must name the server, folders are not listed, nothing outside
the output folder is reachable (`..`, encoded `..`, symlinks), and no absolute path is in
what is served. A real server on 127.0.0.1, spoken to with http.client (which sends the
path and the headers exactly as given) and httpx."""

from __future__ import annotations

import http.client
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from rich.console import Console

from storyc.cli.watch import serve, watch_once
from tests.board_support import write_story

SECRET = "top secret, outside the board"


@dataclass
class Served:
    root: Path
    """The temp folder: the story, its references, a secret file and the output folder."""
    story: Path
    out: Path
    port: int

    def get(self, path: str, host: str | None = "", skip_host: bool = False) -> tuple[int, str]:
        """GET `path` verbatim; `host` "" means the right one, None sends no Host at all."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
            if host is not None:
                conn.putheader("Host", host or f"127.0.0.1:{self.port}")
            conn.endheaders()
            response = conn.getresponse()
            return response.status, response.read().decode("utf-8", "replace")
        finally:
            conn.close()


def _board(folder: Path, text: str | None = None) -> tuple[Path, Path]:
    story = write_story(folder) if text is None else write_story(folder, text)
    out = folder / "out"
    watch_once(story, out, live="serve", console=Console(file=io.StringIO(), width=120))
    return story, out


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("serve")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STORYC_CACHE_DIR", str(root / "cache"))
        story, out = _board(root)
    (root / "secret.html").write_text(SECRET, encoding="utf-8")
    (out / "leak.html").symlink_to(root / "secret.html")
    (out / "outside").symlink_to(root, target_is_directory=True)
    server, url = serve(out)
    assert server.server_address[0] == "127.0.0.1"
    assert url == f"http://127.0.0.1:{server.server_address[1]}/board.html"
    try:
        yield Served(root, story, out, server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def test_the_board_and_its_media_are_served(served: Served) -> None:
    status, page = served.get("/board.html")
    assert status == 200 and "Two &lt;Rooms&gt;" in page
    assert served.get("/board.version")[0] == 200
    media = re.findall(r'(?:src|data-src)="([^"]+\.(?:jpg|mp4))"', page)
    assert media and not any(m.startswith(("/", "..")) for m in media)
    for path in media:
        assert served.get("/" + path)[0] == 200, path
    for host in (f"localhost:{served.port}", f"LOCALHOST:{served.port}", f"[::1]:{served.port}"):
        assert served.get("/board.html", host=host)[0] == 200, host


def test_the_root_leads_to_the_board(served: Served) -> None:
    response = httpx.get(f"http://127.0.0.1:{served.port}/", follow_redirects=False)
    assert response.status_code == 302 and response.headers["location"] == "/board.html"
    followed = httpx.get(f"http://localhost:{served.port}/", follow_redirects=True)
    assert followed.status_code == 200 and 'fetch("board.version"' in followed.text


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example:{port}",  # DNS rebinding: a foreign name pointed at 127.0.0.1
        "127.0.0.1",
        "127.0.0.1:1",
        "localhost.evil.example:{port}",
        "0.0.0.0:{port}",
        None,
    ],
)
def test_a_foreign_host_is_refused(served: Served, host: str | None) -> None:
    sent = None if host is None else host.format(port=served.port)
    status, body = served.get("/board.html", host=sent)
    assert status == 421
    assert "Two &lt;Rooms&gt;" not in body


@pytest.mark.parametrize(
    "path", ["/board/", "/board", "/clips/", "/clips", "/outside/", "/outside"]
)
def test_folders_are_not_listed(served: Served, path: str) -> None:
    status, body = served.get(path)
    assert status == 404
    assert ".jpg" not in body and ".mp4" not in body


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.html",
        "/%2e%2e/secret.html",
        "/board/../../secret.html",
        "/clips/..%2f..%2fsecret.html",
        "/..%5csecret.html",
        "/leak.html",  # a symlink in the output folder to a file outside it
        "/outside/secret.html",  # a symlinked folder
        "/outside/rooms.story",
        "/plan.json",  # not part of the page (and it names the story's path)
        "/board.html%00.jpg",
    ],
)
def test_nothing_outside_the_board_is_served(served: Served, path: str) -> None:
    status, body = served.get(path)
    assert status == 404
    assert SECRET not in body and "title:" not in body


def _absolute_paths(served: Served) -> list[str]:
    return [
        str(served.root),
        str(served.root.resolve()),
        str(served.story.resolve()),
        str(served.out.resolve()),
        str(Path.home()),
    ]


def test_no_absolute_path_is_served(served: Served) -> None:
    for path in ("/board.html", "/board.version"):
        status, body = served.get(path)
        assert status == 200
        for absolute in _absolute_paths(served):
            assert absolute not in body, (path, absolute)
    assert "rooms.story" in served.get("/board.html")[1]


def test_a_board_with_errors_names_no_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORYC_CACHE_DIR", str(tmp_path / "cache"))
    story = write_story(tmp_path)
    story.write_text(story.read_text().replace("shot medium 4s:", "shot medium:"), "utf-8")
    out = tmp_path / "out"
    watch_once(story, out, live="serve", console=Console(file=io.StringIO(), width=120))
    server, url = serve(out)
    try:
        page = httpx.get(url).text
    finally:
        server.shutdown()
        server.server_close()
    assert "rooms.story:" in page  # the diagnostics say where, by the story's name
    for absolute in (str(tmp_path), str(tmp_path.resolve()), str(Path.home())):
        assert absolute not in page

"""The board's HTTP server for `storyc watch --serve`: this machine's browser, nothing else.

GET serves the board folder's page, pictures and videos (see `host_allowed`, `served_file`).
POST /pick picks a take (`storyc.board.picks`) and is refused unless all of these hold:

* the `Host` names this server (127.0.0.1, localhost or [::1] on its port): a page whose
  DNS name is rebound to 127.0.0.1 still sends its own name;
* the `Origin`, when the browser sends one, is this server's own (`http://` + that Host):
  another site's page cannot post to it;
* the `X-Storyc-Token` header carries the server's secret, made anew for every server and
  written only into the page it serves (not into board.html on disk): a page that cannot
  read ours (the same-origin policy) cannot know it, and the custom header makes a browser
  ask first (CORS preflight), which this server never grants;
* the body is small JSON with exactly a clip id and a take number that exist.

Every answer forbids framing (`X-Frame-Options`, CSP `frame-ancestors 'none'`), so another
site cannot show the board in a frame and have the user click a take there.

Every refusal is a 4xx with a JSON `{"error": "..."}` that says why.
"""

from __future__ import annotations

import functools
import hmac
import io
import json
import os
import secrets
import threading
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import unquote, urlsplit

from storyc.board.make import BOARD_FILE
from storyc.board.picks import MAX_PICK_BYTES, Picker, PickRefused, parse_pick
from storyc.errors import StorycError

SERVED_SUFFIXES = frozenset({".html", ".version", ".jpg", ".mp4"})
"""What a board is made of: the page, its version stamp, pictures, clips and the film.
Nothing else in the output folder is served (plan.json and the prompts are not the page's
business, and plan.json names the story by the path it was given)."""
PICK_PATH = "/pick"
TOKEN_HEADER = "X-Storyc-Token"
TOKEN_META = "storyc-token"
PAGE_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src 'self' data:; media-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
"""What the served page may do: its own inline script and style, its own pictures, videos
and requests, nothing from elsewhere, and never inside another page's frame."""


def host_allowed(host: str | None, port: int) -> bool:
    """Whether a request's `Host` names this server. A page from another site that rebinds
    its DNS name to 127.0.0.1 (DNS rebinding) still sends its own name, and is refused."""
    names = {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}
    return host is not None and host.strip().lower() in names


def origin_allowed(origin: str | None, host: str) -> bool:
    """Whether a request's `Origin` (absent: not a cross-site browser request) is the origin
    of the page this server serves under `host` (already checked by `host_allowed`)."""
    return origin is None or origin.strip().lower() == f"http://{host.strip().lower()}"


def served_file(root: Path, url_path: str) -> Path | None:
    """The board file a (decoded) URL path names inside `root`, or None: no folders, no
    `..`, nothing that resolves (through symlinks) outside `root`, only `SERVED_SUFFIXES`."""
    parts = url_path.split("/")
    if any(part in (".", "..") or "\\" in part or "\0" in part for part in parts):
        return None
    base = root.resolve()
    try:
        target = (base / url_path.lstrip("/")).resolve(strict=True)
    except (OSError, RuntimeError):  # missing, or a symlink loop
        return None
    if not target.is_relative_to(base) or not target.is_file():
        return None
    return target if target.suffix.lower() in SERVED_SUFFIXES else None


def with_token(page: bytes, token: str) -> bytes:
    """The page with the server's token in a `<meta>` right after `<head>` (the token is
    URL-safe base64: nothing to escape)."""
    meta = f'<head>\n<meta name="{TOKEN_META}" content="{token}">'.encode()
    return page.replace(b"<head>", meta, 1)


class _BoardHandler(SimpleHTTPRequestHandler):
    """The board folder, for a browser on this machine (see the module's docstring)."""

    timeout = 30
    """Seconds a connection may stay silent (a body shorter than its Content-Length must not
    hold a thread for ever)."""

    def __init__(self, *args: Any, token: str, picker: Picker | None, **kwargs: Any) -> None:
        # Set before the base class handles the request (its __init__ does).
        self.token = token
        self.picker = picker
        super().__init__(*args, **kwargs)

    def log_message(self, format: str, *args: object) -> None:
        return None

    def end_headers(self) -> None:
        # The board changes under the browser's feet: never serve a stale copy.
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        # No other page may frame this one: a framed board could be clicked on the user's
        # behalf (clickjacking), and its clicks would carry the token.
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Content-Security-Policy", PAGE_POLICY)
        super().end_headers()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def send_head(self) -> BinaryIO | None:
        if not host_allowed(self.headers.get("Host"), self.port):
            self.send_error(HTTPStatus.MISDIRECTED_REQUEST, "this server answers 127.0.0.1 only")
            return None
        path = unquote(urlsplit(self.path).path)
        if path == "/":
            self.send_response(HTTPStatus.FOUND)
            self.send_header("Location", "/" + BOARD_FILE)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        target = served_file(Path(self.directory), path)
        if target is None:
            self.send_error(HTTPStatus.NOT_FOUND)
            return None
        return self._open(target)

    def _open(self, target: Path) -> BinaryIO | None:
        try:
            handle: BinaryIO = target.open("rb")
        except OSError:
            self.send_error(HTTPStatus.NOT_FOUND)
            return None
        size = os.fstat(handle.fileno()).st_size
        if target.name == BOARD_FILE:
            with handle:
                handle = io.BytesIO(with_token(handle.read(), self.token))
            size = len(handle.getvalue())
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", self.guess_type(str(target)))
        self.send_header("Content-Length", str(size))
        self.end_headers()
        return handle

    def do_POST(self) -> None:
        try:
            message = self._pick()
        except PickRefused as refused:
            self._answer(refused.status, {"error": refused.message})
        else:
            self._answer(HTTPStatus.OK, {"message": message})

    def _pick(self) -> str:
        host = self.headers.get("Host")
        if host is None or not host_allowed(host, self.port):
            raise PickRefused(HTTPStatus.MISDIRECTED_REQUEST, "this server answers 127.0.0.1 only")
        if urlsplit(self.path).path != PICK_PATH:
            raise PickRefused(HTTPStatus.NOT_FOUND, f"only {PICK_PATH} takes a POST")
        if not origin_allowed(self.headers.get("Origin"), host):
            raise PickRefused(HTTPStatus.FORBIDDEN, "a pick from another site's page is refused")
        sent = self.headers.get(TOKEN_HEADER, "")
        if not hmac.compare_digest(sent.encode(), self.token.encode()):
            raise PickRefused(
                HTTPStatus.FORBIDDEN,
                f"missing or wrong {TOKEN_HEADER}: reload the board from this server",
            )
        kind = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if kind != "application/json":
            raise PickRefused(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send the pick as JSON")
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise PickRefused(HTTPStatus.LENGTH_REQUIRED, "a pick needs a Content-Length")
        if int(length) > MAX_PICK_BYTES:
            raise PickRefused(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"a pick is at most {MAX_PICK_BYTES} bytes"
            )
        request = parse_pick(self.rfile.read(int(length)))
        if self.picker is None:
            raise PickRefused(
                HTTPStatus.METHOD_NOT_ALLOWED,
                "this server does not pick; use `storyc pick FILE SHOT TAKE`",
            )
        return self.picker(request)

    def _answer(self, status: HTTPStatus, body: dict[str, str]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if status >= 400:
            self.close_connection = True  # an unread body must not be read as a request
        self.end_headers()
        self.wfile.write(data)


def serve(
    folder: Path, port: int = 0, *, picker: Picker | None = None
) -> tuple[ThreadingHTTPServer, str]:
    """Serve `folder` on 127.0.0.1 in a daemon thread; return the server and the board's URL.
    With `picker`, POST /pick picks a take (see the module's docstring)."""
    handler = functools.partial(
        _BoardHandler, directory=str(folder), token=secrets.token_urlsafe(32), picker=picker
    )
    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as exc:
        raise StorycError(f"cannot serve on 127.0.0.1:{port}: {exc.strerror}") from None
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="storyc-board-server", daemon=True)
    thread.start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/{BOARD_FILE}"

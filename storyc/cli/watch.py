"""`storyc watch FILE`: keep the preview and the board fresh while the writer types.

On every save: check again and print the diagnostics, render with the free preview only the
clips whose id changed (the clip cache already holds the others), and rebuild the board.
An open board reloads itself: with `--serve` the page is served on 127.0.0.1 and polls
`board.version`; opened as a file it carries a meta refresh.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections.abc import Callable, Iterator
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Annotated, BinaryIO
from urllib.parse import unquote, urlsplit

import typer
from rich.console import Console

from storyc.board.make import BOARD_FILE, BoardResult, make_board
from storyc.board.page import Live
from storyc.cli.board import preview_in_terminal, print_board_diagnostics
from storyc.cli.options import AllowPathOption, OutOption, ProviderOption
from storyc.cli.shared import default_out_dir
from storyc.errors import StorycError
from storyc.sandbox import ReferencePolicy, policy_for
from storyc.terminal import labelled, plain

DEBOUNCE_MS = 300


def watch_once(
    file: Path,
    out_dir: Path,
    *,
    provider: str | None = None,
    live: Live = "refresh",
    console: Console | None = None,
    policy: ReferencePolicy | None = None,
) -> BoardResult:
    """One round: check, print the diagnostics, render what changed, rebuild the board."""
    console = console if console is not None else Console(stderr=True, soft_wrap=True)
    try:
        result = make_board(
            file,
            out_dir,
            provider=provider,
            render=preview_in_terminal(console),
            live=live,
            policy=policy,
        )
    except StorycError as exc:  # e.g. the file was removed or renamed mid-save
        console.print(labelled("error:", "bold red", exc.message))
        raise
    print_board_diagnostics(result.compilation, console)
    plan = result.compilation.plan
    if plan is None:
        console.print("[red]not rebuilt[/]: the story has errors (the board lists them)")
    else:
        from storyc.cli.progress_view import clip_name

        names = {clip.id: f"{clip.index:02d} {clip_name(clip)}" for clip in plan.clips}
        rendered = [names.get(clip_id, clip_id) for clip_id in result.rendered]
        what = "; ".join(rendered) if rendered else "nothing (all clips were cached)"
        console.print(
            labelled(
                "board:", "green", f"{result.path} ({len(plan.clips)} clips); rendered: {what}"
            )
        )
    return result


def story_changes(
    file: Path, stop: threading.Event, *, debounce_ms: int = DEBOUNCE_MS
) -> Iterator[None]:
    """Yield once per burst of saves of `file` (editors write, rename and touch in bursts)."""
    import watchfiles

    target = file.resolve()

    def is_story(_change: object, path: str) -> bool:
        return Path(path).resolve() == target

    # The folder, not the file: editors that save by rename would drop a watch on the file.
    for _changes in watchfiles.watch(
        target.parent,
        watch_filter=is_story,
        debounce=debounce_ms,
        step=50,
        stop_event=stop,
        rust_timeout=200,
        yield_on_timeout=False,
    ):
        yield None


def watch_loop(
    file: Path,
    out_dir: Path,
    stop: threading.Event,
    *,
    provider: str | None = None,
    live: Live = "refresh",
    console: Console | None = None,
    debounce_ms: int = DEBOUNCE_MS,
    on_build: Callable[[BoardResult], None] | None = None,
    policy: ReferencePolicy | None = None,
) -> None:
    """Build once, then again after every save, until `stop` is set."""
    console = console if console is not None else Console(stderr=True, soft_wrap=True)

    def round_() -> None:
        try:
            result = watch_once(
                file, out_dir, provider=provider, live=live, console=console, policy=policy
            )
        except StorycError:
            return  # said already; keep watching for the next save
        if on_build is not None:
            on_build(result)

    round_()
    for _ in story_changes(file, stop, debounce_ms=debounce_ms):
        if stop.is_set():
            break
        round_()


SERVED_SUFFIXES = frozenset({".html", ".version", ".jpg", ".mp4"})
"""What a board is made of: the page, its version stamp, pictures, clips and the film.
Nothing else in the output folder is served (plan.json and the prompts are not the page's
business, and plan.json names the story by the path it was given)."""


def host_allowed(host: str | None, port: int) -> bool:
    """Whether a request's `Host` names this server. A page from another site that rebinds
    its DNS name to 127.0.0.1 (DNS rebinding) still sends its own name, and is refused."""
    names = {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}
    return host is not None and host.strip().lower() in names


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


class _BoardHandler(SimpleHTTPRequestHandler):
    """The board folder, for a browser on this machine (see `host_allowed`, `served_file`)."""

    def log_message(self, format: str, *args: object) -> None:
        return None

    def end_headers(self) -> None:
        # The board changes under the browser's feet: never serve a stale copy.
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

    def send_head(self) -> BinaryIO | None:
        if not host_allowed(self.headers.get("Host"), self.server.server_address[1]):
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
            handle = target.open("rb")
        except OSError:
            self.send_error(HTTPStatus.NOT_FOUND)
            return None
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", self.guess_type(str(target)))
        self.send_header("Content-Length", str(os.fstat(handle.fileno()).st_size))
        self.end_headers()
        return handle


def serve(folder: Path, port: int = 0) -> tuple[ThreadingHTTPServer, str]:
    """Serve `folder` on 127.0.0.1 in a daemon thread; return the server and the board's URL."""
    handler = functools.partial(_BoardHandler, directory=str(folder))
    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as exc:
        raise StorycError(f"cannot serve on 127.0.0.1:{port}: {exc.strerror}") from None
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="storyc-board-server", daemon=True)
    thread.start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/board.html"


def register(app: typer.Typer) -> None:
    @app.command()
    def watch(
        file: Annotated[Path, typer.Argument(help="The .story file to watch.")],
        out: OutOption = None,
        provider: ProviderOption = None,
        serve_board: Annotated[
            bool,
            typer.Option(
                "--serve", help="Serve the board on 127.0.0.1; the page reloads when it changes."
            ),
        ] = False,
        port: Annotated[int, typer.Option("--port", help="Port for --serve (0: any free).")] = 0,
        allow_path: AllowPathOption = None,
    ) -> None:
        """Re-check, re-render with the preview (only the clips that changed) and rebuild the
        board on every save of FILE. Stop with Ctrl-C.
        """
        if not file.is_file():
            raise StorycError(f"{file}: no such file", exit_code=2)
        from storyc.probe import ffmpeg_exe

        ffmpeg_exe()  # no ffmpeg: one clear message before anything starts
        policy = policy_for(file, allow_path or ())
        console = Console(stderr=True, soft_wrap=True)
        out_dir = out or default_out_dir(file)
        out_dir.mkdir(parents=True, exist_ok=True)
        server = None
        if serve_board:
            server, url = serve(out_dir, port)
            console.print(plain("serving the board at "), plain(url, "bold"), sep="")
        else:
            console.print(
                plain(f"open {(out_dir / 'board.html').resolve().as_uri()} (it refreshes itself)")
            )
        stop = threading.Event()
        try:
            watch_loop(
                file,
                out_dir,
                stop,
                provider=provider,
                live="serve" if serve_board else "refresh",
                console=console,
                policy=policy,
            )
        except KeyboardInterrupt:
            stop.set()
        finally:
            if server is not None:
                with contextlib.suppress(Exception):
                    server.shutdown()
                    server.server_close()

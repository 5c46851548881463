"""`storyc watch FILE`: keep the preview and the board fresh while the writer types.

On every save: check again and print the diagnostics, render with the free preview only the
clips whose id changed (the clip cache already holds the others), and rebuild the board.
An open board reloads itself: with `--serve` the page is served on 127.0.0.1 and polls
`board.version` (and a click on a take picks it: `storyc.cli.board_server`); opened as a file
it carries a meta refresh. A pick (`FILE.lock` changed) rebuilds the board too.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from storyc.board.make import BoardResult, make_board
from storyc.board.page import Live
from storyc.board.picks import board_picker
from storyc.cli.board import preview_in_terminal, print_board_diagnostics
from storyc.cli.board_server import host_allowed, serve, served_file
from storyc.cli.options import AllowPathOption, OutOption, ProviderOption
from storyc.cli.shared import default_out_dir
from storyc.errors import StorycError
from storyc.plan.takes import lock_path
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
    """Yield once per burst of saves of `file` (editors write, rename and touch in bursts)
    or of its picks (`FILE.lock`: a click on the served board, or `storyc pick`)."""
    import watchfiles

    target = file.resolve()
    watched = {target, lock_path(target)}

    def is_story(_change: object, path: str) -> bool:
        return Path(path).resolve() in watched

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


def register(app: typer.Typer) -> None:
    @app.command()
    def watch(
        file: Annotated[Path, typer.Argument(help="The .story file to watch.")],
        out: OutOption = None,
        provider: ProviderOption = None,
        serve_board: Annotated[
            bool,
            typer.Option(
                "--serve",
                help="Serve the board on 127.0.0.1; the page reloads when it changes, and a "
                "click on a take picks it.",
            ),
        ] = False,
        port: Annotated[int, typer.Option("--port", help="Port for --serve (0: any free).")] = 0,
        allow_path: AllowPathOption = None,
    ) -> None:
        """Re-check, re-render with the preview (only the clips that changed) and rebuild the
        board on every save of FILE or of its picks (FILE.lock). Stop with Ctrl-C.
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
            server, url = serve(out_dir, port, picker=board_picker(file, policy, provider=provider))
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


__all__ = ["host_allowed", "serve", "served_file", "watch_loop", "watch_once"]

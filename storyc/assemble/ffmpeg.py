"""Running the bundled ffmpeg: progress from `-progress`, errors as `StorycError`, no leaks.

Every process is waited for (and killed first if the caller is interrupted), its pipes are
closed, and a failure carries ffmpeg's last lines so the reason is visible.
"""

from __future__ import annotations

import subprocess
import threading
from collections import deque
from collections.abc import Iterable, Sequence
from pathlib import Path

from storyc.assemble.progress import ProgressCallback, no_progress
from storyc.errors import StorycError
from storyc.probe import ffmpeg_exe


class FfmpegError(StorycError):
    """ffmpeg refused or failed; the message ends with its own last words."""


def run_ffmpeg(
    args: Sequence[str],
    *,
    what: str,
    stdin_chunks: Iterable[bytes] | None = None,
    progress: ProgressCallback = no_progress,
    stage: str = "",
    total_us: int = 0,
) -> None:
    """Run `ffmpeg ARGS`, feeding `stdin_chunks` to its stdin, reporting `-progress` times.

    `what` names the job in errors ("joining the clips"). `total_us` is the length of the
    output in microseconds, for the progress bar.
    """
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostats", "-loglevel", "error", "-y"]
    cmd += ["-progress", "pipe:1", *args]
    stderr_tail: deque[str] = deque(maxlen=12)
    process = subprocess.Popen(
        cmd,
        stdin=subprocess.PIPE if stdin_chunks is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    feeder_error: list[BaseException] = []
    threads = [threading.Thread(target=_drain, args=(process, stderr_tail), daemon=True)]
    if stdin_chunks is not None:
        threads.append(
            threading.Thread(target=_feed, args=(process, stdin_chunks, feeder_error), daemon=True)
        )
    try:
        for thread in threads:
            thread.start()
        assert process.stdout is not None
        for raw in process.stdout:
            key, _, value = raw.decode("utf-8", "replace").strip().partition("=")
            if key == "out_time_us" and value.isdigit() and stage:
                progress(stage, min(int(value), total_us) if total_us else int(value), total_us)
        code = process.wait()
    except BaseException:
        process.kill()
        process.wait()
        raise
    finally:
        for thread in threads:
            thread.join(timeout=5)
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                stream.close()
    if code != 0 or feeder_error:
        detail = " / ".join(line for line in stderr_tail if line.strip()) or f"exit code {code}"
        raise FfmpegError(f"ffmpeg failed while {what}: {detail}")
    if stage and total_us:
        progress(stage, total_us, total_us)


def ffmpeg_output(args: Sequence[str], stdin: bytes, *, what: str) -> bytes:
    """Run `ffmpeg ARGS` on a small input held in memory and return what it writes to stdout."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostats", "-loglevel", "error", *args]
    done = subprocess.run(cmd, input=stdin, capture_output=True, check=False)
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
        raise FfmpegError(f"ffmpeg failed while {what}: {' '.join(detail) or done.returncode}")
    return done.stdout


def _drain(process: subprocess.Popen[bytes], tail: deque[str]) -> None:
    assert process.stderr is not None
    for raw in process.stderr:
        tail.append(raw.decode("utf-8", "replace").rstrip())


def _feed(
    process: subprocess.Popen[bytes], chunks: Iterable[bytes], errors: list[BaseException]
) -> None:
    assert process.stdin is not None
    try:
        for chunk in chunks:
            process.stdin.write(chunk)
        process.stdin.close()
    except BrokenPipeError:
        pass  # ffmpeg stopped reading; its exit code and stderr say why
    except BaseException as exc:
        errors.append(exc)
        process.kill()


def concat_list(entries: Sequence[tuple[Path, float]]) -> str:
    """An ffconcat script joining `entries` (file, exact duration in seconds) in order.

    The explicit durations make each file start exactly where the previous one's last frame
    ends, even when a file's audio runs a few ms past its video.
    """
    lines = ["ffconcat version 1.0"]
    for path, seconds in entries:
        quoted = str(path.resolve()).replace("'", "'\\''")
        lines.append(f"file '{quoted}'")
        lines.append(f"duration {seconds:.6f}")
    return "\n".join(lines) + "\n"

"""The `storyc` command line run in this process, the way the console script runs it.

`storyc_main(args, cwd=...)` calls `storyc.cli.main` (not just the Typer `app`) with
`sys.argv` set and the standard streams, environment and working folder swapped by
`typer.testing.CliRunner`, so a `StorycError` goes through the same `error:` / `hint:`
printer and exit status as in a terminal. It answers with the fields of a
`subprocess.CompletedProcess` (`returncode`, `stdout`, `stderr`), so a test can switch
between the two. An exception that `main` lets escape is not caught: it fails the test with
its traceback, where a subprocess would have printed one.

Keep a subprocess for what is about the process: signals, kill -9, FIFOs that could hang,
the installed console script itself.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from fakeprovider.testing import PROVIDER_VARIABLES
from typer.testing import CliRunner

from storyc.cli import main


@dataclass(frozen=True)
class Ran:
    """What one in-process run printed and how it ended (as `subprocess.CompletedProcess`)."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def cli_overrides(cache_dir: Path, columns: int = 200, **extra: str) -> dict[str, str | None]:
    """The in-process twin of `fakeprovider.testing.cli_env`: no provider setting (no real
    key can leak in), a wide terminal and a private cache; `extra` on top."""
    unset: dict[str, str | None] = dict.fromkeys(PROVIDER_VARIABLES)
    return unset | {"COLUMNS": str(columns), "STORYC_CACHE_DIR": str(cache_dir)} | extra


def storyc_main(
    args: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str | None] | None = None,
    input: str | None = None,
) -> Ran:
    """Run `storyc ARGS` in `cwd` through `storyc.cli.main`; `env` overrides this process's
    environment for the run (None unsets a variable)."""
    runner = CliRunner()
    with (
        runner.isolation(input=input, env=env) as (out, err, _mixed),
        _argv(["storyc", *args]),
        contextlib.chdir(cwd),
    ):
        try:
            main()
            code = 0
        except SystemExit as exit:
            code = _exit_status(exit.code)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        stdout = out.getvalue().decode("utf-8", errors="replace")
        stderr = err.getvalue().decode("utf-8", errors="replace")
    return Ran(list(args), code, stdout, stderr)


def _exit_status(code: object) -> int:
    """The status the interpreter would exit with for `SystemExit(code)`."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)  # as the interpreter prints `sys.exit("message")`
    return 1


@contextlib.contextmanager
def _argv(argv: list[str]) -> Iterator[None]:
    saved = sys.argv
    sys.argv = argv
    try:
        yield
    finally:
        sys.argv = saved

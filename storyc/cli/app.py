"""The `storyc` command line: a typer app whose commands are thin wrappers over the stages.

Each command lives in its own module under `storyc/cli/` and registers itself; this
module only assembles the app and turns `StorycError` into a message and an exit code.
"""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console

from storyc.errors import StorycError
from storyc.terminal import labelled

COMMAND_MODULES: tuple[str, ...] = (
    "storyc.cli.check",
    "storyc.cli.compile",
    "storyc.cli.rule",
    "storyc.cli.render",
    "storyc.cli.build",
    "storyc.cli.lint",
    "storyc.cli.fmt",
    "storyc.cli.lsp",
    "storyc.cli.board",
    "storyc.cli.watch",
    "storyc.cli.pick",
)
"""Every module here defines `register(app)`. There is no fallback: a module that is missing
or fails to import is a bug, and importing `storyc.cli` shows it."""

app = typer.Typer(
    name="storyc",
    help=(
        "Compile screenplay-like .story files into multi-shot AI videos.\n\n"
        "Typical flow: `storyc check FILE` (find mistakes), `storyc plan FILE` (clips, "
        "timings, cost), `storyc build FILE` (render with the free offline preview and "
        "assemble the film)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)


def _register_commands() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)


_register_commands()


def main() -> None:
    """Entry point of the `storyc` console script."""
    try:
        app()
    except StorycError as exc:
        # Messages quote file names, story text and providers' answers: print them as text.
        Console(stderr=True).print(labelled("error:", "bold red", exc.message))
        if exc.hint:
            Console(stderr=True).print(labelled("hint:", "cyan", exc.hint))
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        Console(stderr=True).print("interrupted; nothing already rendered was lost")
        sys.exit(130)


if __name__ == "__main__":
    main()

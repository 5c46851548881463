"""The `storyc` command line: a typer app whose commands are thin wrappers over the stages.

Each command lives in its own module under `storyc/cli/` and registers itself; this
module only assembles the app and turns `StorycError` into a message and an exit code.
"""

from __future__ import annotations

import importlib
import sys
from typing import Annotated

import typer
from rich.console import Console
from typer.core import TyperCommand

from storyc import __version__
from storyc.cli.helptext import StorycCommand, StorycGroup
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
    "storyc.cli.init",
    "storyc.cli.importer",
)
"""Every module here defines `register(app)`. There is no fallback: a module that is missing
or fails to import is a bug, and importing `storyc.cli` shows it."""

app = typer.Typer(
    name="storyc",
    help=(
        "Compile screenplay-like .story files into multi-shot AI videos.\n\n"
        "Typical flow: `storyc init DIR` (a new story), `storyc check FILE` (find mistakes), "
        "`storyc plan FILE` (clips, timings, cost), `storyc build FILE` (render with the free "
        "offline preview and assemble the film)."
    ),
    no_args_is_help=True,
    # typer's --install-completion and --show-completion (bash, zsh, fish, PowerShell)
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
    cls=StorycGroup,
)


def _print_version(value: bool) -> None:
    if value:
        print(f"storyc {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            help="Print storyc's version and exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    # The app's own options; its help is the Typer's `help` above.
    pass


def _register_commands() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)
    for command in app.registered_commands:
        # help in the writer's words (`FILE...`, `DIR`), not Python types (see helptext)
        if command.cls is None or command.cls is TyperCommand:
            command.cls = StorycCommand


_register_commands()


def main() -> None:
    """Entry point of the `storyc` console script."""
    try:
        # Always `storyc`: help and shell completion name the command, however it was started.
        app(prog_name="storyc")
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

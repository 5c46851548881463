"""The `storyc` command line: a typer app whose commands are thin wrappers over the stages.

Each command lives in its own module under `storyc/cli/` and registers itself; this
module only assembles the app and turns `StorycError` into a message and an exit code.

Command modules are imported when they are needed: `storyc build` imports `storyc.cli.build`
alone (found by `COMMAND_NAMES`), not the language server, the board or the formatter;
`storyc --help`, shell completion and any name not in `COMMAND_NAMES` import them all.
"""

from __future__ import annotations

import importlib
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperCommand
from typer.models import CommandInfo

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
    "storyc.cli.providers",
    "storyc.cli.keyframes",
)
"""Every module here defines `register(app)`. There is no fallback: a module that is missing
or fails to import is a bug, and running any command that needs it (or `--help`) shows it."""

COMMAND_NAMES: dict[str, str] = {
    "check": "storyc.cli.check",
    "compile": "storyc.cli.compile",
    "plan": "storyc.cli.compile",
    "rule": "storyc.cli.rule",
    "render": "storyc.cli.render",
    "build": "storyc.cli.build",
    "lint": "storyc.cli.lint",
    "fmt": "storyc.cli.fmt",
    "lsp": "storyc.cli.lsp",
    "board": "storyc.cli.board",
    "watch": "storyc.cli.watch",
    "pick": "storyc.cli.pick",
    "init": "storyc.cli.init",
    "import": "storyc.cli.importer",
    "providers": "storyc.cli.providers",
    "keyframes": "storyc.cli.keyframes",
}
"""Which module registers each command, so that running one imports only its module. Only a
shortcut: a command missing here is still found (every module is imported to look for it);
`tests/test_cli_ux.py` checks that each entry names the module that registers it."""

_imported: set[str] = set()


class _LazyGroup(StorycGroup):
    """The `storyc` group: a command's module is imported when the command is looked up."""

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands:
            module = COMMAND_NAMES.get(cmd_name)
            _load(self, [module] if module else COMMAND_MODULES)
            if cmd_name not in self.commands and module:
                _load(self, COMMAND_MODULES)
        return self.commands.get(cmd_name)

    def list_commands(self, ctx: Any) -> list[str]:
        _load(self, COMMAND_MODULES)
        return super().list_commands(ctx)


def _load(group: _LazyGroup, modules: tuple[str, ...] | list[str]) -> None:
    """Register `modules` on the app and add their commands to `group` (in the order of
    `COMMAND_MODULES`, as the help lists them)."""
    for name in modules:
        _register_module(name)
    known = set(group.commands)
    order = {name: n for n, name in enumerate(COMMAND_MODULES)}
    infos = sorted(
        enumerate(app.registered_commands),
        key=lambda item: (order.get(_module_of(item[1]), len(order)), item[0]),
    )
    commands = dict(group.commands)
    for _, info in infos:
        name = _name_of(info)
        if name not in known:
            commands[name] = typer.main.get_command_from_info(
                info,
                pretty_exceptions_short=app.pretty_exceptions_short,
                rich_markup_mode=app.rich_markup_mode,
            )
    ordered = sorted(commands, key=lambda n: order.get(_module_of_name(n), len(order)))
    group.commands = {name: commands[name] for name in ordered}


def _module_of(info: CommandInfo) -> str:
    return getattr(info.callback, "__module__", "") or ""


def _name_of(info: CommandInfo) -> str:
    assert info.callback is not None
    return info.name or typer.main.get_command_name(info.callback.__name__)


def _module_of_name(name: str) -> str:
    for info in app.registered_commands:
        if _name_of(info) == name:
            return _module_of(info)
    return ""


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
    cls=_LazyGroup,
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


def _register_module(name: str) -> None:
    """Import one command module and register its commands on `app` (once)."""
    if name in _imported:
        return
    importlib.import_module(name).register(app)
    _imported.add(name)
    for command in app.registered_commands:
        # help in the writer's words (`FILE...`, `DIR`), not Python types (see helptext)
        if command.cls is None or command.cls is TyperCommand:
            command.cls = StorycCommand


def _register_commands() -> None:
    """Register every command module (what `--help` lists); a missing one raises."""
    for name in COMMAND_MODULES:
        _register_module(name)


def main() -> None:
    """Entry point of the `storyc` console script."""
    try:
        # An unchanged `storyc build` answers from its stamp before typer converts options.
        if sys.argv[1:2] == ["build"]:
            from storyc.cli.build import up_to_date_before_parsing

            if up_to_date_before_parsing(sys.argv[2:]):
                return
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

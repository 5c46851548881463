"""The `storyc` command (`python -m storyc` and the installed script both run `main`).

`storyc lsp` goes straight to the language server: editors start it with nothing else on
the line, and every millisecond before its first diagnostics counts (the Typer app and its
command modules are not imported). Everything else, `storyc lsp --help` included, goes
through the command line app (`storyc.cli.app`).
"""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["lsp"]:
        from storyc.tooling.lsp_start import serve

        serve()
    from storyc.cli.app import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()

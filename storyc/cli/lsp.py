"""`storyc lsp`: run the language server on stdin/stdout (editors start it themselves)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command("lsp")
    def lsp_command() -> None:
        """Run the storyc language server on stdio, for editors (see docs/editors.md).

        It reports the same diagnostics as `storyc lint` while you type, and offers hover,
        completion, go to definition, references, rename, quick fixes, formatting, the
        outline and folding.
        """
        # Imported here: pygls is only needed when an editor starts the server. (`storyc
        # lsp` alone skips this app altogether: see `storyc.__main__`.)
        from storyc.tooling.lsp_start import serve

        serve()

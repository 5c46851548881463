"""The `storyc` command line: `app` (the Typer app and the error printer), the shared
`options`, one module per command, and the terminal views (`progress_view`)."""

from storyc.cli.app import app, main

__all__ = ["app", "main"]

"""Command-line options that several commands share, declared once so they read alike."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

OutOption = Annotated[
    Path | None, typer.Option("--out", "-o", help="Output folder (default build/NAME).")
]
RenderProviderOption = Annotated[
    str | None,
    typer.Option(
        "--provider",
        "-p",
        help="Render with this provider instead of the header's "
        "(preview: free and offline; openai, fal, prodia: paid, need a key).",
    ),
]
JobsOption = Annotated[int, typer.Option("--jobs", "-j", help="Clips in flight at once.")]
YesOption = Annotated[
    bool, typer.Option("--yes", "-y", help="Pay without asking (needed off a terminal).")
]
MaxCostOption = Annotated[
    float | None,
    typer.Option("--max-cost", help="Refuse to start a run estimated above this (USD)."),
]

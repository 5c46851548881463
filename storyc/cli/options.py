"""Command-line options that several commands share, declared once so they read alike."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer

OutOption = Annotated[
    Path | None,
    typer.Option("--out", "-o", metavar="DIR", help="Output folder (default build/NAME)."),
]
ProviderOption = Annotated[
    str | None,
    typer.Option(
        "--provider",
        "-p",
        metavar="NAME",
        help="Use this provider instead of the story header's (preview: free and offline; "
        "openai, fal, prodia, runway: paid, need a key). A list (runway,fal) renders on the "
        "first and sends a clip it refuses to the next.",
    ),
]
JobsOption = Annotated[
    int,
    typer.Option(
        "--jobs",
        "-j",
        metavar="N",
        help="Clips the provider works on at once (submitted and not yet finished); "
        "finished clips download alongside, at most N at a time. The free preview draws "
        "N clips at once.",
    ),
]
YesOption = Annotated[
    bool, typer.Option("--yes", "-y", help="Pay without asking (needed off a terminal).")
]


def _budget(value: float | None) -> float | None:
    # Every comparison with NaN is false, so `--max-cost nan` would switch the guard off.
    if value is not None and not (math.isfinite(value) and value >= 0):
        raise typer.BadParameter(f"must be a number of dollars, 0 or more, not {value}")
    return value


MaxCostOption = Annotated[
    float | None,
    typer.Option(
        "--max-cost",
        metavar="USD",
        help="Refuse to start a run estimated above this (USD).",
        callback=_budget,
    ),
]
ResubmitOption = Annotated[
    list[str] | None,
    typer.Option(
        "--resubmit",
        metavar="CLIP",
        help="Pay again for this uncertain clip (its number, e.g. 03, or its id): one whose "
        "earlier create went unanswered and may already be paid. Repeatable.",
    ),
]
ResubmitUncertainOption = Annotated[
    bool,
    typer.Option(
        "--resubmit-uncertain",
        help="Pay again for every uncertain clip (check the provider's dashboard first).",
    ),
]
AllowPathOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--allow-path",
        metavar="DIR",
        help="Also let the story reference files in DIR (repeatable). By default only files "
        "inside the story's project folder may be read and uploaded.",
    ),
]

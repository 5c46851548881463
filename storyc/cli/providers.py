"""`storyc providers`: every provider and model the table knows, what each accepts, its price,
its status and where its facts come from (`storyc/plan/models.toml`)."""

from __future__ import annotations

import json
import sys
import textwrap
from typing import Annotated, Any

import typer
from rich.console import Console

from storyc.errors import UsageError
from storyc.plan.capabilities import PROVIDERS, Offering, load_table, resolution_label
from storyc.terminal import json_visible, plain

WIDTH = 80


def _seconds(values: tuple[int, ...]) -> str:
    """`(3, 4, ..., 15)` -> `3-15 s`; `(4, 6, 8)` -> `4, 6, 8 s`."""
    ordered = sorted(values)
    if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{ordered[0]}-{ordered[-1]} s"
    return ", ".join(str(v) for v in ordered) + " s"


def _price(o: Offering) -> str:
    parts = [f"${o.usd_per_second:.3f}/s" + (" with sound" if o.usd_per_second_silent else "")]
    if o.usd_per_second_silent is not None:
        parts.append(f"${o.usd_per_second_silent:.3f}/s silent")
    for size, usd in o.usd_per_second_by_size.items():
        parts.append(f"${usd:.3f}/s at {size}")
    for size, usd in o.usd_per_second_silent_by_size.items():
        parts.append(f"${usd:.3f}/s silent at {size}")
    return "; ".join(parts)


def _cameos(o: Offering) -> str:
    if o.cameo_mode == "none":
        return "no"
    return f"up to {o.max_cameos} ({o.cameo_media}s, as {o.cameo_mode})"


def _seed(o: Offering) -> str:
    return f"{o.seed_min}..{o.seed_max}" if o.takes_seed else "no"


def offering_facts(o: Offering) -> dict[str, Any]:
    """One row as `--json` shows it: the facts a writer chooses by, as plain values."""
    return {
        "provider": o.provider,
        "model": o.model,
        "api_model": o.api_model,
        "sizes": list(o.sizes),
        "lengths": list(o.lengths),
        "reference_lengths": list(o.reference_lengths),
        "audio": o.audio,
        "seed": [o.seed_min, o.seed_max] if o.takes_seed else None,
        "cameos": {"mode": o.cameo_mode, "max": o.max_cameos, "media": o.cameo_media},
        "first_frame": o.first_frame or None,
        "multi_shot": o.multi_shot or None,
        "negative_prompt": o.negative_prompt or None,
        "prompt_max": o.prompt_max,
        "prompt_units": o.prompt_units,
        "usd_per_second": o.usd_per_second,
        "usd_per_second_silent": o.usd_per_second_silent,
        "usd_per_second_by_size": dict(o.usd_per_second_by_size),
        "usd_per_second_silent_by_size": dict(o.usd_per_second_silent_by_size),
        "status": o.status,
        "verify": list(o.verify),
        "source": o.source,
        "checked": o.checked,
    }


def offering_lines(o: Offering, width: int = WIDTH) -> list[str]:
    """One row as text, every line at most `width` columns (long sources wrap)."""
    sizes = ", ".join(f"{s} ({resolution_label(s)})" for s in o.sizes)
    facts = [
        ("sizes", sizes),
        (
            "lengths",
            _seconds(o.lengths)
            + (
                f" (with references: {_seconds(o.reference_lengths)})"
                if o.reference_lengths
                else ""
            ),
        ),
        ("audio", o.audio),
        ("seed", _seed(o)),
        ("cameos", _cameos(o)),
        ("first frame", f"yes ({o.first_frame})" if o.first_frame else "no"),
        ("shots", f"up to {o.max_shots} as {o.multi_shot}" if o.multi_shot else "one prompt"),
        ("avoid", f"as {o.negative_prompt}" if o.negative_prompt else "folded into the prompt"),
        ("prompt", f"up to {o.prompt_max:,} {o.prompt_units}"),
        ("price", _price(o)),
        ("status", o.status or "-"),
        ("verify", ", ".join(o.verify) or "-"),
        ("checked", o.checked or "-"),
        ("source", o.source or "-"),
    ]
    lines = [f"{o.provider} / {o.model}  ({o.api_model})"]
    label_width = 13
    indent = " " * (2 + label_width)
    for label, value in facts:
        # each source on its own line: they are URLs and file names, which wrap badly
        pieces = value.split("; ") if label == "source" else [value]
        for number, piece in enumerate(pieces):
            wrapped = textwrap.wrap(
                piece,
                width=width,
                initial_indent=f"  {label if number == 0 else '':<{label_width - 1}} ",
                subsequent_indent=indent,
                break_on_hyphens=False,
            ) or [f"  {label}"]
            # a URL longer than a line is broken inside (`--json` has it whole)
            lines += wrapped
    return lines


def register(app: typer.Typer) -> None:
    @app.command("providers")
    def providers_command(
        provider: Annotated[
            str | None,
            typer.Option("--provider", help="Only this provider's models (fal, runway, ...)."),
        ] = None,
        model: Annotated[
            str | None, typer.Option("--model", help="Only this model (veo-3.1, ...).")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the rows as JSON.")] = False,
    ) -> None:
        """List every provider and model storyc knows: sizes, lengths, audio, seeds, cameos,
        first frames, price, status, and the source and date each row was checked against."""
        table = load_table()
        rows = list(table.offerings)
        if provider is not None:
            if provider not in PROVIDERS:
                raise UsageError(
                    f"`{provider}` is not a provider",
                    hint=f"providers: {', '.join(PROVIDERS)}",
                )
            rows = [o for o in rows if o.provider == provider]
        if model is not None:
            if model not in table.models():
                raise UsageError(
                    f"`{model}` is not a model storyc knows",
                    hint=f"models: {', '.join(table.models())}",
                )
            rows = [o for o in rows if o.model == model]
        if as_json:
            text = json.dumps([offering_facts(o) for o in rows], indent=2, ensure_ascii=False)
            sys.stdout.write(json_visible(text) + "\n")
            return
        console = Console(width=max(WIDTH, Console().width))
        if not rows:
            console.print(plain(f"no model is served by `{provider}`"))
            return
        console.print(
            plain("preview renders any model offline, free, within its first provider's limits.")
        )
        for o in rows:
            console.print()
            for line in offering_lines(o):
                console.print(plain(line), soft_wrap=True)

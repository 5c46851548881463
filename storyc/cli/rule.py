"""`storyc rule CODE`: what a diagnostic code catches, with a bad and a good example."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from storyc.check.catalog import RULES, rule
from storyc.errors import UsageError
from storyc.terminal import plain


def register(app: typer.Typer) -> None:
    @app.command("rule")
    def rule_command(
        code: Annotated[
            str | None, typer.Argument(help="A code (S101) or name (undeclared-name).")
        ] = None,
        all_rules: Annotated[bool, typer.Option("--all", help="List every rule.")] = False,
    ) -> None:
        """Explain a diagnostic code; without one, list them all."""
        console = Console()
        if code is None or all_rules:
            for r in RULES:
                # Text: summaries quote the language (`[tool.storyc]`), not markup.
                first = r.summary.split(". ")[0]
                console.print(plain(f"{r.code}  {r.name:<26} {r.severity.value:<8} {first}"))
            return
        found = rule(code)
        if found is None:
            raise UsageError(f"no rule is called `{code}`", hint="`storyc rule` lists them all")
        console.out(found.document(), highlight=False)

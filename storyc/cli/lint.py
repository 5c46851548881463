"""`storyc lint FILE...|DIR`: the checker's diagnostics for CI and editors, with fixes."""

from __future__ import annotations

import dataclasses
import functools
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from storyc.check.diagnostics import (
    Diagnostic,
    Severity,
    render_github,
    render_json,
    sorted_diagnostics,
    summary_line,
)
from storyc.check.sarif import render_sarif
from storyc.cli.fmt import unified_diff, write_story
from storyc.cli.options import AllowPathOption, ProviderOption
from storyc.cli.shared import OutputFormat, print_diagnostics, stories_in
from storyc.frontend import Compilation, analyze_source, read_story
from storyc.fsutil import normalise_newlines
from storyc.sandbox import ReferencePolicy, allowed_paths
from storyc.terminal import diff_text, plain
from storyc.tooling.lint import fix_source, lint_source, selection_for, split_selectors


class LintFormat(StrEnum):
    full = "full"
    concise = "concise"
    json = "json"
    github = "github"
    sarif = "sarif"


def _fails(diagnostics: list[Diagnostic]) -> bool:
    """Lint fails on errors and warnings; notes (info) never fail it."""
    return any(d.severity is not Severity.INFO for d in diagnostics)


def _print(results: list[Compilation], output: LintFormat, console: Console) -> list[Diagnostic]:
    everything = sorted_diagnostics(d for c in results for d in c.diagnostics)
    if output is LintFormat.github:
        for d in everything:
            console.out(render_github(d))
    elif output is LintFormat.sarif:
        console.out(render_sarif(everything))
    elif output is LintFormat.json:
        console.out(render_json(everything))
    else:
        print_diagnostics(results, OutputFormat(output.value), console)
    return everything


def register(app: typer.Typer) -> None:
    @app.command("lint")
    def lint_command(
        files: Annotated[list[Path], typer.Argument(help="Story files or folders to lint.")],
        output: Annotated[
            LintFormat,
            typer.Option(
                "--format",
                help="full: snippets with carets; concise: one line each; json; github: "
                "workflow commands for GitHub Actions; sarif: SARIF 2.1.0 for code scanning.",
            ),
        ] = LintFormat.full,
        fix: Annotated[
            bool, typer.Option("--fix", help="Apply the safe fixes and write the files.")
        ] = False,
        unsafe_fixes: Annotated[
            bool,
            typer.Option(
                "--unsafe-fixes",
                help="With --fix or --diff, also apply fixes that change what the film says "
                "(declare a missing character, split a too-long shot).",
            ),
        ] = False,
        diff: Annotated[
            bool,
            typer.Option("--diff", help="Print the diff the fixes would make; write nothing."),
        ] = False,
        select: Annotated[
            list[str] | None,
            typer.Option(
                "--select",
                metavar="RULES",
                help="Only these rules: codes, names or prefixes, comma-separated (S101,C3). "
                "Replaces the config's `select`.",
            ),
        ] = None,
        ignore: Annotated[
            list[str] | None,
            typer.Option(
                "--ignore", metavar="RULES", help="Leave out these rules (added to the config's)."
            ),
        ] = None,
        provider: ProviderOption = None,
        exit_zero: Annotated[
            bool, typer.Option("--exit-zero", help="Exit 0 even if problems remain.")
        ] = False,
        allow_path: AllowPathOption = None,
    ) -> None:
        """Lint stories: every diagnostic storyc knows, with suppressions and fixes.

        Rules come from `select`/`ignore` in the nearest `storyc.toml` (or `[tool.storyc]`
        in `pyproject.toml`); `# storyc: ignore[CODE]` on a line, or
        `# storyc: ignore-file[CODE]`, silences a rule there.

        Exit status: 0 clean (notes only), 1 errors or warnings remain (or `--diff` has
        changes), 2 usage, config or file problems.
        """
        console = Console(soft_wrap=True, highlight=False)
        err = Console(stderr=True, highlight=False)
        chosen = split_selectors(select or []) or None
        left_out = split_selectors(ignore or [])
        results: list[Compilation] = []
        fixed = 0
        diffs = 0
        allowed = allowed_paths(allow_path or ())
        for path in stories_in(files):
            selection = selection_for(path, chosen, left_out)
            policy = ReferencePolicy.for_story(path, allowed)
            analyze = functools.partial(analyze_source, policy=policy)
            original = read_story(path)
            source = normalise_newlines(original)
            if fix or diff:
                outcome = fix_source(
                    source,
                    str(path),
                    selection,
                    unsafe=unsafe_fixes,
                    provider=provider,
                    analyze=analyze,
                )
                if outcome.source != source:
                    if diff:
                        diffs += 1
                        patch = unified_diff(path, source, outcome.source, "fixed")
                        console.out(diff_text(patch, console.is_terminal), end="")
                    else:
                        write_story(path, outcome.source, original)
                        fixed += len(outcome.applied)
                for dropped in outcome.dropped:
                    err.print(
                        plain(
                            f"{path}:{dropped.span.line}: the fix for {dropped.code} "
                            "would break the parse; left as is"
                        )
                    )
                if not diff:
                    source = outcome.source
            if diff:
                continue
            result = lint_source(source, str(path), selection, provider=provider, analyze=analyze)
            results.append(dataclasses.replace(result.compilation, diagnostics=result.diagnostics))
        if diff:
            err.print(f"{diffs} file{'s' if diffs != 1 else ''} would be changed.")
            raise typer.Exit(1 if diffs and not exit_zero else 0)
        everything = _print(results, output, console)
        if output in (LintFormat.full, LintFormat.concise):
            line = summary_line(everything)
            notes = sum(d.severity is Severity.INFO for d in everything)
            if notes:
                line += f" ({notes} note{'s' if notes != 1 else ''})"
            if fixed:
                line = f"Fixed {fixed} problem{'s' if fixed != 1 else ''}. " + line
            fixable = sum(1 for d in everything if d.fix is not None and d.fix.safe)
            if fixable:
                line += f" {fixable} fixable with `storyc lint --fix`."
            sys.stdout.flush()  # the summary goes to stderr: keep it after the report
            err.print(line)
        if _fails(everything) and not exit_zero:
            raise typer.Exit(1)

"""Lint: the checker's diagnostics under the rule policy, and their safe fixes.

The diagnostics come from `storyc.frontend.analyze_source`, the one front end; which of
them a writer sees (`select`/`ignore`, `# storyc: ignore[CODE]`) is `storyc.check.policy`.
This module adds the fixes (`storyc lint --fix`) and applies them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from storyc.check.diagnostics import Diagnostic, Edit
from storyc.check.policy import (
    BAD_SUPPRESSION,
    CONFIG_KEYS,
    UNUSED_SUPPRESSION,
    LintConfig,
    RuleSelection,
    Suppression,
    Suppressions,
    apply_policy,
    expand_selector,
    find_config,
    is_syntax_code,
    read_suppressions,
    selection_for,
    split_selectors,
)
from storyc.frontend import Compilation, analyze_source
from storyc.fsutil import normalise_newlines
from storyc.language.model import Story
from storyc.language.parse import ParsedStory, parse_story
from storyc.tooling.quickfix import extra_fixes

MAX_FIX_PASSES = 10

__all__ = [
    "BAD_SUPPRESSION",
    "CONFIG_KEYS",
    "UNUSED_SUPPRESSION",
    "LintConfig",
    "RuleSelection",
    "Suppression",
    "Suppressions",
    "apply_policy",
    "expand_selector",
    "find_config",
    "is_syntax_code",
    "read_suppressions",
    "selection_for",
    "split_selectors",
]

# -- linting and fixing ------------------------------------------------------------------------

Analyzer = Callable[..., Compilation]


@dataclass
class LintResult:
    compilation: Compilation
    diagnostics: list[Diagnostic]
    """After the policy: what the writer sees."""
    parsed: ParsedStory


def lint_source(
    source: str,
    file: str = "<story>",
    selection: RuleSelection | None = None,
    *,
    provider: str | None = None,
    analyze: Analyzer = analyze_source,
) -> LintResult:
    parsed = parse_story(source, file)
    compilation = analyze(
        parsed.source,
        file,
        provider=provider,
        want_plan=False,
        parsed=parsed,
        rules=selection or RuleSelection(),
    )
    shown = compilation.diagnostics
    if compilation.story is not None:
        shown = [_with_extra_fix(d, compilation.story, parsed.source, provider) for d in shown]
    return LintResult(compilation, shown, parsed)


def _with_extra_fix(d: Diagnostic, story: Story, source: str, provider: str | None) -> Diagnostic:
    if d.fix is not None:
        return d
    extras = extra_fixes(d, story, source, provider)
    return d.model_copy(update={"fix": extras[0]}) if extras else d


def _line_starts(source: str) -> list[int]:
    starts = [0]
    for index, char in enumerate(source):
        if char == "\n":
            starts.append(index + 1)
    return starts


def _offset(starts: list[int], source: str, line: int, column: int) -> int:
    if line > len(starts):
        return len(source)
    line_end = starts[line] - 1 if line < len(starts) else len(source)
    return min(starts[line - 1] + column - 1, line_end)


def edit_offsets(source: str, edits: Iterable[Edit]) -> list[tuple[int, int, str]]:
    """The edits as (start, end, text) offsets into `source`, in order."""
    starts = _line_starts(source)
    return sorted(
        (
            _offset(starts, source, e.span.line, e.span.column),
            _offset(starts, source, e.span.end_line, e.span.end_column),
            e.text,
        )
        for e in edits
    )


def apply_edits(source: str, edits: Iterable[Edit]) -> str:
    """Apply non-overlapping edits (spans refer to `source`)."""
    out = source
    for start, end, text in reversed(edit_offsets(source, edits)):
        out = out[:start] + text + out[end:]
    return out


@dataclass
class FixOutcome:
    source: str
    applied: list[Diagnostic] = field(default_factory=list)
    dropped: list[Diagnostic] = field(default_factory=list)
    """Fixes that would have broken the parse."""


def _syntax_problems(source: str) -> list[tuple[str, int, int]]:
    return [(d.code, d.span.line, d.span.column) for d in parse_story(source).diagnostics]


def _breaks_parse(
    d: Diagnostic, before: list[tuple[str, int, int]], after: list[tuple[str, int, int]]
) -> bool:
    """More syntax problems than before, or (for a syntax fix) its own problem still there."""
    if len(after) > len(before):
        return True
    return is_syntax_code(d.code) and (d.code, d.span.line, d.span.column) in after


def fix_source(
    source: str,
    file: str = "<story>",
    selection: RuleSelection | None = None,
    *,
    unsafe: bool = False,
    provider: str | None = None,
    analyze: Analyzer = analyze_source,
) -> FixOutcome:
    """Apply the fixes of the diagnostics a writer sees until none is left (safe fixes only
    unless `unsafe`). Each fix is re-parsed; one that adds a syntax error is dropped."""
    outcome = FixOutcome(normalise_newlines(source))
    refused: set[tuple[str, str, int, int]] = set()
    for _ in range(MAX_FIX_PASSES):
        result = lint_source(outcome.source, file, selection, provider=provider, analyze=analyze)
        fixable = [
            d
            for d in result.diagnostics
            if d.fix is not None
            and (d.fix.safe or unsafe)
            and (d.code, d.fix.title, d.span.line, d.span.column) not in refused
        ]
        if not fixable:
            break
        changed = False
        floor = len(outcome.source) + 1
        by_position = [(edit_offsets(outcome.source, d.fix.edits), d) for d in fixable if d.fix]
        by_position.sort(key=lambda pair: pair[0][0][0] if pair[0] else 0, reverse=True)
        before = _syntax_problems(outcome.source)
        for offsets, d in by_position:
            assert d.fix is not None
            if not offsets or offsets[-1][1] > floor or any(s == e == floor for s, e, _ in offsets):
                continue  # overlaps a fix applied in this pass: try again in the next
            candidate = apply_edits(outcome.source, d.fix.edits)
            after = _syntax_problems(candidate)
            if _breaks_parse(d, before, after):
                refused.add((d.code, d.fix.title, d.span.line, d.span.column))
                outcome.dropped.append(d)
                continue
            outcome.source, before = candidate, after
            outcome.applied.append(d)
            floor = offsets[0][0]
            changed = True
        if not changed:
            break
    return outcome

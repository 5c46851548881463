"""Lint policy over the checker's diagnostics: which rules are on, suppressions, safe fixes.

The diagnostics themselves come from `storyc.frontend.analyze_source`, the one front end;
this module only decides which of them a writer sees (`select`/`ignore` from the command
line or a config file, `# storyc: ignore[CODE]` comments) and applies their fixes.

Config: `select` and `ignore` lists (codes, names or code prefixes such as `S1`, or `ALL`)
in a `storyc.toml`, or under `[tool.storyc]` in a `pyproject.toml`, the nearest one found
walking up from the story file. Syntax errors (E0xx) are always reported.

Suppressions:
- `# storyc: ignore[S101, C301]` after code silences those codes on that line; alone on its
  line, it silences them on the next line of code.
- `# storyc: ignore-file[S103]` anywhere silences them in the whole file.
A suppression that silences nothing is reported as S190 unused-suppression (with a fix
that removes it); one storyc cannot read as S191 bad-suppression.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from storyc.check.catalog import BY_CODE, rule
from storyc.check.diagnostics import Diagnostic, Edit, Fix, sorted_diagnostics
from storyc.errors import UsageError
from storyc.frontend import Compilation, analyze_source
from storyc.language.comments import Comment, comments_of
from storyc.language.model import Span, Story
from storyc.language.parse import ParsedStory, parse_story
from storyc.tooling.quickfix import extra_fixes

CONFIG_KEYS = ("select", "ignore")
UNUSED_SUPPRESSION = "S190"
BAD_SUPPRESSION = "S191"
MAX_FIX_PASSES = 10


def is_syntax_code(code: str) -> bool:
    """Syntax errors: always reported, never suppressed."""
    return code.startswith("E0")


# -- rule selection ----------------------------------------------------------------------------


def expand_selector(selector: str) -> frozenset[str]:
    """The codes a selector names: `ALL`, a code, a name, or a code prefix like `S1`."""
    key = selector.strip()
    if key.upper() == "ALL":
        return frozenset(BY_CODE)
    found = rule(key)
    if found is not None:
        return frozenset({found.code})
    prefix = key.upper()
    codes = frozenset(code for code in BY_CODE if code.startswith(prefix))
    if not prefix or not codes:
        raise UsageError(
            f"`{selector}` names no rule",
            hint="use a code (S101), a name (undeclared-name), a prefix (S1) or ALL; "
            "`storyc rule` lists them",
        )
    return codes


def split_selectors(values: Iterable[str]) -> list[str]:
    """`--select S101,C3 --select P2` -> ["S101", "C3", "P2"]."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


@dataclass(frozen=True)
class RuleSelection:
    enabled: frozenset[str] = frozenset(BY_CODE)

    @classmethod
    def from_lists(cls, select: Sequence[str] | None, ignore: Sequence[str] = ()) -> RuleSelection:
        """`select` (all rules when None) minus `ignore`."""
        chosen: set[str] = set()
        for selector in select if select is not None else ["ALL"]:
            chosen |= expand_selector(selector)
        for selector in ignore:
            chosen -= expand_selector(selector)
        return cls(frozenset(chosen))

    def is_enabled(self, code: str) -> bool:
        return is_syntax_code(code) or code in self.enabled or code not in BY_CODE


# -- config files ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LintConfig:
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    path: Path | None = None
    """The file it was read from; None for the defaults."""


def _read_toml(path: Path) -> dict[str, object]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read it ({exc.strerror})") from None


def _config_from(table: dict[str, object], path: Path, where: str) -> LintConfig:
    unknown = sorted(set(table) - set(CONFIG_KEYS))
    if unknown:
        raise UsageError(
            f"{path}: unknown key `{unknown[0]}` in {where}",
            hint=f"storyc reads: {', '.join(CONFIG_KEYS)}",
        )
    lists: dict[str, tuple[str, ...]] = {}
    for key in CONFIG_KEYS:
        value = table.get(key)
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise UsageError(f'{path}: `{key}` in {where} is a list of codes, like ["S101", "C3"]')
        for selector in value:
            try:
                expand_selector(selector)
            except UsageError as exc:
                raise UsageError(f"{path}: {exc.message} (in `{key}`)", hint=exc.hint) from None
        lists[key] = tuple(value)
    return LintConfig(select=lists.get("select"), ignore=lists.get("ignore", ()), path=path)


@cache
def _config_file(path: Path, stamp: tuple[int, int]) -> LintConfig | None:
    """The config in one file (cached until the file changes: `stamp` is mtime and size)."""
    data = _read_toml(path)
    if path.name == "storyc.toml":
        return _config_from(data, path, "storyc.toml")
    tool = data.get("tool")
    table = tool.get("storyc") if isinstance(tool, dict) else None
    return _config_from(table, path, "[tool.storyc]") if isinstance(table, dict) else None


def _config_in(directory: Path) -> LintConfig | None:
    for name in ("storyc.toml", "pyproject.toml"):
        path = directory / name
        try:
            stat = path.stat()
        except OSError:
            continue
        found = _config_file(path, (stat.st_mtime_ns, stat.st_size))
        if found is not None:
            return found
    return None


def find_config(story_path: Path) -> LintConfig:
    """The nearest `storyc.toml` or `pyproject.toml` with `[tool.storyc]` above the file."""
    start = story_path.resolve().parent
    for directory in (start, *start.parents):
        found = _config_in(directory)
        if found is not None:
            return found
    return LintConfig()


def selection_for(
    story_path: Path | None, select: Sequence[str] | None = None, ignore: Sequence[str] = ()
) -> RuleSelection:
    """The rules for one file: the command line's `select` replaces the config's; both
    `ignore` lists apply."""
    config = find_config(story_path) if story_path is not None else LintConfig()
    chosen = list(select) if select else config.select
    return RuleSelection.from_lists(chosen, [*config.ignore, *ignore])


# -- suppressions ------------------------------------------------------------------------------

_DIRECTIVE = re.compile(r"#\s*storyc:\s*(?P<kind>[A-Za-z-]*)\s*(?P<bracket>\[(?P<codes>[^\]]*)\])?")


@dataclass(frozen=True)
class Suppression:
    comment: Comment
    target_line: int | None
    """The line it silences; None for the whole file."""
    codes: tuple[str, ...]
    span: Span
    """The directive, from its `#` to its `]`."""
    start: int
    end: int
    """The directive's 0-based offsets in its line."""


@dataclass
class Suppressions:
    entries: list[Suppression] = field(default_factory=list)
    problems: list[Diagnostic] = field(default_factory=list)


def _next_code_line(lines: list[str], after: int, comment_lines: set[int]) -> int | None:
    for number in range(after + 1, len(lines) + 1):
        if lines[number - 1].strip() and number not in comment_lines:
            return number
    return None


def read_suppressions(source: str, comments: Sequence[Comment], file: str) -> Suppressions:
    """Every `# storyc:` directive in the comments, and the ones storyc cannot read."""
    lines = source.split("\n")
    own_lines = {c.line for c in comments if c.own_line}
    found = Suppressions()
    bad = BY_CODE[BAD_SUPPRESSION]
    for comment in comments:
        offset = comment.column - 1
        for match in _DIRECTIVE.finditer(comment.text):
            start, end = offset + match.start(), offset + match.end()
            span = Span(
                line=comment.line, column=start + 1, end_line=comment.line, end_column=end + 1
            )
            kind = match.group("kind")
            if kind not in ("ignore", "ignore-file") or match.group("bracket") is None:
                found.problems.append(
                    bad.diagnostic(
                        f"`{match.group(0)}` is not a storyc directive",
                        span,
                        file,
                        help="write `# storyc: ignore[CODE]` for this line or "
                        "`# storyc: ignore-file[CODE]` for the whole file",
                    )
                )
                continue
            codes: list[str] = []
            for raw in (part.strip() for part in (match.group("codes") or "").split(",")):
                known = rule(raw) if raw else None
                if known is None:
                    found.problems.append(
                        bad.diagnostic(
                            f"`{raw or '[]'}` is no rule code",
                            span,
                            file,
                            help="`storyc rule` lists the codes",
                        )
                    )
                elif is_syntax_code(known.code):
                    found.problems.append(
                        bad.diagnostic(
                            f"{known.code} is a syntax error; syntax errors cannot be suppressed",
                            span,
                            file,
                            help="fix the line instead",
                        )
                    )
                elif known.code in (UNUSED_SUPPRESSION, BAD_SUPPRESSION):
                    found.problems.append(
                        bad.diagnostic(
                            f"{known.code} is turned off in the config, not with a comment",
                            span,
                            file,
                            help=f'add `ignore = ["{known.code}"]` to storyc.toml',
                        )
                    )
                elif known.code not in codes:
                    codes.append(known.code)
            if not codes:
                continue
            target = None
            if kind == "ignore":
                target = (
                    _next_code_line(lines, comment.line, own_lines)
                    if comment.own_line
                    else comment.line
                )
            found.entries.append(Suppression(comment, target, tuple(codes), span, start, end))
    return found


def _removal_fix(source: str, s: Suppression, keep: Sequence[str]) -> Fix:
    line_text = source.split("\n")[s.comment.line - 1]
    line = s.comment.line
    if keep:
        kind = "ignore" if s.target_line is not None else "ignore-file"
        return Fix(
            title="remove the unused codes",
            edits=(Edit(span=s.span, text=f"# storyc: {kind}[{', '.join(keep)}]"),),
        )
    comment_start = s.comment.column - 1
    rest_of_comment = line_text[comment_start : s.start].strip() + line_text[s.end :].strip()
    if rest_of_comment.strip("# \t"):
        return Fix(title="remove the unused suppression", edits=(Edit(span=s.span, text=""),))
    if s.comment.own_line:
        whole = Span(line=line, column=1, end_line=line + 1, end_column=1)
        return Fix(title="remove the unused suppression", edits=(Edit(span=whole, text=""),))
    code_end = len(line_text[:comment_start].rstrip()) + 1
    tail = Span(line=line, column=code_end, end_line=line, end_column=len(line_text) + 1)
    return Fix(title="remove the unused suppression", edits=(Edit(span=tail, text=""),))


def apply_policy(
    diagnostics: Sequence[Diagnostic],
    source: str,
    comments: Sequence[Comment],
    selection: RuleSelection,
    file: str,
    *,
    complete: bool = True,
) -> list[Diagnostic]:
    """The diagnostics a writer sees: enabled, not suppressed, plus S190/S191.

    `complete` says the whole text parsed; if not, nothing is called an unused suppression,
    since what it silences may sit in the part that did not parse.
    """
    suppressions = read_suppressions(source, comments, file)
    used: set[tuple[int, str]] = set()
    kept: list[Diagnostic] = []
    for d in diagnostics:
        if not selection.is_enabled(d.code):
            continue
        hit = None
        if not is_syntax_code(d.code):
            hit = next(
                (
                    i
                    for i, s in enumerate(suppressions.entries)
                    if d.code in s.codes and s.target_line in (None, d.span.line)
                ),
                None,
            )
        if hit is None:
            kept.append(d)
        else:
            used.add((hit, d.code))
    if complete and selection.is_enabled(UNUSED_SUPPRESSION):
        unused_rule = BY_CODE[UNUSED_SUPPRESSION]
        for i, s in enumerate(suppressions.entries):
            # A code the selection turned off is not reported as unused: it may be on elsewhere.
            unused = [c for c in s.codes if (i, c) not in used and selection.is_enabled(c)]
            if not unused:
                continue
            keep = [c for c in s.codes if c not in unused]
            kept.append(
                unused_rule.diagnostic(
                    f"unused suppression of {', '.join(unused)}: nothing here to silence",
                    s.span,
                    file,
                    help="remove it (`storyc lint --fix` does)",
                    fix=_removal_fix(source, s, keep),
                    data={"codes": unused},
                )
            )
    if selection.is_enabled(BAD_SUPPRESSION):
        kept.extend(suppressions.problems)
    return sorted_diagnostics(kept)


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
    compilation = analyze(parsed.source, file, provider=provider, want_plan=False, parsed=parsed)
    comments = comments_of(parsed.source, parsed.items)
    complete = not any(is_syntax_code(d.code) and d.code != "E002" for d in parsed.diagnostics)
    shown = apply_policy(
        compilation.diagnostics,
        parsed.source,
        comments,
        selection or RuleSelection(),
        file,
        complete=complete,
    )
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
    outcome = FixOutcome(source.replace("\r\n", "\n").replace("\r", "\n"))
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

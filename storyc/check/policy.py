"""Which diagnostics a writer sees: rules selected in the config, and suppressions.

The front end (`storyc.frontend`) applies this policy, so `check`, `compile`, `build`,
`lint`, the board and the language server report the same diagnostics for the same file.

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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from storyc.check import catalog as R
from storyc.check.catalog import BY_CODE, rule
from storyc.check.diagnostics import Diagnostic, Edit, Fix, sorted_diagnostics
from storyc.errors import UsageError
from storyc.language.comments import Comment
from storyc.language.model import Span

CONFIG_KEYS = ("select", "ignore")
UNUSED_SUPPRESSION = R.S190.code
BAD_SUPPRESSION = R.S191.code


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


NOT_FROM_THE_PROJECT = ("allow-paths",)
"""Keys a project's config may hold but storyc never takes from it: a story's own repository
cannot widen the reference sandbox (only the user's config can; see `storyc.sandbox`)."""


def _config_from(table: dict[str, object], path: Path, where: str) -> LintConfig:
    unknown = sorted(set(table) - set(CONFIG_KEYS) - set(NOT_FROM_THE_PROJECT))
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
    bad = R.S191
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
        unused_rule = R.S190
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

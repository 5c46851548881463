"""`format_story(src) -> str`: one canonical layout, and the three checks that prove it safe.

The layout: four spaces per level; `key: text` with one space after the colon; block lines
written `shot wide 4s with golden:`; one blank line between top-level blocks, between the
shots (and transitions) of a scene; none inside a shot or a declaration, and none between
header lines. Key order, free text, durations and quotes stay exactly as written.

Comments are not in the syntax tree (the grammar folds them into the newline token), so
they are read back from the source lines: a comment after code stays on its line; a comment
on its own line goes with the code after it, or stays with the block above when it is
indented deeper than that code.

Like gdtoolkit, the formatter proves itself on every run (`format_checked`): the result must
compile to the same story and prompts, formatting it again must change nothing, and every
comment must survive. If any check fails it refuses, and says which.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lark import Token, Tree

from storyc.errors import StorycError
from storyc.language.comments import Comment, comments_of
from storyc.language.parse import parse_story

INDENT = "    "
TAB_WIDTH = 4
ALLOWED_SYNTAX_CODES: frozenset[str] = frozenset()
"""Syntax diagnostics the formatter would format through: none. Not even a tab (E002): how
deep a tab-indented line stands is a guess (a tab under `    shot 4s:` read as four spaces
makes an `action:` a scene cue), so `fmt` refuses and `lint --fix` indents it by its block."""


class FormatError(StorycError):
    """The text cannot be formatted: it does not parse, or a safety check failed."""


@dataclass(frozen=True)
class CodeLine:
    line: int
    """The source line it was written on."""
    depth: int
    text: str
    gap: int
    """Blank lines before it (0 or 1) in the canonical layout."""
    opens_block: bool = False


# -- the tree as canonical lines ---------------------------------------------------------------


def _first_token(tree: Tree) -> Token:
    for child in tree.children:
        if isinstance(child, Token):
            return child
        return _first_token(child)
    raise FormatError("internal error: a block without text")


def _line_of(tree: Tree) -> int:
    return _first_token(tree).line or 1


def _tokens_of(tree: Tree) -> list[Token]:
    return [c for c in tree.children if isinstance(c, Token)]


def _pair_text(tree: Tree) -> str:
    key, *rest = _tokens_of(tree)
    return f"{key}: {rest[0]}" if rest else f"{key}:"


def _body_lines(tree: Tree, depth: int) -> Iterator[CodeLine]:
    for child in tree.children:
        if isinstance(child, Tree) and child.data == "body":
            for pair in child.children:
                if isinstance(pair, Tree):
                    yield CodeLine(_line_of(pair), depth, _pair_text(pair), gap=0)


def _dialogue_text(tree: Tree) -> str:
    speaker = str(tree.children[0])
    parts = [speaker]
    text = ""
    for child in tree.children[1:]:
        if isinstance(child, Tree) and child.data == "delivery":
            delivery = " ".join(str(t).strip() for t in child.children).strip()
            parts.append(f"({delivery or ' '})")
        elif isinstance(child, Token):
            text = str(child)
    return " ".join(parts) + f": {text}"


def _transition_text(tree: Tree) -> str:
    return " ".join(str(t) for t in _tokens_of(tree))


_SHOT_OPTION = {
    "shot_with": "with",
    "shot_from": "from",
    "shot_seed": "seed",
    "shot_takes": "takes",
}


def _shot_lines(tree: Tree, gap: int) -> Iterator[CodeLine]:
    head = ["shot"]
    items: list[Tree] = []
    for child in tree.children:
        if isinstance(child, Token):
            head.append(str(child))
        elif child.data in _SHOT_OPTION:
            head += [_SHOT_OPTION[child.data], str(child.children[0])]
        else:
            items.append(child)
    yield CodeLine(_line_of(tree), 1, " ".join(head) + ":", gap, opens_block=True)
    for item in items:
        text = _pair_text(item) if item.data == "pair" else _dialogue_text(item)
        yield CodeLine(_line_of(item), 2, text, gap=0)


def _scene_lines(tree: Tree, gap: int) -> Iterator[CodeLine]:
    head = ["scene"]
    items: list[Tree] = []
    for child in tree.children:
        if isinstance(child, Token):
            if child.type == "STRING":
                head.append(str(child))
        elif child.data == "scene_at":
            head += ["at", str(child.children[0])]
        else:
            items.append(child)
    yield CodeLine(_line_of(tree), 0, " ".join(head) + ":", gap, opens_block=True)
    previous: str | None = None
    for item in items:
        # Shots and transitions stand apart; scene cues sit together under the header.
        item_gap = 0 if previous is None or (previous == item.data == "pair") else 1
        if item.data == "shot":
            yield from _shot_lines(item, item_gap)
        elif item.data == "pair":
            yield CodeLine(_line_of(item), 1, _pair_text(item), item_gap)
        else:
            yield CodeLine(_line_of(item), 1, _transition_text(item), item_gap)
        previous = item.data


def canonical_lines(items: list[Tree]) -> list[CodeLine]:
    """Every code line of the story, in order, as the canonical layout writes it."""
    lines: list[CodeLine] = []
    previous: str | None = None
    for item in items:
        kind = item.data
        gap = 0 if previous is None or (previous == kind == "pair") else 1
        if kind == "pair":
            lines.append(CodeLine(_line_of(item), 0, _pair_text(item), gap))
        elif kind == "transition":
            lines.append(CodeLine(_line_of(item), 0, _transition_text(item), gap))
        elif kind == "scene":
            lines.extend(_scene_lines(item, gap))
        else:
            name, *rest = _tokens_of(item)
            head = f"{kind} {name}:" + (f" {rest[0]}" if rest else "")
            lines.append(CodeLine(_line_of(item), 0, head, gap, opens_block=True))
            lines.extend(_body_lines(item, 1))
        previous = kind
    return lines


# -- weaving comments and blank lines back in --------------------------------------------------


def _indent_width(text: str) -> int:
    indent = text[: len(text) - len(text.lstrip(" \t"))]
    return indent.count(" ") + indent.count("\t") * TAB_WIDTH


def _layout(source: str, code: list[CodeLine], comments: list[Comment]) -> str:
    source_lines = source.split("\n")
    by_line = {c.line: c for c in code}
    comment_at = {c.line: c for c in comments}
    widths = [_indent_width(source_lines[c.line - 1]) for c in code]
    unit = min((w for w in widths if w > 0), default=TAB_WIDTH)

    out: list[str] = []
    pending: list[Comment | None] = []
    """Own-line comments and blank lines (None) since the last code line."""
    previous: CodeLine | None = None

    def emit_pending(following: CodeLine | None) -> None:
        low = following.depth if following else 0
        high = max(low, previous.depth + previous.opens_block if previous else 0)
        depths = {
            id(e): min(max(round(_indent_width(source_lines[e.line - 1]) / unit), low), high)
            for e in pending
            if e is not None
        }
        # Comments indented under the block above stay with it; the rest lead into `following`.
        first_leading = next(
            (i for i, e in enumerate(pending) if e is not None and depths[id(e)] <= low),
            len(pending),
        )
        trailing = [e for e in pending[:first_leading] if e is not None]
        leading = pending[first_leading:]
        blank_before = first_leading > 0 and pending[first_leading - 1] is None
        out.extend(INDENT * depths[id(c)] + c.text for c in trailing)
        if following is None:
            blanks_allowed, gap = True, int(blank_before and bool(leading))
        else:
            blanks_allowed = following.depth == 0 or following.gap == 1
            gap = following.gap or int(following.depth == 0 and blank_before and bool(leading))
        if out and gap:
            out.append("")
        after_blank = True
        for entry in leading:
            if entry is None:
                if blanks_allowed and not after_blank:
                    out.append("")
                after_blank = True
            else:
                out.append(INDENT * low + entry.text)
                after_blank = False
        pending.clear()

    for number, text in enumerate(source_lines, start=1):
        line = by_line.get(number)
        if line is not None:
            emit_pending(line)
            comment = comment_at.get(number)
            out.append(INDENT * line.depth + line.text + (f"  {comment.text}" if comment else ""))
            previous = line
        elif number in comment_at:
            pending.append(comment_at[number])
        elif not text.strip():
            pending.append(None)
        else:
            raise FormatError(f"internal error: line {number} is neither code nor comment")
    emit_pending(None)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n" if out else ""


def format_story(src: str) -> str:
    """The canonical layout of a `.story` text. Pure; raises `FormatError` if it does not parse."""
    parsed = parse_story(src)
    errors = [d for d in parsed.diagnostics if d.code not in ALLOWED_SYNTAX_CODES]
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        fix = (
            "`storyc lint --fix` indents it with spaces by its block"
            if first.code == "E002"
            else "fix the syntax first"
        )
        raise FormatError(
            f"line {first.span.line}: {first.message}{more}; {fix}",
            hint="`storyc check` shows every problem",
        )
    return _layout(
        parsed.source, canonical_lines(parsed.items), comments_of(parsed.source, parsed.items)
    )


# -- the three safety checks -------------------------------------------------------------------


def _strip_positions(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _strip_positions(v)
            for k, v in value.items()
            if k not in ("span", "line") and not k.endswith("_span")
        }
    if isinstance(value, list | tuple):
        return [_strip_positions(v) for v in value]
    return value


def meaning(src: str) -> dict[str, Any]:
    """What a story compiles to, without source positions: the model, the prompts, the plan
    (if any) and the diagnostics' codes. Two texts with equal meaning render the same film.
    Reference files are not read (every one counts as missing), so this does no I/O."""
    from storyc.check.provider import FileFacts
    from storyc.frontend import analyze_source

    result = analyze_source(src, "<fmt>", read_facts=lambda _path: FileFacts(exists=False))
    return {
        "story": _strip_positions(result.story.model_dump()) if result.story else None,
        "prompts": list(result.prompts),
        "plan": _strip_positions(result.plan.model_dump()) if result.plan else None,
        "diagnostics": sorted(
            (d.code, d.message) for d in result.diagnostics if d.code not in ALLOWED_SYNTAX_CODES
        ),
    }


def _comment_texts(src: str) -> list[str]:
    parsed = parse_story(src)
    return [c.text for c in comments_of(parsed.source, parsed.items)]


def safety_problems(src: str, formatted: str) -> list[str]:
    """Why `formatted` may not replace `src` (empty when it is safe)."""
    problems: list[str] = []
    before, after = _comment_texts(src), _comment_texts(formatted)
    if before != after:
        lost = [c for c in before if c not in after]
        detail = f"`{lost[0]}` would be lost" if lost else "their order would change"
        problems.append(f"comment check failed: {detail}")
    if format_story(formatted) != formatted:
        problems.append("stability check failed: formatting the result again changes it")
    before_meaning, after_meaning = meaning(src), meaning(formatted)
    if before_meaning["plan"] is None or after_meaning["plan"] is None:
        # Tabs (E002, which formatting removes) stop the plan; the model and prompts remain.
        before_meaning.pop("plan")
        after_meaning.pop("plan")
    if before_meaning != after_meaning:
        problems.append("model check failed: the result would compile to a different story")
    return problems


def format_checked(src: str) -> str:
    """`format_story`, proven safe; raises `FormatError` naming the failed check."""
    formatted = format_story(src)
    if formatted == src:
        return formatted
    problems = safety_problems(src, formatted)
    if problems:
        raise FormatError(
            "refusing to format: " + "; ".join(problems),
            hint="this is a bug in `storyc fmt`; please report it with the file",
        )
    return formatted

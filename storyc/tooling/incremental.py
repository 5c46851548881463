"""Analysis of a document being edited: reparse only the blocks that changed, and keep the
last good parse of a block that does not parse right now.

An editor sends the whole text after each keystroke; usually one top-level block (a scene,
a declaration) changed. Each block's parse is cached by its first line number and text, so
an edit reparses one block, then the whole story is built and checked again by the one
front end (`analyze_source`), which is fast next to the parse.

When a block fails to parse, its last good text is parsed in its place (found by its first
line, or by its position if the block count did not change), so a syntax error in one shot
does not take the diagnostics of the rest of the scene away. Diagnostics from such a stale
block are kept only on lines whose text is unchanged since (moved with them if lines were
added or removed above), and nothing is called an unused suppression until every block
parses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lark import Tree

from storyc.check.diagnostics import Diagnostic
from storyc.check.policy import RuleSelection, apply_policy, is_syntax_code
from storyc.check.provider import FileFacts
from storyc.errors import StorycError
from storyc.frontend import Compilation, analyze_source, read_file_facts
from storyc.fsutil import normalise_newlines
from storyc.language.comments import Comment, find_comments, line_ends
from storyc.language.model import Story
from storyc.language.parse import ParsedStory, parse_block, parse_story_in_blocks, split_blocks
from storyc.plan.schema import ClipPlan
from storyc.sandbox import ReferencePolicy, policy_for

_MISSING = object()
MAX_BLANKED_LINES = 3


@dataclass(frozen=True)
class BlockParse:
    items: list[Tree]
    diagnostics: list[Diagnostic]
    ends: dict[int, int]
    """`storyc.language.comments.line_ends` of the block's items."""

    @property
    def ok(self) -> bool:
        return not self.diagnostics


@dataclass(frozen=True)
class StaleBlock:
    """A block shown with its last good parse (same number of lines as the current text)."""

    start: int
    changed: frozenset[int]
    """The lines whose text differs from the good text."""
    end: int
    """One past its last line."""
    good: str
    """The text it was parsed from."""


@dataclass
class Analysis:
    """Everything the editor features read, for one version of one document."""

    version: int | None
    source: str
    file: str
    parsed: ParsedStory
    compilation: Compilation
    comments: list[Comment]
    diagnostics: list[Diagnostic]
    """What the writer sees (after select/ignore, suppressions and the stale-block filter)."""
    stale: list[StaleBlock] = field(default_factory=list)
    _plan: object = _MISSING

    @property
    def story(self) -> Story | None:
        return self.compilation.story

    def plan(self) -> ClipPlan | None:
        """The clip plan (timings and clips) even when the story has errors, if it can be
        made; computed on first use (hover on a duration)."""
        if self._plan is _MISSING:
            self._plan = _plan_of(self)
        return self._plan  # type: ignore[return-value]


def _plan_of(analysis: Analysis) -> ClipPlan | None:
    from storyc.check.provider import resolve_offering
    from storyc.plan.capabilities import load_table
    from storyc.plan.planner import finish_plan, group_clips

    story = analysis.compilation.story
    if story is None:
        return None
    offering, _ = resolve_offering(story, load_table(), story.header.provider, analysis.file)
    if offering is None:
        return None
    drafts = group_clips(story, offering)
    prompts = analysis.compilation.prompts
    if len(prompts) != len(drafts):
        return None
    try:
        return finish_plan(story, offering, drafts, prompts, {})
    except Exception:  # a plan that cannot be made only means no timecodes
        return None


class CachedFacts:
    """Reference-file facts, read again only when the file's size or mtime changes (the
    editor analyses on every keystroke; hashing and probing a video each time would not do)."""

    def __init__(self, reader: Callable[[Path], FileFacts] = read_file_facts):
        self._reader = reader
        self._seen: dict[Path, tuple[tuple[int, int] | None, FileFacts]] = {}

    def __call__(self, path: Path) -> FileFacts:
        try:
            stat = path.stat()
            key: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            key = None
        cached = self._seen.get(path)
        if cached is not None and cached[0] == key:
            return cached[1]
        facts = self._reader(path)
        self._seen[path] = (key, facts)
        return facts


def editor_policy(file: str) -> ReferencePolicy:
    """The sandbox for a document in an editor: its project folder plus the user's config
    (no command line there). A broken config must not stop the editor, so it then falls
    back to the project folder alone (`storyc check` says what is wrong with the config)."""
    try:
        return policy_for(file)
    except StorycError:
        return ReferencePolicy.for_story(file)


class DocumentAnalyzer:
    """Analyses successive versions of one document, reusing what did not change.

    Not thread-safe: the language server runs one analysis at a time per document.
    """

    def __init__(
        self,
        file: str,
        selection: RuleSelection | None = None,
        read_facts: Callable[[Path], FileFacts] | None = None,
        policy: ReferencePolicy | None = None,
    ):
        self.file = file
        self.selection = selection or RuleSelection()
        self.read_facts = read_facts or CachedFacts()
        self.policy = policy if policy is not None else editor_policy(file)
        self._blocks: dict[tuple[int, str], BlockParse] = {}
        self._last_good: dict[str, str] = {}
        """First line of a block -> its text when it last parsed."""
        self._last_good_by_index: list[str] = []
        self._used: set[tuple[int, str]] = set()

    def _parse(self, start: int, text: str) -> BlockParse:
        key = (start, text)
        self._used.add(key)
        found = self._blocks.get(key)
        if found is None:
            items, diagnostics = parse_block(start, text, self.file)
            found = BlockParse(items, diagnostics, line_ends(items))
            self._blocks[key] = found
        return found

    def _recover(self, start: int, text: str, failed: BlockParse) -> BlockParse | None:
        """Blank the line that breaks the block, with its body if it opens one (up to three
        times), and parse again."""
        lines = text.split("\n")
        for _ in range(MAX_BLANKED_LINES):
            index = failed.diagnostics[0].span.line - start
            if not 0 <= index < len(lines) or not lines[index].strip():
                return None
            for blank in [index, *_body_of(lines, index)]:
                lines[blank] = ""
            failed = self._parse(start, "\n".join(lines))
            if failed.ok:
                return failed
        return None

    def _last_good_for(
        self, start: int, head: str, current: list[str], fallback_text: str | None
    ) -> tuple[BlockParse, StaleBlock] | None:
        good = self._last_good.get(head, fallback_text)
        if good is None:
            return None
        good_lines = good.split("\n")
        if len(good_lines) != len(current):
            return None
        parsed = self._parse(start, good)
        if not parsed.ok:
            return None
        changed = frozenset(
            start + i for i, (a, b) in enumerate(zip(good_lines, current, strict=True)) if a != b
        )
        return parsed, StaleBlock(start, changed, start + len(current), good)

    def analyze(self, source: str, version: int | None = None) -> Analysis:
        source = normalise_newlines(source)
        block_count = len(split_blocks(source))
        previous_by_index = self._last_good_by_index
        same_shape = block_count == len(previous_by_index)
        stale: list[StaleBlock] = []
        ends: dict[int, int] = {}
        good_by_index: list[str] = []
        heads: dict[str, str] = {}

        def parse_one(start: int, text: str, _file: str) -> tuple[list[Tree], list[Diagnostic]]:
            index = len(good_by_index)
            head = text.split("\n", 1)[0]
            result = self._parse(start, text)
            if result.ok:
                heads[head] = text
                good_by_index.append(text)
                ends.update(result.ends)
                return result.items, []
            current = text.split("\n")
            line = result.diagnostics[0].span.line - start
            header_broken = 0 <= line < len(current) and bool(_body_of(current, line))
            by_index = previous_by_index[index] if same_shape else None
            attempts = ("good", "blank") if header_broken else ("blank", "good")
            for attempt in attempts:
                if attempt == "blank":
                    recovered = self._recover(start, text, result)
                    if recovered is not None:
                        if head in self._last_good:
                            heads[head] = self._last_good[head]
                        good_by_index.append(by_index or text)
                        ends.update(recovered.ends)
                        return recovered.items, result.diagnostics
                else:
                    found = self._last_good_for(start, head, current, by_index)
                    if found is not None:
                        fallback, block = found
                        heads[head] = block.good
                        good_by_index.append(block.good)
                        stale.append(block)
                        return fallback.items, result.diagnostics
            good_by_index.append(by_index or text)
            return [], result.diagnostics

        parsed = parse_story_in_blocks(source, self.file, parse_one)
        self._last_good = heads
        self._last_good_by_index = good_by_index
        # Forget the parses of text that is gone.
        self._blocks = {k: v for k, v in self._blocks.items() if k in self._used}
        self._used = set()

        compilation = analyze_source(
            parsed.source,
            self.file,
            read_facts=self.read_facts,
            want_plan=False,
            parsed=parsed,
            policy=self.policy,
        )
        comments = find_comments(parsed.source, ends)
        complete = not any(is_syntax_code(d.code) and d.code != "E002" for d in parsed.diagnostics)
        shown = apply_policy(
            _unstale(compilation.diagnostics, stale),
            parsed.source,
            comments,
            self.selection,
            self.file,
            complete=complete,
        )
        return Analysis(
            version, parsed.source, self.file, parsed, compilation, comments, shown, stale
        )


def _unstale(diagnostics: list[Diagnostic], stale: list[StaleBlock]) -> list[Diagnostic]:
    """Drop what a stale block's old text says about lines that have changed since."""
    if not stale:
        return diagnostics
    return [
        d
        for d in diagnostics
        if is_syntax_code(d.code)
        or not any(s.start <= d.span.line < s.end and d.span.line in s.changed for s in stale)
    ]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _body_of(lines: list[str], index: int) -> list[int]:
    """The indices of the lines indented under `lines[index]` (blank ones included)."""
    body: list[int] = []
    own = _indent(lines[index])
    for j in range(index + 1, len(lines)):
        if lines[j].strip() and _indent(lines[j]) <= own:
            break
        body.append(j)
    while body and not lines[body[-1]].strip():
        body.pop()
    return body

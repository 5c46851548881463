"""Analysis of a document being edited: reparse only the blocks that changed.

An editor sends the whole text after each keystroke; usually one top-level block (a scene,
a declaration) changed. Each block's parse is cached by its first line number and text, so
an edit reparses one block (a block that only moved, because a line was added or removed
above it, has its parse moved: `_moved`); the scenes built from the unchanged trees are reused
(`SceneCache`), as are the prompts of unchanged clips; then the story is checked again by
the one front end (`analyze_source`).

A block that does not parse is recovered exactly as the command line recovers it
(`storyc.language.parse.recover_block`: the breaking line and its body are blanked and the
rest parsed again, finding the next error too), so what the editor shows is what
`storyc lint` reports for the same text, whatever the edit history. Nothing is called an
unused suppression until every block parses.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lark import Token, Tree

from storyc.check.diagnostics import Diagnostic
from storyc.check.policy import RuleSelection, apply_policy, is_syntax_code
from storyc.check.provider import FileFacts
from storyc.errors import StorycError
from storyc.frontend import Compilation, analyze_source, read_file_facts
from storyc.fsutil import normalise_newlines
from storyc.language.builder import SceneCache
from storyc.language.comments import Comment, find_comments, line_ends
from storyc.language.model import Story
from storyc.language.parse import ParsedStory, parse_block, parse_story_in_blocks, recover_block
from storyc.plan.prompt import PromptCache
from storyc.plan.schema import ClipPlan
from storyc.sandbox import ReferencePolicy, policy_for

_MISSING = object()


@dataclass(frozen=True)
class BlockParse:
    items: list[Tree]
    diagnostics: list[Diagnostic]
    ends: dict[int, int]
    """`storyc.language.comments.line_ends` of the block's items."""

    @property
    def ok(self) -> bool:
        return not self.diagnostics


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
    """What the writer sees (after select/ignore and suppressions)."""
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


def _moved(block: BlockParse, lines: int) -> BlockParse:
    """The parse of a block that parsed cleanly, for the same text `lines` further down (up
    if negative): what `parse_block` gives there, since a block is parsed padded with one
    newline per line above it. About a tenth of the cost of parsing it again (profiled)."""
    return BlockParse(
        [_moved_tree(item, lines) for item in block.items],
        [],
        {line + lines: end for line, end in block.ends.items()},
    )


def _moved_tree(tree: Tree, lines: int) -> Tree:
    children: list[Tree | Token] = []
    for child in tree.children:
        if isinstance(child, Token):
            children.append(
                Token(
                    child.type,
                    child.value,
                    None if child.start_pos is None else child.start_pos + lines,
                    None if child.line is None else child.line + lines,
                    child.column,
                    None if child.end_line is None else child.end_line + lines,
                    child.end_column,
                    None if child.end_pos is None else child.end_pos + lines,
                )
            )
        else:
            children.append(_moved_tree(child, lines))
    return Tree(tree.data, children)


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
        self._used: set[tuple[int, str]] = set()
        self._clean_starts: dict[str, int] = {}
        """First line of each block that parsed cleanly in the last analysis, by its text:
        a block found again lower or higher (a line was added or removed above it) is
        moved, not parsed again."""
        self.shift_moved_blocks = True
        """False parses a moved block again (the tests compare both ways)."""
        self.prompt_cache: PromptCache | None = {}
        """Rendered prompts by their inputs (`storyc.plan.prompt.render_prompts`); None
        renders every prompt on every analysis."""
        self.scene_cache: SceneCache | None = SceneCache()
        """Built scenes whose trees, lines, numbers and declarations did not change
        (`storyc.language.builder.SceneCache`); None builds every scene every time."""

    def _parse(self, start: int, text: str) -> BlockParse:
        key = (start, text)
        self._used.add(key)
        found = self._blocks.get(key)
        if found is None:
            before = self._clean_starts.get(text) if self.shift_moved_blocks else None
            if before is not None:
                found = _moved(self._blocks[before, text], start - before)
            else:
                items, diagnostics = parse_block(start, text, self.file)
                found = BlockParse(items, diagnostics, line_ends(items))
            self._blocks[key] = found
        return found

    def analyze(self, source: str, version: int | None = None) -> Analysis:
        source = normalise_newlines(source)
        ends: dict[int, int] = {}

        def parse_one(start: int, text: str, _file: str) -> tuple[list[Tree], list[Diagnostic]]:
            result = self._parse(start, text)
            if result.ok:
                ends.update(result.ends)
                return result.items, []

            def parse_again(version: str) -> tuple[list[Tree], list[Diagnostic]]:
                again = self._parse(start, version)
                if again.ok:
                    ends.update(again.ends)
                return again.items, again.diagnostics

            return recover_block(start, text, list(result.diagnostics), parse_again)

        # As in the analysis itself (`storyc.frontend`): the trees of many moved blocks are
        # young objects by the hundred thousand, and full collections while they are made
        # cost more than making them. `analyze_source` freezes them on its way out.
        collecting = gc.isenabled()
        gc.disable()
        try:
            parsed = parse_story_in_blocks(source, self.file, parse_one)
        finally:
            if collecting:
                gc.enable()
        # Forget the parses of text that is gone.
        self._blocks = {k: v for k, v in self._blocks.items() if k in self._used}
        self._used = set()
        self._clean_starts = {t: start for (start, t), block in self._blocks.items() if block.ok}

        compilation = analyze_source(
            parsed.source,
            self.file,
            read_facts=self.read_facts,
            want_plan=False,
            parsed=parsed,
            policy=self.policy,
            prompt_cache=self.prompt_cache,
            scene_cache=self.scene_cache,
        )
        comments = find_comments(parsed.source, ends)
        complete = not any(is_syntax_code(d.code) and d.code != "E002" for d in parsed.diagnostics)
        shown = apply_policy(
            compilation.diagnostics,
            parsed.source,
            comments,
            self.selection,
            self.file,
            complete=complete,
        )
        return Analysis(version, parsed.source, self.file, parsed, compilation, comments, shown)

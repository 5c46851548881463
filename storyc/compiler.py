"""The whole front end in one call: text to diagnostics and (when clean) a clip plan.

`analyze_source` is pure except for the facts it gathers about reference files (existence,
hash, image size, video length), which it reads once here at the edge and hands to the
rules. `check`, `compile`, `plan`, `render`, `build`, `lint` and the language server all
call it, so they all see the same diagnostics.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from storyc.build import build_story
from storyc.capabilities import load_table
from storyc.clipplan import ClipPlan
from storyc.diagnostics import Diagnostic, has_errors, sorted_diagnostics
from storyc.errors import StorycError
from storyc.model import Span, Story
from storyc.parse import ParsedStory, parse_story
from storyc.plan import finish_plan, group_clips, resolve_path
from storyc.prompt import TemplateProblem, render_prompt
from storyc.rules.catalog import BY_CODE
from storyc.rules.provider import (
    FileFacts,
    check_clips,
    check_prompts,
    check_story_against,
    resolve_offering,
)
from storyc.rules.structure import check_content, check_header, check_keys, check_names

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp"}
VIDEO_SUFFIXES = {".mp4", ".mov", ".webm", ".m4v"}

FactReader = Callable[[Path], FileFacts]

_ABSENCE_CODES = frozenset({"S102", "S103", "S112", "S114"})
"""Diagnostics about something missing, which a syntax error elsewhere can fake."""


@dataclass
class Compilation:
    source_path: str
    source: str
    story: Story | None
    diagnostics: list[Diagnostic]
    plan: ClipPlan | None = None
    prompts: list[str] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return has_errors(self.diagnostics)


def read_file_facts(path: Path) -> FileFacts:
    """Existence, hash, and size or length of a reference file (the only I/O here)."""
    if not path.is_file():
        return FileFacts(exists=False)
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        try:
            from PIL import Image

            with Image.open(path) as image:
                width, height = image.size
            return FileFacts(exists=True, sha256=digest, kind="image", width=width, height=height)
        except Exception:
            return FileFacts(exists=True, sha256=digest, kind=None)
    if suffix in VIDEO_SUFFIXES:
        try:
            from storyc.probe import probe

            info = probe(path)
            return FileFacts(
                exists=True,
                sha256=digest,
                kind="video",
                width=info.width,
                height=info.height,
                duration_ms=info.duration_ms,
            )
        except Exception:
            return FileFacts(exists=True, sha256=digest, kind=None)
    return FileFacts(exists=True, sha256=digest, kind=None)


def _referenced_files(story: Story) -> Iterable[Path]:
    for cameo in story.cameos:
        if cameo.path:
            yield resolve_path(story, cameo.path)
    for shot in story.shots:
        if shot.from_image:
            yield resolve_path(story, shot.from_image)


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a story is analysed.

    The front end allocates hundreds of thousands of small acyclic objects (tokens, trees,
    models); refcounting frees them all, but their sheer number triggers full collections
    that measured as half the time of a 10,000-shot compile.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def analyze_source(
    source: str,
    file: str = "<story>",
    *,
    provider: str | None = None,
    template_dir: Path | None = None,
    read_facts: FactReader = read_file_facts,
    want_plan: bool = True,
    parsed: ParsedStory | None = None,
) -> Compilation:
    """Parse, build, check and (if there are no errors) plan and prompt one story.

    `parsed` is the parse of `source` when the caller already has it (the language server
    parses block by block and reuses unchanged blocks).
    """
    with _no_cyclic_gc():
        return _analyze(
            source,
            file,
            provider=provider,
            template_dir=template_dir,
            read_facts=read_facts,
            want_plan=want_plan,
            parsed=parsed,
        )


def _analyze(
    source: str,
    file: str = "<story>",
    *,
    provider: str | None = None,
    template_dir: Path | None = None,
    read_facts: FactReader = read_file_facts,
    want_plan: bool = True,
    parsed: ParsedStory | None = None,
) -> Compilation:
    parsed = parsed if parsed is not None else parse_story(source, file)
    diagnostics = list(parsed.diagnostics)
    if not parsed.source.strip():
        diagnostics.append(
            BY_CODE["E004"].diagnostic(
                "the story is empty",
                Span.point(1, 1),
                file,
                help="start with `title: ...`, then a `scene` with a `shot` (see `docs/language.md`)",
            )
        )
        return Compilation(file, parsed.source, None, sorted_diagnostics(diagnostics))
    story, build_diagnostics = build_story(parsed.items, parsed.source, file)
    diagnostics += build_diagnostics
    semantic = [
        *check_header(story, file),
        *check_keys(story, file),
        *check_names(story, file),
        *check_content(story, file),
    ]
    # Tabs (E002) drop nothing: the indenter reads them as four spaces.
    if any(d.is_error and d.code != "E002" for d in parsed.diagnostics):
        # Lines the parser had to skip may hold the only use of a name or the only action
        # of a shot; warnings about absence would be noise until the syntax is fixed.
        semantic = [d for d in semantic if d.code not in _ABSENCE_CODES]
    diagnostics += semantic

    table = load_table()
    offering, problems = resolve_offering(story, table, provider or story.header.provider, file)
    diagnostics += problems
    result = Compilation(file, parsed.source, story, diagnostics)
    if offering is None:
        result.diagnostics = sorted_diagnostics(diagnostics)
        return result
    facts = {path: read_facts(path) for path in set(_referenced_files(story))}
    diagnostics += check_story_against(story, offering, facts, file)

    drafts = group_clips(story, offering)
    try:
        prompts = [render_prompt(d, story, offering, template_dir) for d in drafts]
    except TemplateProblem as exc:
        diagnostics.append(
            BY_CODE["T001"].diagnostic(exc.message, Span.point(1, 1), file, help=exc.hint)
        )
        result.diagnostics = sorted_diagnostics(diagnostics)
        return result
    diagnostics += check_clips(story, offering, drafts, file)
    diagnostics += check_prompts(story, offering, drafts, prompts, file)
    result.prompts = prompts
    result.diagnostics = sorted_diagnostics(diagnostics)
    if want_plan and not result.has_errors:
        hashes = {path: fact.sha256 for path, fact in facts.items()}
        result.plan = finish_plan(story, offering, drafts, prompts, hashes)
    return result


def read_story(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise StorycError(f"{path}: no such file", exit_code=2) from None
    except IsADirectoryError:
        raise StorycError(f"{path} is a folder, not a .story file", exit_code=2) from None
    except OSError as exc:
        raise StorycError(f"{path}: cannot read it ({exc.strerror})", exit_code=2) from None
    return data.decode("utf-8", errors="replace")


def compile_file(
    path: Path, *, provider: str | None = None, template_dir: Path | None = None
) -> Compilation:
    """Read a story file and run `analyze_source` on it."""
    return analyze_source(read_story(path), str(path), provider=provider, template_dir=template_dir)

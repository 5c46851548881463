"""The whole front end in one call: text to diagnostics and (when clean) a clip plan.

`analyze_source` is pure except for the facts it gathers about reference files (existence,
hash, image size, video length), which it reads once here at the edge and hands to the
rules. `check`, `compile`, `plan`, `render`, `build`, `lint` and the language server all
call it, so they all see the same diagnostics.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from storyc.check import catalog as R
from storyc.check.diagnostics import Diagnostic, has_errors, sorted_diagnostics
from storyc.check.policy import RuleSelection, apply_policy, is_syntax_code, selection_for
from storyc.check.provider import (
    FileFacts,
    check_clips,
    check_fallback_clips,
    check_prompts,
    check_story_against,
    diagnostic_key,
    fallback_offerings,
    on_fallback,
    resolve_offering,
)
from storyc.check.structure import (
    check_avoid,
    check_content,
    check_header,
    check_keys,
    check_names,
)
from storyc.fsutil import file_sha256
from storyc.language.builder import SceneCache, build_story
from storyc.language.cameo_views import AUDIO_SUFFIXES, view_paths, voice_sample_path
from storyc.language.model import Span, Story
from storyc.language.parse import ParsedStory, parse_story
from storyc.plan.capabilities import Offering, load_table
from storyc.plan.planner import (
    ClipDraft,
    finish_plan,
    group_clips,
    reference_path,
    resolve_path,
    shot_mentions,
)
from storyc.plan.prompt import PromptCache, TemplateProblem, render_prompts
from storyc.plan.schema import ClipPlan
from storyc.probe import MediaInfo
from storyc.sandbox import (
    MAX_IMAGE_BYTES,
    MAX_IMAGE_PIXELS,
    MAX_VIDEO_BYTES,
    ReferencePolicy,
    ReferenceRefused,
    audio_length,
    open_regular,
    regular_file_problem,
    size_problem,
)

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp"}
VIDEO_SUFFIXES = {".mp4", ".mov", ".webm", ".m4v"}
IMAGE_FORMATS = ("PNG", "JPEG", "WEBP")
"""The image formats storyc reads (the ones providers take); Pillow tries no others."""
NOT_MEDIA = (
    "is not an image or a video storyc can read (it goes by the content, not the name: "
    "PNG, JPEG or WebP images, videos ffmpeg reads)"
)

NOT_AUDIO = (
    "is not audio storyc can read (it goes by the content, not the name: an audio stream "
    "ffmpeg reads, and no video)"
)

FactReader = Callable[[Path], FileFacts]

_ABSENCE_CODES = frozenset({"S102", "S103", "S112", "S114", "S115"})
"""Diagnostics about something missing, which a syntax error elsewhere can fake."""


@dataclass
class Compilation:
    source_path: str
    source: str
    story: Story | None
    diagnostics: list[Diagnostic]
    plan: ClipPlan | None = None
    prompts: list[str] = field(default_factory=list)
    policy: ReferencePolicy | None = None
    """Where the story's references were allowed to live (the renderers check again)."""
    first_frames: dict[int, Path] = field(default_factory=dict)
    """Shot index -> the fitted keyframe sent as its clip's first frame (`first-frame:
    keyframes`, `--from-keyframes`; see `storyc.plan.first_frames`)."""
    fallback_plans: list[ClipPlan] = field(default_factory=list)
    """With a provider list, the plan on each fallback, in order (beside `plan`, the first
    provider's): compiled in the same analysis that checked them, with the same first
    frames and templates."""

    @property
    def has_errors(self) -> bool:
        return has_errors(self.diagnostics)


def read_file_facts(path: Path) -> FileFacts:
    """Existence, hash, and kind, size or length of a reference file (the only I/O here).

    Only called for files inside the story's sandbox. What the file is comes from its
    content (an image decodes, a video probes); the suffix only picks which to try first.
    The file is streamed, never read whole, and refused by `stat` alone when it is not a
    regular file or is too large."""
    problem = regular_file_problem(path)
    if problem == "does not exist":
        return FileFacts(exists=False)
    if problem is not None:
        return FileFacts(exists=True, problem=problem)
    try:
        with open_regular(path) as handle:
            digest = file_sha256(handle)
            size = os.fstat(handle.fileno()).st_size
            if path.suffix.lower() in VIDEO_SUFFIXES:
                found = _video_facts(path, size) or _image_facts(handle, size)
            elif path.suffix.lower() in AUDIO_SUFFIXES:  # a voice sample
                found = _audio_facts(path, size) or _image_facts(handle, size) or NOT_AUDIO
            else:
                found = _image_facts(handle, size) or _video_facts(path, size)
    except ReferenceRefused as exc:
        return FileFacts(exists=True, problem=exc.message.removeprefix(f"{path} "))
    except OSError as exc:
        return FileFacts(exists=True, problem=f"cannot be read ({exc.strerror})")
    return _facts_from(digest, found)


@dataclass(frozen=True)
class _Audio:
    duration_ms: int


_Found = tuple[int, int] | MediaInfo | _Audio | str
"""What a file's content turned out to be: an image's (width, height), a video's facts, an
audio file's length, or why a file that is one of them cannot be used (too large)."""


def _audio_facts(path: Path, size: int) -> _Found | None:
    """The length of a file that probes as audio alone (a voice sample); None otherwise."""
    found = audio_length(path, size)
    return _Audio(found) if isinstance(found, int) else found


def _image_facts(handle: BinaryIO, size: int) -> _Found | None:
    """The size of an image that decodes whole; None when the content is not an image."""
    import warnings

    from PIL import Image

    handle.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(handle, formats=IMAGE_FORMATS) as image:
                width, height = image.size
                if size > MAX_IMAGE_BYTES:
                    return size_problem(size, MAX_IMAGE_BYTES, "an image")
                if width * height > MAX_IMAGE_PIXELS:
                    return (
                        f"is a {width}x{height} image; storyc decodes images of at most "
                        f"{MAX_IMAGE_PIXELS // 1_000_000} million pixels"
                    )
                image.load()  # decodes every pixel: a cut-off or broken file fails here
    except Image.DecompressionBombError:  # a header claiming far more pixels than our cap
        return f"is an image of more than {MAX_IMAGE_PIXELS // 1_000_000} million pixels"
    except Exception:  # Pillow raises many kinds for a file that is not a whole image
        return None
    return width, height


def _video_facts(path: Path, size: int) -> _Found | None:
    """The facts of a file that probes as a video (more than one frame); None otherwise."""
    from storyc.probe import probe

    try:
        info = probe(path)
    except Exception:  # ProbeError, or ffmpeg missing: either way not a video we can read
        return None
    if info.video_frames <= 1:
        return None  # a still picture ffmpeg happens to read
    if size > MAX_VIDEO_BYTES:
        return size_problem(size, MAX_VIDEO_BYTES, "a video")
    return info


def _facts_from(digest: str, found: _Found | None) -> FileFacts:
    if isinstance(found, _Audio):
        return FileFacts(exists=True, sha256=digest, kind="audio", duration_ms=found.duration_ms)
    if isinstance(found, MediaInfo):
        return FileFacts(
            exists=True,
            sha256=digest,
            kind="video",
            width=found.width,
            height=found.height,
            duration_ms=found.duration_ms,
        )
    if isinstance(found, tuple):
        width, height = found
        return FileFacts(exists=True, sha256=digest, kind="image", width=width, height=height)
    return FileFacts(exists=True, sha256=digest, problem=found or NOT_MEDIA)


def reference_facts(
    references: Iterable[tuple[Path, Path]], policy: ReferencePolicy, read_facts: FactReader
) -> dict[Path, FileFacts]:
    """Facts per resolved path for (path as written, resolved path) pairs. A file outside the
    sandbox is never handed to `read_facts`: not opened, hashed or probed."""
    facts: dict[Path, FileFacts] = {}
    for written, resolved in references:
        if resolved in facts:
            continue
        outside = policy.check(written)
        if outside is not None:
            facts[resolved] = FileFacts(exists=False, outside=True, problem=outside)
        else:
            facts[resolved] = read_facts(resolved)
    return facts


def _referenced_files(story: Story) -> Iterable[Path]:
    for _written, resolved in _references(story):
        yield resolved


def _references(story: Story) -> Iterator[tuple[Path, Path]]:
    """(path as written, made absolute; the same with symlinks followed) per reference."""
    # Shot after shot names the same few images: each is resolved once (syscalls per part).
    paths: dict[str, tuple[Path, Path]] = {}

    def both(relative: str) -> tuple[Path, Path]:
        if relative not in paths:
            paths[relative] = reference_path(story, relative), resolve_path(story, relative)
        return paths[relative]

    for cameo in story.cameos:
        if cameo.path:
            yield both(cameo.path)
            for view in view_paths(cameo):  # its further images, read alike
                yield both(view)
            if (voice := voice_sample_path(cameo)) is not None:  # and its voice sample
                yield both(voice)
    for shot in story.shots:
        if shot.from_image:
            yield both(shot.from_image)
        if shot.keyframe:
            yield both(shot.keyframe)


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a story is analysed.

    The front end allocates hundreds of thousands of small acyclic objects (tokens, trees,
    models); refcounting frees them all, but their sheer number triggers full collections
    that measured as half the time of a 10,000-shot compile.

    On the way out, everything alive is frozen (`gc.freeze`: moved out of the collector's
    generations) before the collector is switched back on, so the next collection does not
    scan every object the analysis made. Frozen objects are still freed by refcounting; only
    reference cycles among them wait for `gc.unfreeze` (the language server, which analyses
    again and again, unfreezes now and then: `thaw_now_and_then`).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.freeze()
            gc.enable()


THAW_EVERY = 50
"""Analyses between two `gc.unfreeze` calls in a long-lived process (the language server)."""
_analyses = 0


def thaw_now_and_then() -> None:
    """Let the collector see the frozen objects again every `THAW_EVERY` calls, so reference
    cycles left behind by earlier analyses are collected in a long-lived process."""
    global _analyses
    _analyses += 1
    if _analyses % THAW_EVERY == 0:
        gc.unfreeze()


# A context manager made by `contextmanager` is also a decorator (a fresh one per call).
@_no_cyclic_gc()
def analyze_source(
    source: str,
    file: str = "<story>",
    *,
    provider: str | None = None,
    template_dir: Path | None = None,
    read_facts: FactReader = read_file_facts,
    want_plan: bool = True,
    parsed: ParsedStory | None = None,
    policy: ReferencePolicy | None = None,
    rules: RuleSelection | None = None,
    first_frames: Mapping[int, Path] | None = None,
    prompt_cache: PromptCache | None = None,
    scene_cache: SceneCache | None = None,
) -> Compilation:
    """Parse, build, check and (if there are no errors) plan and prompt one story.

    `parsed` is the parse of `source` when the caller already has it (the language server
    parses block by block and reuses unchanged blocks). `policy` says where referenced
    files may live (default: the story's project folder only; the commands add the user's
    allowed paths with `storyc.sandbox.policy_for`). `rules` is the lint policy (selected
    rules and `# storyc: ignore[...]` suppressions): when given, `diagnostics` are what it
    lets through, and a story whose remaining diagnostics hold no error is planned.
    `first_frames` (shot index -> a fitted image storyc wrote, `storyc.plan.first_frames`)
    are sent as the first frames of those shots' clips. `prompt_cache` keeps rendered
    prompts between calls (the language server's; `storyc.plan.prompt.render_prompts`), and
    `scene_cache` built scenes (`storyc.language.builder.SceneCache`).
    """
    own_parse = parsed is None  # then nothing else needs the trees once the model is built
    parsed = parsed if parsed is not None else parse_story(source, file)

    def reported(found: list[Diagnostic]) -> list[Diagnostic]:
        if rules is None:
            return sorted_diagnostics(found)
        return _apply_rules(found, parsed, rules, file)

    diagnostics = list(parsed.diagnostics)
    if not parsed.source.strip():
        diagnostics.append(
            R.E004.diagnostic(
                "the story is empty",
                Span.point(1, 1),
                file,
                help="start with `title: ...`, then a `scene` with a `shot` (see `docs/language.md`)",
            )
        )
        return Compilation(file, parsed.source, None, reported(diagnostics))
    story, build_diagnostics = build_story(parsed.items, parsed.source, file, scene_cache)
    if own_parse:
        parsed = parsed.without_trees(keep_comments=rules is not None)
    diagnostics += build_diagnostics
    semantic = [
        *check_header(story, file),
        *check_keys(story, file),
        *check_names(story, file),
        *check_content(story, file),
        *check_avoid(story, file),
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
    policy = policy if policy is not None else ReferencePolicy.for_story(file)
    result = Compilation(
        file,
        parsed.source,
        story,
        diagnostics,
        policy=policy,
        first_frames=dict(first_frames or {}),
    )
    if offering is None:
        result.diagnostics = reported(diagnostics)
        return result
    fitted = [(p.absolute(), p.resolve()) for p in (first_frames or {}).values()]
    facts = reference_facts([*_references(story), *fitted], policy, read_facts)
    # Which names each shot mentions: asked by the provider rules and the grouping alike.
    mentions = shot_mentions(story)
    diagnostics += check_story_against(story, offering, facts, file, mentions)

    frames = {index: str(path.absolute()) for index, path in (first_frames or {}).items()}
    drafts = group_clips(story, offering, frames, mentions)
    try:
        prompts = render_prompts(drafts, story, offering, template_dir, prompt_cache)
    except TemplateProblem as exc:
        diagnostics.append(R.T001.diagnostic(exc.message, Span.point(1, 1), file, help=exc.hint))
        result.diagnostics = reported(diagnostics)
        return result
    diagnostics += check_clips(story, offering, drafts, file)
    diagnostics += check_prompts(story, offering, drafts, prompts, file)
    chosen = provider or story.header.provider
    fallbacks: list[_Prepared] = []
    if "," in chosen:  # a fallback list: `build` renders on each fallback, so check checks
        fallback_diagnostics, fallbacks = _fallbacks(
            story, chosen, (offering, drafts), diagnostics, facts, frames, template_dir, file
        )
        diagnostics += fallback_diagnostics
    result.prompts = prompts
    result.diagnostics = reported(diagnostics)
    if want_plan and not result.has_errors:
        hashes = {path: fact.sha256 for path, fact in facts.items()}
        result.plan = finish_plan(story, offering, drafts, prompts, hashes)
        result.fallback_plans = [
            finish_plan(story, other, other_drafts, other_prompts, hashes)
            for other, other_drafts, other_prompts in fallbacks
        ]
    return result


_Prepared = tuple[Offering, list[ClipDraft], list[str]]
"""A fallback's offering, clip drafts and prompts: all its plan needs."""


def _fallbacks(
    story: Story,
    chosen: str,
    first: tuple[Offering, list[ClipDraft]],
    found: Sequence[Diagnostic],
    facts: Mapping[Path, FileFacts],
    frames: Mapping[int, str],
    template_dir: Path | None,
    file: str,
) -> tuple[list[Diagnostic], list[_Prepared]]:
    """The provider rules run for each fallback of a provider list, each diagnostic naming
    its fallback and said once (`on_fallback`), and P203 where a fallback cuts other clips;
    with what each fallback's plan needs (`build` renders them: `Compilation.fallback_plans`)."""
    offering, drafts = first
    seen = {diagnostic_key(d) for d in found}
    extra: list[Diagnostic] = []
    prepared: list[_Prepared] = []
    for other in fallback_offerings(story, load_table(), chosen):
        own = list(check_story_against(story, other, facts, file))
        # Drafts of its own: the prompts fill them in, and the first provider's are planned.
        other_drafts = group_clips(story, other, frames)
        try:
            # No prompt cache: it keeps one provider's prompts and drops the rest.
            other_prompts = render_prompts(other_drafts, story, other, template_dir)
        except TemplateProblem as exc:
            own.append(R.T001.diagnostic(exc.message, Span.point(1, 1), file, help=exc.hint))
        else:
            own += check_clips(story, other, other_drafts, file)
            own += check_prompts(story, other, other_drafts, other_prompts, file)
            prepared.append((other, other_drafts, other_prompts))
        extra += on_fallback(other.provider, own, seen)
        extra += check_fallback_clips(
            story, (offering.provider, drafts), (other.provider, other_drafts), file
        )
    return extra, prepared


def _apply_rules(
    found: list[Diagnostic], parsed: ParsedStory, rules: RuleSelection, file: str
) -> list[Diagnostic]:
    """The lint policy over the diagnostics: what `check`, `lint` and the editor report."""
    comments = parsed.comments()
    # While some text does not parse, a suppression may silence what sits in it.
    complete = not any(is_syntax_code(d.code) and d.code != "E002" for d in parsed.diagnostics)
    return apply_policy(found, parsed.source, comments, rules, file, complete=complete)


def read_story(path: Path) -> str:
    """The text of a story file, the one way every command reads one: a regular file of at
    most 16 MB, UTF-8 with any BOM dropped. Raises `StorycError` (exit 2) otherwise, the
    subclass `NotUtf8` for bytes that do not decode (see `storyc.language.source`)."""
    from storyc.language.source import read_story_text

    return read_story_text(path)


def compile_file(
    path: Path,
    *,
    provider: str | None = None,
    template_dir: Path | None = None,
    policy: ReferencePolicy | None = None,
    rules: RuleSelection | None = None,
    want_plan: bool = True,
    text: str | None = None,
    picks: bool = True,
    first_frames: Mapping[int, Path] | None = None,
) -> Compilation:
    """Read a story file and analyse it as every command does: the lint policy of its
    config file (`rules` replaces it) and its suppressions applied, and the takes the writer
    picked (`storyc pick`, kept in `<stem>.story.lock`) swapped into the plan (unless
    `picks` is False: the board shows every take). `text` is the file's text when the caller
    has read it already (`watch`). `policy`: see `analyze_source`."""
    from storyc.language.source import NotUtf8

    try:
        source = text if text is not None else read_story(path)
    except NotUtf8 as exc:  # an E010 diagnostic, shown with its line like any other
        return Compilation(str(path), exc.source, None, [exc.diagnostic])
    compilation = analyze_source(
        source,
        str(path),
        provider=provider,
        template_dir=template_dir,
        policy=policy,
        rules=rules if rules is not None else selection_for(path),
        want_plan=want_plan,
        first_frames=first_frames,
    )
    return with_picks(compilation, path) if picks else compilation


def with_picks(compilation: Compilation, path: Path) -> Compilation:
    """`compilation` with the takes picked for the story at `path` in its plan."""
    from storyc.plan.takes import apply_picks, read_picks

    if compilation.plan is None or compilation.story is None:
        return compilation
    picks = read_picks(path)
    if picks:
        story = compilation.story
        compilation.plan = apply_picks(story, compilation.plan, picks)
        compilation.fallback_plans = [
            apply_picks(story, plan, picks) for plan in compilation.fallback_plans
        ]
    return compilation

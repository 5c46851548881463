"""Rules about what the chosen provider and model accept: lengths, sizes, seeds, sound,
reference files and prompt limits. They read the capability table, never a constant.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from storyc.check import catalog as R
from storyc.check.diagnostics import Diagnostic, Edit, Fix, Severity
from storyc.language.cameo_views import (
    CameoView,
    view_paths,
    views_as_written,
    voice_sample_path,
    voice_samples_as_written,
)
from storyc.language.model import AUDIO_CUE_KEYS, Cameo, Span, Story
from storyc.plan.capabilities import (
    PREVIEW,
    PROVIDERS,
    CapabilityTable,
    Offering,
    aspect_ratio,
    parse_size,
    size_for_aspect,
)
from storyc.plan.planner import (
    ClipDraft,
    ShotMentions,
    cameos_with_file,
    reference_count,
    resolve_path,
    shot_mentions,
    shot_seconds,
    story_size,
)
from storyc.sandbox import (
    ALLOW_HINT,
    MAX_AUDIO_BYTES,
    MAX_IMAGE_BYTES,
    MAX_VIDEO_BYTES,
    human_size,
)
from storyc.units import format_duration

CAMEO_VIDEO_MIN_MS = 2000
CAMEO_VIDEO_MAX_MS = 4000


@dataclass(frozen=True)
class FileFacts:
    """What the compiler found out about a reference file (I/O happens there, not here)."""

    exists: bool
    sha256: str | None = None
    kind: str | None = None
    """"image", "video", "audio" (a voice sample) or None when unreadable."""
    width: int | None = None
    height: int | None = None
    duration_ms: int | None = None
    outside: bool = False
    """The file resolves outside the story's sandbox (see `storyc.sandbox`): nothing of it
    was read, and `problem` says where it leads."""
    problem: str | None = None
    """Why the file cannot be used, as a phrase after its name ("is a folder, not a file",
    "is 3.0 GB; ...", "is not an image or a video ..."); None when it can."""


def _span_of(story: Story, key: str) -> Span:
    return story.header.span_of(key) or Span.point(1, 1)


def _text_span(story: Story, key: str) -> Span:
    for prop in story.header.properties:
        if prop.key == key:
            return prop.text_span
    return Span.point(1, 1)


def resolve_offering(
    story: Story, table: CapabilityTable, provider: str, file: str
) -> tuple[Offering | None, list[Diagnostic]]:
    """Find the offering for the story's model on `provider`, or say why there is none.

    `provider` may be a fallback list (`runway, fal`): the offering is the first one's, and
    every other name must be a provider that serves the model too (see `provider_chain`)."""
    chain = provider_chain(provider)
    if len(chain) > 1:
        offering, problems = resolve_offering(story, table, chain[0], file)
        return offering, problems + _fallback_problems(story, table, chain, file)
    model = story.header.model
    if provider not in PROVIDERS:
        guess = difflib.get_close_matches(provider, PROVIDERS, n=1)
        return None, [
            R.P202.diagnostic(
                f"storyc cannot render on `{provider}`"
                + (f"; did you mean `{guess[0]}`?" if guess else ""),
                _text_span(story, "provider"),
                file,
                help=f"providers: {', '.join(PROVIDERS)}",
            )
        ]
    if model not in table.models():
        guess = difflib.get_close_matches(model, table.models(), n=1)
        return None, [
            R.P201.diagnostic(
                f"`{model}` is not a model storyc knows"
                + (f"; did you mean `{guess[0]}`?" if guess else ""),
                _text_span(story, "model"),
                file,
                help=f"models: {', '.join(table.models())}",
                fix=Fix(
                    title=f"replace with `{guess[0]}`",
                    edits=(Edit(span=_text_span(story, "model"), text=guess[0]),),
                )
                if guess
                else None,
            )
        ]
    offering = table.offering(provider, model)
    if offering is None:
        where = ", ".join(table.providers_for(model))
        return None, [
            R.P203.diagnostic(
                f"`{provider}` does not serve `{model}`",
                _text_span(story, "provider")
                if story.header.span_of("provider")
                else _text_span(story, "model"),
                file,
                help=f"`{model}` renders on: {where} (or `preview`)",
            )
        ]
    return offering, []


def provider_chain(text: str) -> list[str]:
    """The providers of a `provider:` value or `--provider` option, in order: `runway, fal`
    is runway first, then fal for the clips runway refuses (see `storyc.providers.fallback`)."""
    return [name.strip() for name in text.split(",")] if "," in text else [text]


def _fallback_problems(
    story: Story, table: CapabilityTable, chain: list[str], file: str
) -> list[Diagnostic]:
    """What is wrong with the names after the first of a fallback list (the first is
    resolved as a single provider)."""
    model = story.header.model
    span = _text_span(story, "provider")
    found: list[Diagnostic] = []
    for number, name in enumerate(chain):
        if name == PREVIEW:
            found.append(
                R.P202.diagnostic(
                    f"`{name}` cannot be in a provider list: a fallback renders the model "
                    "itself, and the preview only draws a stand-in",
                    span,
                    file,
                    help="render with `provider: preview` alone, or list paid providers",
                )
            )
        elif number == 0:
            continue  # resolved as a single provider
        elif not name:
            found.append(
                R.P202.diagnostic(
                    "an empty name in the provider list",
                    span,
                    file,
                    help="name the providers in order, separated by commas: `runway, fal`",
                )
            )
        elif name in chain[:number]:
            found.append(
                R.P202.diagnostic(
                    f"`{name}` is listed twice in the provider list",
                    span,
                    file,
                    help="name each provider once, in the order to try them",
                )
            )
        elif name not in PROVIDERS:
            paid = [p for p in PROVIDERS if p != PREVIEW]
            guess = difflib.get_close_matches(name, paid, n=1)
            found.append(
                R.P202.diagnostic(
                    f"storyc cannot render on `{name}` (in the provider list)"
                    + (f"; did you mean `{guess[0]}`?" if guess else ""),
                    span,
                    file,
                    help=f"providers: {', '.join(paid)}",
                )
            )
        elif model in table.models() and table.offering(name, model) is None:
            where = ", ".join(table.providers_for(model))
            found.append(
                R.P203.diagnostic(
                    f"`{name}` does not serve `{model}`, so it cannot take the clips "
                    f"`{chain[0]}` refuses",
                    span,
                    file,
                    help=f"`{model}` renders on: {where}",
                )
            )
    return found


def fallback_offerings(story: Story, table: CapabilityTable, provider: str) -> list[Offering]:
    """The offerings of the fallbacks of a provider list (every name after the first), in
    order; a name `_fallback_problems` refuses (unknown, the preview, twice, not serving
    the model) has none and is left out: its own diagnostic says why."""
    chain = provider_chain(provider)
    found: list[Offering] = []
    for number, name in enumerate(chain[1:], start=1):
        if name == PREVIEW or name in chain[:number]:
            continue
        offering = table.offering(name, story.header.model)
        if offering is not None:
            found.append(offering)
    return found


DiagnosticKey = tuple[str, Span, str]
"""What makes two diagnostics the same one: code, span and message."""


def diagnostic_key(diagnostic: Diagnostic) -> DiagnosticKey:
    return diagnostic.code, diagnostic.span, diagnostic.message


def on_fallback(
    name: str, found: Iterable[Diagnostic], seen: set[DiagnosticKey]
) -> Iterator[Diagnostic]:
    """A fallback's own diagnostics, each saying which fallback it is about; one already in
    `seen` (the first provider's, or an earlier fallback's: same code, span and message, as
    a missing file is everywhere) is said once. `seen` grows with what is yielded.

    Severities are kept: `build` refuses a story that does not compile for a fallback
    (`storyc.cli.fallback_view.compile_chain`), so `check` calls that an error too."""
    for diagnostic in found:
        key = diagnostic_key(diagnostic)
        if key in seen:
            continue
        seen.add(key)
        yield diagnostic.model_copy(
            update={"message": f"on the fallback `{name}`: {diagnostic.message}"}
        )


def check_fallback_clips(
    story: Story,
    first: tuple[str, Sequence[ClipDraft]],
    fallback: tuple[str, Sequence[ClipDraft]],
    file: str,
) -> Iterator[Diagnostic]:
    """P203 when a fallback would cut the story into other clips than the first provider:
    a refused clip is sent to the next provider by its number, so every provider of the
    list must make the same clips of the same shots (`storyc.providers.fallback.check_chain`
    refuses such plans at `render` and `build`)."""
    (one, mine), (two, theirs) = first, fallback
    why: str | None = None
    if len(mine) != len(theirs):
        why = f"the story makes {len(mine)} clip(s) on {one} but {len(theirs)} on {two}"
    else:
        for a, b in zip(mine, theirs, strict=True):
            if [s.index for s in a.shots] != [s.index for s in b.shots]:
                why = (
                    f"clip {a.index:02d} holds shot(s) {_shot_numbers(a)} on {one} but "
                    f"{_shot_numbers(b)} on {two}"
                )
                break
    if why is not None:
        yield R.P203.diagnostic(
            f"`{two}` cannot take the clips `{one}` refuses: {why}",
            _text_span(story, "provider"),
            file,
            help=f"fallbacks need the same clips on every provider; drop `{two}` from the "
            "list, or set `clips: per-shot` so both cut alike",
        )


def _shot_numbers(draft: ClipDraft) -> str:
    return " ".join(str(s.index) for s in draft.shots)


def check_story_against(
    story: Story,
    offering: Offering,
    facts: Mapping[Path, FileFacts],
    file: str,
    mentions: ShotMentions | None = None,
) -> Iterator[Diagnostic]:
    """The provider rules over the story. `mentions` is `shot_mentions(story)` when the
    caller has it already (the grouping asks too)."""
    size = story_size(story, offering)
    real = offering.mirrors or offering.provider
    where = f"{offering.model} on {real}" + (
        " (the preview checks as that)" if offering.mirrors else ""
    )
    aspect = story.header.aspect
    # A size that is not `WxH` at all is S113 (with its fix); P204 too would be a cascade.
    if story.header.size and parse_size(size) is not None and size not in offering.sizes:
        yield R.P204.diagnostic(
            f"{where} does not render {size}",
            _text_span(story, "size"),
            file,
            help=f"it renders: {', '.join(offering.sizes)}",
        )
    elif not story.header.size and aspect and size_for_aspect(offering, aspect) is None:
        yield R.P204.diagnostic(
            f"{where} does not render the aspect {aspect}",
            _text_span(story, "aspect"),
            file,
            help=f"it renders: {', '.join(sorted({aspect_ratio(s) for s in offering.sizes}))}",
        )
    header_seed = story.header.seed
    if header_seed is not None:
        yield from _seed(offering, header_seed, _text_span(story, "seed"), where, file)
    longest = offering.longest_ms
    from_references = max(offering.lengths_for(with_references=True)) * 1000
    with_file = cameos_with_file(story)
    silent = not offering.renders_audio
    resolved: dict[str, Path] = {}

    def resolve(relative: str) -> Path:
        # Many shots start from the same few images; resolving is a syscall per part.
        if relative not in resolved:
            resolved[relative] = resolve_path(story, relative)
        return resolved[relative]

    each_mention = iter(mentions if mentions is not None else shot_mentions(story))
    voiced: dict[str, bool] = {}
    for shot in story.shots:
        mentioned = next(each_mention)
        if shot.seed is not None and shot.seed_span is not None:
            yield from _seed(offering, shot.seed, shot.seed_span, where, file)
        if shot.duration_ms > longest:
            parts = -(-shot.duration_ms // longest)
            yield R.P205.diagnostic(
                f"a {format_duration(shot.duration_ms)} shot is longer than the {longest // 1000} s {where} renders at most",
                shot.duration_span,
                file,
                help=f"split it into {parts} shots of at most {longest // 1000} s each (allowed lengths: "
                f"{', '.join(str(n) for n in offering.lengths)} s)",
            )
        if silent:
            sound = [c for c in shot.own_cues if c.key in AUDIO_CUE_KEYS]
            if sound or shot.dialogue:
                span = sound[0].span if sound else shot.dialogue[0].span
                yield R.P208.diagnostic(
                    f"{where} renders no sound: this shot's sound and dialogue will not be heard",
                    span,
                    file,
                    help="render on a provider with sound, or drop the sound cues",
                )
        if shot.from_image is not None and shot.from_span is not None:
            path = resolve(shot.from_image)
            yield from _first_frame(
                offering, shot.from_image, path, shot.from_span, size, facts, where, file
            )
        if shot.keyframe is not None and shot.keyframe_span is not None:
            path = resolve(shot.keyframe)
            yield from _keyframe(shot.keyframe, path, shot.keyframe_span, facts, file)
        names = [name for name in mentioned if name in with_file]  # as `cameos_in`
        if names and shot.duration_ms <= longest and shot.duration_ms > from_references:
            yield R.P205.diagnostic(
                f"a {format_duration(shot.duration_ms)} shot with cameo images is longer than "
                f"the {from_references // 1000} s {where} renders from reference images",
                shot.duration_span,
                file,
                help=f"split it into shots of at most {from_references // 1000} s, or describe "
                "the cameos in words (`character`)",
            )
        samples = 0
        for name in names:
            if name not in voiced:  # each cameo looked up once, not once per shot naming it
                voiced[name] = _has_voice_sample(story, name)
            samples += voiced[name]
        if 0 < offering.max_audio_references < samples:
            yield R.P212.diagnostic(
                f"this shot sends {samples} cameo voice samples; {where} takes at most "
                f"{offering.max_audio_references} in one clip",
                shot.header_span,
                file,
                help="drop a cameo's `voice-sample:`, or split the shot",
            )
        images = reference_count(story, names, offering)
        if offering.cameo_mode == "image_urls" and len(names) <= offering.max_cameos < images:
            yield R.P212.diagnostic(
                f"this shot sends {images} cameo images (each cameo's file and its `side:`, "
                f"`back:` and `outfit:` views); {where} takes at most {offering.max_cameos} "
                "in one clip",
                shot.header_span,
                file,
                help="drop a view of a cameo, or describe a cameo as a `character`",
            )
        if offering.cameo_mode != "none" and len(names) > offering.max_cameos:
            yield R.P212.diagnostic(
                f"this shot names {len(names)} cameos; {where} takes at most {offering.max_cameos} in one clip",
                shot.header_span,
                file,
                help="describe the others as `character`s, or split the shot",
            )
    for cameo in story.cameos:
        if cameo.path is None or cameo.path_span is None:
            continue
        yield from _cameo_views(story, offering, cameo, facts, where, file)
        yield from _voice_sample(story, offering, cameo, facts, where, file)
        path = resolve_path(story, cameo.path)
        fact = facts.get(path)
        refused = _refused("cameo reference", cameo.path, fact, cameo.path_span, file)
        if refused is not None:
            yield refused
            continue
        if fact is None or not fact.exists:
            yield R.P210.diagnostic(
                f"cameo reference `{cameo.path}` does not exist",
                cameo.path_span,
                file,
                help=_missing_help(cameo.path, path),
            )
            continue
        if offering.cameo_mode == "none":
            yield R.P214.diagnostic(
                f"{where} takes no reference for cameos: `{cameo.name}` is described in words only",
                cameo.name_span,
                file,
                help="give the cameo a `look:` so the words carry it",
            )
            continue
        if fact.kind != offering.cameo_media:
            yield R.P216.diagnostic(
                f"{where} takes a{'n' if offering.cameo_media == 'image' else ''} {offering.cameo_media} "
                f"as a cameo reference, and `{cameo.path}` is {'an' if fact.kind == 'image' else 'a'} "
                f"{fact.kind or 'unreadable file'}",
                cameo.path_span,
                file,
                help=f"point the cameo at a{'n' if offering.cameo_media == 'image' else ''} {offering.cameo_media}",
            )
        elif (
            fact.kind == "video"
            and fact.duration_ms is not None
            and not (CAMEO_VIDEO_MIN_MS <= fact.duration_ms <= CAMEO_VIDEO_MAX_MS)
        ):
            yield R.P211.diagnostic(
                f"a cameo reference video lasts 2 to 4 s; `{cameo.path}` lasts {fact.duration_ms / 1000:.1f} s",
                cameo.path_span,
                file,
                help="trim it to 2-4 s of the subject",
            )


def _cameo_views(
    story: Story,
    offering: Offering,
    cameo: Cameo,
    facts: Mapping[Path, FileFacts],
    where: str,
    file: str,
) -> Iterator[Diagnostic]:
    """A cameo's views (`side:`, `back:`, `outfit:`) checked as its own file is: inside the
    sandbox, there, an image; and said when the model has no use for them."""
    first: dict[str, CameoView] = {}  # the line of each key that is sent (S116: the rest)
    for view in views_as_written(cameo):
        if view.path is not None:
            first.setdefault(view.key, view)
    sent = set(view_paths(cameo))
    views = [view for view in first.values() if view.path in sent]
    for view in views:
        assert view.path is not None
        fact = facts.get(resolve_path(story, view.path))
        refused = _refused(f"cameo `{view.key}:` image", view.path, fact, view.span, file)
        if refused is not None:
            yield refused
        elif fact is None or not fact.exists:
            yield R.P210.diagnostic(
                f"cameo `{view.key}:` image `{view.path}` does not exist",
                view.span,
                file,
                help=_missing_help(view.path, resolve_path(story, view.path)),
            )
        elif fact.kind != "image":
            yield R.P216.diagnostic(
                f"a cameo's `{view.key}:` is an image, and `{view.path}` is "
                f"{'a' if fact.kind else 'an'} {fact.kind or 'unreadable file'}",
                view.span,
                file,
                help="point it at a PNG, JPEG or WebP image of the subject",
            )
    if views and offering.cameo_mode not in ("image_urls", "elements"):
        yield R.P216.diagnostic(
            f"{where} takes one reference per cameo: the views of `{cameo.name}` "
            f"({', '.join(f'`{v.key}:`' for v in views)}) are not sent",
            views[0].span,
            file,
            help="keep them for models that take several images of a subject (Kling, Veo "
            "and Seedance reference images, Runway `references`)",
        )


def _has_voice_sample(story: Story, name: str) -> bool:
    cameo = story.cameo(name)
    return cameo is not None and voice_sample_path(cameo) is not None


def _voice_sample(
    story: Story,
    offering: Offering,
    cameo: Cameo,
    facts: Mapping[Path, FileFacts],
    where: str,
    file: str,
) -> Iterator[Diagnostic]:
    """A cameo's `voice-sample:` checked as its own file is (inside the sandbox, there, audio
    by its content), and said when the model takes no audio reference (then it is not sent)."""
    written = voice_sample_path(cameo)
    if written is None:
        return  # none, or a bad value (S116)
    span = voice_samples_as_written(cameo)[0].span
    path = resolve_path(story, written)
    fact = facts.get(path)
    refused = _refused(
        "cameo voice sample",
        written,
        fact,
        span,
        file,
        media_help="point it at a recording of the voice (WAV, MP3, M4A, AAC, Ogg or FLAC, "
        f"at most {human_size(MAX_AUDIO_BYTES)}) inside the project",
    )
    if refused is not None:
        yield refused
    elif fact is None or not fact.exists:
        yield R.P210.diagnostic(
            f"cameo voice sample `{written}` does not exist",
            span,
            file,
            help=_missing_help(written, path),
        )
    elif fact.kind != "audio":
        yield R.P216.diagnostic(
            f"a cameo's `voice-sample:` is audio, and `{written}` is "
            f"{'an' if fact.kind == 'image' else 'a'} {fact.kind or 'unreadable file'}",
            span,
            file,
            help="point it at a recording of the voice (WAV, MP3, M4A, AAC, Ogg or FLAC)",
        )
    if offering.cameo_mode != "none" and offering.max_audio_references < 1:
        yield R.P216.diagnostic(
            f"{where} takes no audio reference: the voice sample of `{cameo.name}` is not sent",
            span,
            file,
            help="describe the voice with `voice:`; Seedance 2 (fal, Runway) takes voice samples",
        )


def _refused(
    what: str,
    reference: str,
    fact: FileFacts | None,
    span: Span,
    file: str,
    *,
    media_help: str | None = None,
) -> Diagnostic | None:
    """P218 for a file outside the story's sandbox (never read), P219 for one storyc will not
    read or cannot use (a folder, a FIFO, too large, not an image or a video by content)."""
    if fact is None or fact.problem is None:
        return None
    if fact.outside:
        return R.P218.diagnostic(
            f"{what} `{reference}` {fact.problem}", span, file, help=ALLOW_HINT
        )
    if not fact.exists:
        return None
    return R.P219.diagnostic(
        f"{what} `{reference}` {fact.problem}",
        span,
        file,
        help=media_help
        or f"point it at a PNG, JPEG or WebP image (at most {human_size(MAX_IMAGE_BYTES)}) "
        f"or a video (at most {human_size(MAX_VIDEO_BYTES)}) inside the project",
    )


def _seed(offering: Offering, seed: int, span: Span, where: str, file: str) -> Iterator[Diagnostic]:
    if not offering.takes_seed:
        # Not an error and not a warning: the story stays valid for the provider, the
        # writer just learns that the seed will not pin the result there.
        yield R.P206.diagnostic(
            f"{where} takes no seed; this one is ignored there",
            span,
            file,
            help="results will differ run to run; fal and prodia take seeds",
            severity=Severity.INFO,
        )
    elif not offering.accepts_seed(seed):
        yield R.P206.diagnostic(
            f"{where} takes seeds from {offering.seed_min} to {offering.seed_max}, not {seed}",
            span,
            file,
            severity=Severity.ERROR,
        )


def _first_frame(
    offering: Offering,
    image: str,
    path: Path,
    span: Span,
    size: str,
    facts: Mapping[Path, FileFacts],
    where: str,
    file: str,
) -> Iterator[Diagnostic]:
    """A shot's `from "image"` (`image` as written, `path` resolved)."""
    fact = facts.get(path)
    refused = _refused("first-frame image", image, fact, span, file)
    if refused is not None:
        yield refused
        return
    if not offering.first_frame:
        yield R.P213.diagnostic(f"{where} takes no first-frame image", span, file)
        return
    unreadable = _unreadable_image("first-frame image", image, path, fact, span, file)
    if unreadable is not None:
        yield unreadable
        return
    assert fact is not None  # `_unreadable_image` said it is a readable image
    found = f"{fact.width}x{fact.height}"
    if offering.first_frame_exact and found != size:
        yield R.P209.diagnostic(
            f"the first frame must be exactly {size} (the clip's size); `{image}` is {found}",
            span,
            file,
            help=_fit_help(image, size),
        )
    elif not offering.first_frame_exact and aspect_ratio(found) != aspect_ratio(size):
        yield R.P209.diagnostic(
            f"`{image}` is {found} ({aspect_ratio(found)}); the clip is {size} ({aspect_ratio(size)}), "
            "so the provider will crop it",
            span,
            file,
            severity=Severity.WARNING,
        )


def _fit_help(image: str, size: str) -> str:
    """How to make a first frame of the wrong size fit: crop to fill (what storyc does with
    generated keyframes), one command to copy and paste."""
    width, _, height = size.partition("x")
    fitted = f"{Path(image).with_suffix('').as_posix()}-{size}.png"
    return (
        f'crop it to fill {size} (nothing squashed, no black bars): `ffmpeg -i "{image}" -vf '
        f"scale={width}:{height}:force_original_aspect_ratio=increase,crop={width}:{height} "
        f'"{fitted}"`, then `from "{fitted}"`'
    )


def _keyframe(
    image: str, path: Path, span: Span, facts: Mapping[Path, FileFacts], file: str
) -> Iterator[Diagnostic]:
    """A `keyframe:` still (`image` as written, `path` resolved): inside the sandbox, there,
    and an image by its content."""
    fact = facts.get(path)
    refused = _refused("keyframe image", image, fact, span, file)
    if refused is not None:
        yield refused
        return
    unreadable = _unreadable_image("keyframe image", image, path, fact, span, file)
    if unreadable is not None:
        yield unreadable


def _unreadable_image(
    what: str, image: str, path: Path, fact: FileFacts | None, span: Span, file: str
) -> Diagnostic | None:
    """P210 for an image reference (first frame, keyframe) that is missing or not an image
    storyc can read by its content; None when it is one."""
    if fact is None or not fact.exists:
        return R.P210.diagnostic(
            f"{what} `{image}` does not exist", span, file, help=_missing_help(image, path)
        )
    if fact.kind != "image" or fact.width is None or fact.height is None:
        return R.P210.diagnostic(f"`{image}` is not an image storyc can read", span, file)
    return None


def _missing_help(written: str, looked_for: object) -> str:
    """Where a missing reference was looked for; for a Windows path (`refs\\img.png`), that
    folders are separated by `/` on every system."""
    where = f"looked for {looked_for}; paths are relative to the story file"
    if "\\" not in written:
        return where
    forward = written.replace("\\", "/")
    return f'{where} and use `/` between folders on every system, Windows too: "{forward}"'


def check_clips(
    story: Story, offering: Offering, drafts: Sequence[ClipDraft], file: str
) -> Iterator[Diagnostic]:
    """What only a whole clip shows: cameos the provider cannot take with its first frame."""
    where = f"{offering.model} on {offering.mirrors or offering.provider}"
    for draft in drafts:
        yield from _too_few_shots(offering, draft, where, file)
        if not draft.cameo_names:
            continue
        span = draft.shots[0].header_span
        if offering.cameo_mode == "image_urls" and draft.input_reference:
            yield R.P217.diagnostic(
                f"{where} takes either a first frame or cameo images in one clip, not both "
                f"(clip {draft.index} has `from` and names @{draft.cameo_names[0]})",
                span,
                file,
                help="drop the `from` image, or describe the cameo as a `character` in this shot",
            )
        elif offering.cameo_mode == "elements" and not draft.input_reference:
            yield R.P217.diagnostic(
                f"{where} takes cameo elements only with a start image; clip {draft.index} names "
                f"@{draft.cameo_names[0]} and has no `from` image",
                span,
                file,
                help='start the clip\'s first shot `from "image.png"`, or describe the cameo in words',
            )


def _too_few_shots(
    offering: Offering, draft: ClipDraft, where: str, file: str
) -> Iterator[Diagnostic]:
    """P220 for a clip a shots-only target (`Offering.min_shots` > 1) cannot take as shots."""
    if offering.min_shots <= 1:
        return
    if shot_seconds([s.duration_ms for s in draft.shots], offering) is not None:
        return
    count = len(draft.shots)
    yield R.P220.diagnostic(
        f"{where} renders a clip as {offering.min_shots} to {offering.max_shots} shots, "
        f"{_either(offering.lengths)} s in all; clip {draft.index} has "
        f"{count} shot{'s' if count != 1 else ''} ({format_duration(draft.duration_ms)})",
        draft.shots[0].header_span,
        file,
        help=_too_few_shots_help(offering, draft),
        data={"clip": draft.index},
    )


def _too_few_shots_help(offering: Offering, draft: ClipDraft) -> str:
    """What would make a P220 clip one the target takes. The planner already tried every
    cut of the shots it could join (`storyc.plan.planner._split_for_min_shots`), so the
    writer must change the shots themselves."""
    count = len(draft.shots)
    other = "or pick a model that renders one prompt"
    if count < offering.min_shots:
        more = offering.min_shots - count
        return (
            f"no cut of this scene's shots gives every clip {offering.min_shots} to "
            f"{offering.max_shots}: add {more} shot{'s' if more != 1 else ''} to this clip "
            "(a `from` image, another seed or a transition other than a cut starts a new "
            f"clip; a scene's end too), {other}"
        )
    longest = max(offering.lengths)
    allowed = sorted(offering.shot_lengths)
    return (
        f"make every shot but the clip's last {allowed[0]} to {allowed[-1]} whole seconds, "
        f"at most {longest} s in all (the last is rounded up), {other}"
    )


def _either(values: Sequence[int]) -> str:
    """`5, 10 or 15`."""
    texts = [str(v) for v in values]
    return texts[0] if len(texts) == 1 else f"{', '.join(texts[:-1])} or {texts[-1]}"


def check_prompts(
    story: Story, offering: Offering, drafts: Sequence[ClipDraft], prompts: Sequence[str], file: str
) -> Iterator[Diagnostic]:
    where = f"{offering.model} on {offering.mirrors or offering.provider}"
    for draft, prompt in zip(drafts, prompts, strict=True):
        span = draft.shots[0].header_span
        for number, shot_prompt in enumerate(draft.shot_prompts, start=1):
            # A clip sent shot by shot (Kling's `multi_prompt`): each shot's prompt is sent,
            # and held to the limit; the clip's own prompt is not sent.
            if offering.prompt_length(shot_prompt) > offering.prompt_max:
                yield R.P207.diagnostic(
                    f"clip {draft.index}'s shot {number} prompt is "
                    f"{offering.prompt_length(shot_prompt):,} characters; {where} takes at most "
                    f"{offering.prompt_max:,} a shot",
                    draft.shots[number - 1].header_span,
                    file,
                    help="shorten the shot's cues",
                    data={"clip": draft.index, "shot": number},
                )
        if draft.shot_prompts:
            continue
        length = offering.prompt_length(prompt)
        units = "UTF-16 code units" if offering.prompt_units == "utf16" else "characters"
        if length > offering.prompt_max:
            yield R.P207.diagnostic(
                f"clip {draft.index}'s prompt is {length:,} {units}; {where} takes at most "
                f"{offering.prompt_max:,}",
                span,
                file,
                help="shorten its cues, or use `clips: per-shot` so each shot gets its own prompt",
                data={"clip": draft.index, "length": length},
            )
        elif length < offering.prompt_min:
            yield R.P215.diagnostic(
                f"clip {draft.index}'s prompt is {length} {units}; {where} needs at least "
                f"{offering.prompt_min}",
                span,
                file,
                help="describe the shot's action",
            )

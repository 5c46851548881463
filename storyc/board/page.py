"""The storyboard page as data, and its HTML: pure functions, no files read or written.

`board_page` turns a clip plan, the story, the diagnostics and what is on disk (clip files,
thumbnails, the film; all given as paths relative to the board) into a `BoardPage`;
`render_board` fills `templates/board.html.j2` with it (autoescaped). Finding files, making
thumbnails and rendering the missing clips is `storyc.cli.board`'s job.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Literal

from storyc.check.diagnostics import Diagnostic
from storyc.language.model import Shot, Story
from storyc.plan.planner import scene_notes
from storyc.plan.schema import Clip, ClipPlan, PlannedShot
from storyc.units import seconds_text, timecode

Live = Literal["serve", "refresh"] | None
"""How a page kept fresh by `storyc watch` reloads: poll the server, or a meta refresh."""


@dataclass(frozen=True)
class CostRow:
    provider: str
    model: str
    clips: int | None
    render_seconds: int | None
    cost_usd: float | None
    problem: str | None = None
    current: bool = False


@dataclass(frozen=True)
class DiagnosticView:
    code: str
    severity: str
    message: str
    where: str
    help: str | None


@dataclass(frozen=True)
class CameoView:
    """Someone a shot names: a cameo (with a reference file) or a character (words only)."""

    name: str
    thumb: str | None
    kind: Literal["cameo", "character"] = "cameo"


@dataclass(frozen=True)
class CastMember:
    """One entry of the cast strip: a declared cameo or character, its look and picture."""

    name: str
    kind: Literal["cameo", "character"]
    look: str | None
    voice: str | None
    thumb: str | None
    """A still of the reference (a video cameo's middle frame), relative to the board."""
    reference: str | None
    """The reference file's name (never its full path: the page is served)."""
    video: bool = False
    views: tuple[CastView, ...] = ()
    """A cameo's further images (`side:`, `back:`, `outfit:`), in the order they are sent."""


@dataclass(frozen=True)
class CastView:
    """One further image of a cameo in the cast strip: which view, its still, its file name."""

    key: str
    """side, back or outfit (`storyc.language.cameo_views.VIEW_KEYS`)."""
    thumb: str | None
    """Its small copy beside the board; None when it cannot be read (a note says why)."""
    reference: str
    """The file's name (never its full path)."""


@dataclass(frozen=True)
class Keyframe:
    """The picture a shot is drawn from, when it has one: a small copy beside the board."""

    thumb: str
    what: Literal["keyframe", "first frame"]


@dataclass(frozen=True)
class Media:
    """Where a shot plays: a video file (relative to the board) and the shot's stretch in it."""

    src: str
    start_s: float
    end_s: float
    preview: bool
    """True when this is the preview animatic standing in for a clip not rendered yet."""


@dataclass(frozen=True)
class TakeView:
    take: int
    clip_id: str
    thumb: str | None
    media: Media | None
    picked: bool


@dataclass(frozen=True)
class ShotCard:
    dom_id: str
    index: int
    label: str
    scene_label: str
    timecode: str
    duration: str
    clip_index: int
    clip_id: str
    render: str
    """The render length the shot's clip costs, and its price."""
    shared: bool
    """The clip carries other shots too (packed)."""
    camera: str | None
    light: str | None
    action: str | None
    sound: str | None
    dialogue: tuple[tuple[str, str | None, str], ...]
    cameos: tuple[CameoView, ...]
    prompt: str
    diagnostics: tuple[DiagnosticView, ...]
    thumb: str | None
    media: Media | None
    takes: tuple[TakeView, ...] = ()
    notes: tuple[str, ...] = ()
    """The shot's `note:` lines (for people; never sent)."""
    keyframe: Keyframe | None = None
    pick_clip: str | None = None
    """The id of take 1 of the shot's clip: what a click-to-pick names (with takes only)."""
    pick_command: str | None = None
    """`storyc pick FILE SHOT` (the take is added): how to pick without the served board."""


@dataclass(frozen=True)
class SceneRow:
    index: int
    title: str
    cards: tuple[ShotCard, ...]
    notes: tuple[str, ...] = ()
    """The scene's own `note:` lines (outside its shots)."""


@dataclass(frozen=True)
class BoardPage:
    title: str
    stem: str
    source: str
    provider: str
    model: str
    size: str
    length: str
    clip_count: int
    render_seconds: int
    cost_usd: float
    costs: tuple[CostRow, ...]
    scenes: tuple[SceneRow, ...]
    story_diagnostics: tuple[DiagnosticView, ...]
    """Diagnostics outside any shot (header, declarations), or all of them without a plan."""
    film: str | None
    live: Live = None
    version: str = ""
    has_plan: bool = True
    notes: tuple[str, ...] = field(default_factory=tuple)
    aspect: str = "16 / 9"
    """CSS aspect-ratio of the pictures (the plan's size)."""
    cast: tuple[CastMember, ...] = ()


@dataclass(frozen=True)
class ShotFiles:
    """What is on disk for one clip take, as paths relative to the board page."""

    thumbs: Mapping[int, str]
    """Shot index -> thumbnail."""
    media: Mapping[int, Media]
    """Shot index -> where it plays."""


def seconds_label(ms: int) -> str:
    """A shot's length on its card: `3.5 s`."""
    return f"{seconds_text(ms)} s"


def diagnostic_view(diagnostic: Diagnostic) -> DiagnosticView:
    return DiagnosticView(
        code=diagnostic.code,
        severity=diagnostic.severity.value,
        message=diagnostic.message,
        # The name only: the page is served (`watch --serve`), and full paths tell who and where.
        where=f"{PurePath(diagnostic.file).name}:{diagnostic.span.line}:{diagnostic.span.column}",
        help=diagnostic.help,
    )


def shot_of_line(story: Story | None, line: int) -> int | None:
    """1-based index of the shot whose block holds `line`, if any."""
    if story is None:
        return None
    for number, shot in enumerate(story.shots, start=1):
        if shot.span.line <= line <= shot.span.end_line:
            return number
    return None


def shot_cameos(shot: Shot | None, known: Sequence[str]) -> tuple[str, ...]:
    """The names of `known` (cameos, characters) a shot mentions, in cues or dialogue, in
    the order of `known`."""
    if shot is None:
        return ()
    mentioned = {ref.name for cue in shot.cues for ref in cue.references}
    for line in shot.dialogue:
        mentioned.add(line.speaker.lstrip("@"))
        mentioned.update(ref.name for ref in line.references)
    return tuple(name for name in known if name in mentioned)


def _shot_label(shot: PlannedShot, number_in_scene: int) -> str:
    return shot.label or f"shot {number_in_scene}"


def board_page(
    plan: ClipPlan | None,
    story: Story | None,
    diagnostics: Sequence[Diagnostic],
    *,
    stem: str,
    source: str,
    files: Mapping[str, ShotFiles],
    cameo_thumbs: Mapping[str, str] | None = None,
    costs: Sequence[CostRow] = (),
    cast: Sequence[CastMember] = (),
    keyframes: Mapping[int, Keyframe] | None = None,
    film: str | None = None,
    takes: Mapping[int, Sequence[Clip]] | None = None,
    live: Live = None,
    version: str = "",
    notes: Sequence[str] = (),
) -> BoardPage:
    """The whole page's content. `plan` holds the picked take of each clip; `files` is keyed
    by clip id (each take is its own clip); `takes` maps a shot number to every take of its
    clip when there is more than one (the plan's own clip is the picked one: `clip.take`);
    `cast` is the cast strip, `keyframes` the picture of each shot that has one."""
    cameo_thumbs = cameo_thumbs or {}
    keyframes = keyframes or {}
    takes = takes or {}
    by_shot: dict[int, list[Diagnostic]] = {}
    loose: list[Diagnostic] = []
    for diagnostic in diagnostics:
        number = shot_of_line(story, diagnostic.span.line) if plan is not None else None
        if number is None:
            loose.append(diagnostic)
        else:
            by_shot.setdefault(number, []).append(diagnostic)
    if plan is None:
        return BoardPage(
            title=(story.header.title if story and story.header.title else stem) or stem,
            stem=stem,
            source=source,
            provider=story.header.provider if story else "",
            model=story.header.model if story else "",
            size="",
            length="-",
            clip_count=0,
            render_seconds=0,
            cost_usd=0.0,
            costs=tuple(costs),
            scenes=(),
            story_diagnostics=tuple(diagnostic_view(d) for d in loose),
            film=film,
            live=live,
            version=version,
            has_plan=False,
            notes=tuple(notes),
        )

    story_shots = story.shots if story is not None else ()
    kinds: dict[str, Literal["cameo", "character"]] = {}
    if story is not None:
        kinds |= {c.name: "cameo" for c in story.cameos}
        kinds |= {c.name: "character" for c in story.characters if c.name not in kinds}
    scenes: dict[int, tuple[str, list[ShotCard]]] = {}
    in_scene: dict[int, int] = {}
    for clip in plan.clips:
        _, cards = scenes.setdefault(clip.scene_index, (clip.scene, []))
        for shot in clip.shots:
            in_scene[clip.scene_index] = in_scene.get(clip.scene_index, 0) + 1
            number = in_scene[clip.scene_index]
            source_shot = story_shots[shot.index - 1] if shot.index <= len(story_shots) else None
            clip_files = files.get(clip.id)
            variants = takes.get(shot.index, ())
            take_views = tuple(
                TakeView(
                    take=other.take,
                    clip_id=other.id,
                    thumb=(files[other.id].thumbs.get(shot.index) if other.id in files else None),
                    media=(files[other.id].media.get(shot.index) if other.id in files else None),
                    picked=other.take == clip.take,
                )
                for other in variants
            )
            cards.append(
                ShotCard(
                    dom_id=f"shot-{shot.index}",
                    index=shot.index,
                    label=_shot_label(shot, number),
                    scene_label=f"{clip.scene_index}.{number}",
                    timecode=timecode(shot.film_start),
                    duration=seconds_label(shot.end - shot.start),
                    clip_index=clip.index,
                    clip_id=clip.id,
                    render=_render_cost(clip, len(variants)),
                    shared=len(clip.shots) > 1,
                    camera=shot.camera,
                    light=shot.light,
                    action=shot.action,
                    sound=shot.sound,
                    dialogue=tuple((d.speaker, d.delivery, d.text) for d in shot.dialogue),
                    cameos=tuple(
                        CameoView(name, cameo_thumbs.get(name), kinds[name])
                        for name in shot_cameos(source_shot, list(kinds))
                    ),
                    prompt=clip.prompt,
                    diagnostics=tuple(diagnostic_view(d) for d in by_shot.get(shot.index, ())),
                    thumb=clip_files.thumbs.get(shot.index) if clip_files else None,
                    media=clip_files.media.get(shot.index) if clip_files else None,
                    takes=take_views,
                    notes=shot.notes,
                    keyframe=keyframes.get(shot.index),
                    pick_clip=variants[0].id if variants else None,
                    pick_command=(
                        f"storyc pick {shlex.quote(source)} {shot.index}" if variants else None
                    ),
                )
            )
    story_scenes = story.scenes if story is not None else ()
    rows = tuple(
        SceneRow(
            index=index,
            title=title,
            cards=tuple(cards),
            notes=scene_notes(story_scenes[index - 1]) if index <= len(story_scenes) else (),
        )
        for index, (title, cards) in sorted(scenes.items())
    )
    return BoardPage(
        title=plan.story.title,
        stem=stem,
        source=source,
        provider=plan.story.provider,
        model=plan.story.model,
        size=plan.story.size,
        length=timecode(plan.duration),
        clip_count=len(plan.clips),
        render_seconds=plan.render_seconds,
        cost_usd=plan.cost_usd,
        costs=tuple(costs),
        scenes=rows,
        story_diagnostics=tuple(diagnostic_view(d) for d in loose),
        film=film,
        live=live,
        version=version,
        notes=tuple(notes),
        aspect=_aspect(plan.story.size),
        cast=tuple(cast),
    )


def _render_cost(clip: Clip, takes: int) -> str:
    """`8 s render, $0.80`, and with takes what they all cost: each is rendered and paid."""
    one = f"{clip.render_ms // 1000} s render, ${clip.cost_usd:.2f}"
    return one if takes <= 1 else f"{one} a take; {takes} takes ${clip.cost_usd * takes:.2f}"


def _aspect(size: str) -> str:
    width, _, height = size.partition("x")
    return f"{width} / {height}" if width.isdigit() and height.isdigit() else "16 / 9"


def render_board(page: BoardPage) -> str:
    """The page as one HTML document (templates/board.html.j2, autoescaped)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    from storyc.resources import templates_dir

    env = Environment(
        loader=FileSystemLoader(str(templates_dir())),
        autoescape=select_autoescape(["html", "j2"], default=True),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    return env.get_template("board.html.j2").render(page=page)

"""The storyboard of a story: compile, picture every shot, write DIR/board.html.

`make_board` does the work for `storyc board` and `storyc watch`: compile, render with the
free preview whatever has no clip yet (cache misses only), pull one frame per shot and small
copies of the cameo references into DIR/board/, and write DIR/board.html (self-contained:
CSS and script inline, pictures and videos beside it by relative path, nothing from the
network). No terminal: the render step is handed in.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from storyc.board.page import (
    BoardPage,
    CastMember,
    CastView,
    CostRow,
    Keyframe,
    Live,
    Media,
    ShotFiles,
    board_page,
    render_board,
)
from storyc.board.thumbs import ThumbnailError, frame_at, is_video, reference_thumb
from storyc.check.diagnostics import Diagnostic
from storyc.frontend import Compilation, analyze_source, compile_file, read_story
from storyc.fsutil import write_atomic
from storyc.language.cameo_views import VIEW_KEYS, view_paths, views_as_written
from storyc.language.model import Cameo, Story
from storyc.plan.first_frames import KEYFRAMES_DIR, keyframe_sources
from storyc.plan.planner import resolve_path
from storyc.plan.schema import Clip, ClipPlan
from storyc.plan.takes import all_takes, apply_picks, read_picks
from storyc.sandbox import ReferencePolicy

if TYPE_CHECKING:
    from storyc.pipeline import RenderStep
    from storyc.providers.engine import RenderReport

BOARD_FILE = "board.html"
VERSION_FILE = "board.version"
ASSETS = "board"
PREVIEW_DIR = "preview"
TAKES_DIR = "takes"
_THUMB_FILE = re.compile(r"^(?:[A-Za-z0-9_-]+-\d+|(?:cameo|key)-[0-9a-f]+)\.jpg$")


@dataclass
class BoardResult:
    path: Path
    compilation: Compilation
    rendered: list[str] = field(default_factory=list)
    """Ids of the clips rendered in this run (cache misses)."""
    page: BoardPage | None = None


def make_board(
    file: Path,
    out_dir: Path,
    *,
    provider: str | None = None,
    render: RenderStep | None = None,
    live: Live = None,
    source: str | None = None,
    policy: ReferencePolicy | None = None,
) -> BoardResult:
    """Compile `file` and write `out_dir/board.html`; return what was done.

    A story with errors still gets a board (its diagnostics, no shots) so that a page kept
    open by `watch` says what is wrong; `storyc board` itself then exits non-zero.
    `render` renders a plan with the free preview (default: quietly, no terminal).
    """
    render = render if render is not None else render_preview
    text = source if source is not None else read_story(file)
    # One policy for every compile of the story here, so the preview and the cost table
    # accept the same references (default: the project folder only).
    policy = policy if policy is not None else ReferencePolicy.for_story(file)
    # Picks are applied below, once the takes of the unpicked plan are known.
    compilation = compile_file(file, provider=provider, policy=policy, text=text, picks=False)
    out_dir.mkdir(parents=True, exist_ok=True)
    assets = out_dir / ASSETS
    assets.mkdir(exist_ok=True)
    result = BoardResult(path=out_dir / BOARD_FILE, compilation=compilation)
    plan = compilation.plan
    story = compilation.story
    notes: list[str] = []
    files: dict[str, ShotFiles] = {}
    cameo_thumbs: dict[str, str] = {}
    cast: list[CastMember] = []
    keyframes: dict[int, Keyframe] = {}
    costs: list[CostRow] = []
    takes: dict[int, list[Clip]] = {}
    picks: dict[int, int] = {}
    if plan is not None and story is not None:
        picks = read_picks(file)
        takes = all_takes(story, plan)
        plan = apply_picks(story, plan, picks)
        files, rendered, notes = _clip_media(file, text, plan, out_dir, render, policy)
        take_files, take_rendered, take_notes = _take_media(plan, takes, out_dir, render)
        files.update(take_files)
        result.rendered = rendered + take_rendered
        notes += take_notes
        cast, cameo_thumbs = _cast(story, assets, policy, notes)
        keyframes = _keyframes(story, out_dir, policy, notes)
        costs = _costs(file, text, plan, policy)
    film = out_dir / f"{file.stem}.mp4"
    page = board_page(
        plan,
        story,
        shown_diagnostics(compilation.diagnostics),
        stem=file.stem,
        source=file.name,  # no absolute path in a page that `watch --serve` serves
        files=files,
        cameo_thumbs=cameo_thumbs,
        costs=costs,
        cast=cast,
        keyframes=keyframes,
        film=film.name if film.is_file() and plan is not None else None,
        takes={s.index: variants for variants in takes.values() for s in variants[0].shots},
        live=live,
        notes=notes,
    )
    # The version is a hash of the page without itself, so an unchanged board keeps its
    # version and an open page does not reload for nothing.
    version = hashlib.sha256(render_board(page).encode()).hexdigest()[:16]
    page = _with_version(page, version)
    write_atomic(result.path, render_board(page))
    write_atomic(out_dir / VERSION_FILE, version + "\n")
    if plan is not None:
        _prune_thumbs(assets, page)
    result.page = page
    return result


def shown_diagnostics(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """What a board lists and the command prints: everything but the info notes."""
    return [d for d in diagnostics if d.severity.value != "info"]


def _with_version(page: BoardPage, version: str) -> BoardPage:
    from dataclasses import replace

    return replace(page, version=version)


def _clip_media(
    file: Path,
    text: str,
    plan: ClipPlan,
    out_dir: Path,
    render: RenderStep,
    policy: ReferencePolicy,
) -> tuple[dict[str, ShotFiles], list[str], list[str]]:
    """Thumbnails and playable media per clip: its own file, else the preview's."""
    notes: list[str] = []
    rendered: list[str] = []
    clip_files: dict[str, Path] = {}
    if plan.story.provider == "preview":
        report = render(plan, out_dir)
        rendered = [r.clip.id for r in report.rendered if not r.cached]
        clip_files = {r.clip.id: r.path for r in report.rendered}
        notes += [str(f) for f in report.failures]
    else:
        for clip in plan.clips:
            path = out_dir / "clips" / f"{clip.stem}.mp4"
            if path.is_file():
                clip_files[clip.id] = path
    # Shots of clips not rendered by their provider are drawn from the preview animatic.
    stand_in: dict[int, tuple[Path, int, int]] = {}
    missing = [c for c in plan.clips if c.id not in clip_files]
    if missing and plan.story.provider != "preview":
        preview = analyze_source(text, str(file), provider="preview", policy=policy).plan
        if preview is None:
            notes.append("the preview cannot draw this story, so unrendered shots have no picture")
        else:
            folder = out_dir / ASSETS / PREVIEW_DIR
            report = render(preview, folder)
            rendered = [r.clip.id for r in report.rendered if not r.cached]
            notes += [str(f) for f in report.failures]
            for done in report.rendered:
                for shot in done.clip.shots:
                    stand_in[shot.index] = (done.path, shot.start, shot.end)
            notes.append(
                f"{len(missing)} of {len(plan.clips)} clips are not rendered on "
                f"{plan.story.provider} yet: their pictures come from the free preview"
            )
    files = {
        clip.id: _shot_files(clip, clip_files.get(clip.id), stand_in, out_dir, notes)
        for clip in plan.clips
    }
    return files, rendered, notes


def _shot_files(
    clip: Clip,
    own: Path | None,
    stand_in: dict[int, tuple[Path, int, int]],
    out_dir: Path,
    notes: list[str],
) -> ShotFiles:
    """A thumbnail (the frame at the shot's middle) and the playable stretch of each shot."""
    thumbs: dict[int, str] = {}
    media: dict[int, Media] = {}
    for shot in clip.shots:
        if own is not None:
            video, start, end = own, shot.start, shot.end
            is_preview = clip.provider == "preview"
        elif shot.index in stand_in:
            video, start, end = stand_in[shot.index]
            is_preview = True
        else:
            continue
        middle = start + (end - start) // 2
        key = video.stem.split("-", 1)[-1]
        thumb = out_dir / ASSETS / f"{key}-{middle}.jpg"
        try:
            frame_at(video, middle, thumb)
            thumbs[shot.index] = _relative(thumb, out_dir)
        except ThumbnailError as exc:
            notes.append(f"shot {shot.index}: {exc}")
        media[shot.index] = Media(
            src=_relative(video, out_dir),
            start_s=start / 1000,
            end_s=end / 1000,
            preview=is_preview,
        )
    return ShotFiles(thumbs=thumbs, media=media)


def _take_media(
    plan: ClipPlan, takes: dict[int, list[Clip]], out_dir: Path, render: RenderStep
) -> tuple[dict[str, ShotFiles], list[str], list[str]]:
    """Render the takes not in the plan (the preview only) and picture them."""
    in_plan = {clip.id for clip in plan.clips}
    others = [c for variants in takes.values() for c in variants if c.id not in in_plan]
    if not others or plan.story.provider != "preview":
        return {}, [], []
    notes: list[str] = []
    report = render(plan.model_copy(update={"clips": tuple(others)}), out_dir / ASSETS / TAKES_DIR)
    notes += [str(f) for f in report.failures]
    files = {r.clip.id: _shot_files(r.clip, r.path, {}, out_dir, notes) for r in report.rendered}
    return files, [r.clip.id for r in report.rendered if not r.cached], notes


def render_preview(plan: ClipPlan, out_dir: Path) -> RenderReport:
    """Render with the free preview, quietly (the default render step of a board)."""
    from storyc.providers.engine import render_to_dir

    return render_to_dir(plan, out_dir, provider="preview")


def _cast(
    story: Story, assets: Path, policy: ReferencePolicy, notes: list[str]
) -> tuple[list[CastMember], dict[str, str]]:
    """The cast strip (every cameo and character, in story order) and each cameo's still."""
    cast: list[CastMember] = []
    thumbs: dict[str, str] = {}
    for cameo in story.cameos:
        thumb = None
        if cameo.path:
            thumb = _still(resolve_path(story, cameo.path), "cameo", assets, policy, notes)
        if thumb is not None:
            thumbs[cameo.name] = thumb
        cast.append(
            CastMember(
                name=cameo.name,
                kind="cameo",
                look=cameo.look,
                voice=cameo.voice,
                thumb=thumb,
                reference=Path(cameo.path).name if cameo.path else None,
                video=bool(cameo.path) and is_video(Path(cameo.path or "")),
                views=_views(story, cameo, assets, policy, notes),
            )
        )
    named = {c.name for c in story.cameos}
    cast += [
        CastMember(c.name, "character", c.look, c.voice, thumb=None, reference=None)
        for c in story.characters
        if c.name not in named
    ]
    return cast, thumbs


def _views(
    story: Story, cameo: Cameo, assets: Path, policy: ReferencePolicy, notes: list[str]
) -> tuple[CastView, ...]:
    """The cameo's further images as the planner sends them (`view_paths`), each with its
    key and a still made through the same sandbox as its own file."""
    if not cameo.path:
        return ()  # views belong to a cameo with a file (the checker says so)
    first: dict[str, str] = {}  # key -> its first good file, as `view_paths` picks them
    for view in views_as_written(cameo):
        if view.path is not None:
            first.setdefault(view.key, view.path)
    keys: dict[str, str] = {}
    for key in VIEW_KEYS:
        if key in first:
            keys.setdefault(first[key], key)
    return tuple(
        CastView(
            key=keys.get(path, "view"),
            thumb=_still(resolve_path(story, path), "cameo", assets, policy, notes),
            reference=Path(path).name,
        )
        for path in view_paths(cameo)
    )


def _keyframes(
    story: Story, out_dir: Path, policy: ReferencePolicy, notes: list[str]
) -> dict[int, Keyframe]:
    """Shot number -> the picture it is drawn from: its `keyframe:` or the still `storyc
    keyframes` made (DIR/keyframes/), else its `from` first frame."""
    found, _missing = keyframe_sources(story, out_dir)
    assets = out_dir / ASSETS
    pictures: dict[int, Keyframe] = {}
    for shot in story.shots:
        source: Path | None
        what: Literal["keyframe", "first frame"]
        if shot.from_image:
            source, what = resolve_path(story, shot.from_image), "first frame"
        else:
            source, what = found.get(shot.index), "keyframe"
        if source is None:
            continue
        # The stills `storyc keyframes` wrote are storyc's own; a file the story names
        # must be one it may send (the project folder, or --allow-path).
        own = source.is_relative_to((out_dir / KEYFRAMES_DIR).absolute())
        thumb = _still(source, "key", assets, None if own else policy, notes)
        if thumb is not None:
            pictures[shot.index] = Keyframe(thumb=thumb, what=what)
    return pictures


def _still(
    source: Path, prefix: str, assets: Path, policy: ReferencePolicy | None, notes: list[str]
) -> str | None:
    """A small JPEG of `source` in DIR/board/, named after its content; None (with a note)
    when it cannot be read or is outside what the story may use."""
    problem = (
        policy.file_problem(source)
        if policy is not None
        else (None if source.is_file() else "no such file")
    )
    if problem is not None:
        notes.append(f"{source.name}: {problem}")
        return None
    try:
        digest = _file_digest(source)
        target = assets / f"{prefix}-{digest[:16]}.jpg"
        reference_thumb(source, target)
    except (OSError, ThumbnailError) as exc:
        notes.append(f"{source.name}: no picture ({exc})")
        return None
    return f"{ASSETS}/{target.name}"


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _costs(file: Path, text: str, plan: ClipPlan, policy: ReferencePolicy) -> list[CostRow]:
    """The story's cost on every provider that serves its model (compiled for each)."""
    from storyc.plan.capabilities import load_table

    rows: list[CostRow] = []
    for offering in load_table().offerings:
        if offering.model != plan.story.model:
            continue
        current = offering.provider == plan.story.provider
        other = (
            plan
            if current
            else analyze_source(text, str(file), provider=offering.provider, policy=policy).plan
        )
        if other is None:
            rows.append(
                CostRow(offering.provider, offering.model, None, None, None, "does not compile")
            )
            continue
        rows.append(
            CostRow(
                provider=offering.provider,
                model=offering.model,
                clips=len(other.clips),
                render_seconds=other.render_seconds,
                cost_usd=other.cost_usd,
                current=current,
            )
        )
    if not any(row.current for row in rows):
        rows.insert(
            0,
            CostRow(
                provider=plan.story.provider,
                model=plan.story.model,
                clips=len(plan.clips),
                render_seconds=plan.render_seconds,
                cost_usd=plan.cost_usd,
                current=True,
            ),
        )
    return rows


def _relative(path: Path, base: Path) -> str:
    return Path(os.path.relpath(path, base)).as_posix()


def _prune_thumbs(assets: Path, page: BoardPage) -> None:
    """Drop pictures no card shows any more (edited shots leave old frames behind)."""
    used: set[str] = set()
    for scene in page.scenes:
        for card in scene.cards:
            used.update(t for t in (card.thumb, *(k.thumb for k in card.takes)) if t)
            used.update(c.thumb for c in card.cameos if c.thumb)
            if card.keyframe is not None:
                used.add(card.keyframe.thumb)
    used.update(member.thumb for member in page.cast if member.thumb)
    used.update(view.thumb for member in page.cast for view in member.views if view.thumb)
    names = {Path(u).name for u in used}
    for path in assets.iterdir():
        if path.is_file() and _THUMB_FILE.match(path.name) and path.name not in names:
            with contextlib.suppress(OSError):
                path.unlink()

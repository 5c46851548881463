"""The keyframe plan: one still per shot, made by an image model from the shot's prompt.

`storyc keyframes FILE` turns every shot of a compiled story into a `Clip` of kind keyframe
(its `id` a hash of the image request, its `request` what the image endpoint is sent, its
`cost_usd` the image model's price from `images.toml`), so that the engine renders, caches,
journals and charges keyframes exactly as it does clips: a keyframe is never paid twice.
A shot with a `keyframe: "file.png"` of its own is not planned (its picture exists).

Pure: no HTTP, no files written. The request each provider is sent is built here too, so the
plan shows what is sent (as `plan.json` does for clips).
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Collection, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from storyc.language.cameo_views import IMAGE_SUFFIXES
from storyc.language.model import NAME_REFERENCE, Story
from storyc.plan.capabilities import PREVIEW, parse_size
from storyc.plan.schema import CameoReference, Clip, ClipPlan, PlanHeader
from storyc.providers.requests import FileNames  # pure: placeholders, no HTTP

_TABLE_PATH = Path(__file__).resolve().parent / "images.toml"
_PROMPT_KEYS = ("camera", "lens", "light", "action", "grade", "mood")
PREVIEW_MODEL = "card"


class ImageOffering(BaseModel):
    """One image model as one provider serves it (a row of `images.toml`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: str
    model: str
    api_model: str
    size_style: Literal["image_size", "ratio", "size", "any"]
    sizes: tuple[str, ...] = ()
    max_side: int = 2048
    seed: bool = False
    usd_per_image: float = 0.0
    usd_per_image_by_size: dict[str, float] = {}
    usd_per_megapixel: float | None = None
    max_references: int = 0
    """How many reference images the request takes (Runway's `referenceImages`); 0: none."""
    verify: tuple[str, ...] = ()
    source: str = ""
    checked: str = ""

    def size_for(self, wanted: str) -> str:
        """The size to ask for: `wanted` itself where the model renders it, else the size of
        the nearest aspect (the still is fitted to the clip when it becomes a first frame)."""
        if not self.sizes:
            parsed = parse_size(wanted) or (1280, 720)
            scale = min(1.0, self.max_side / max(parsed))
            return f"{int(parsed[0] * scale) // 16 * 16}x{int(parsed[1] * scale) // 16 * 16}"
        if wanted in self.sizes:
            return wanted
        target = _aspect(wanted)
        return min(self.sizes, key=lambda s: (abs(_aspect(s) - target), -_area(s)))

    def price(self, size: str) -> float:
        if self.usd_per_megapixel is not None:
            return round(_area(size) / 1_000_000 * self.usd_per_megapixel, 4)
        return self.usd_per_image_by_size.get(size, self.usd_per_image)


PREVIEW_OFFERING = ImageOffering(
    provider=PREVIEW, model=PREVIEW_MODEL, api_model=PREVIEW, size_style="any", seed=True
)
"""The offline placeholder: a composed card at the clip's own size, free."""


@cache
def image_table(path: Path = _TABLE_PATH) -> tuple[ImageOffering, ...]:
    with path.open("rb") as handle:
        rows = tomllib.load(handle)["image"]
    return tuple(ImageOffering(**row) for row in rows)


def image_offering(provider: str, model: str | None = None) -> ImageOffering | None:
    """The provider's image model (its first row, or the one named `model`)."""
    if provider == PREVIEW:
        return PREVIEW_OFFERING
    rows = [o for o in image_table() if o.provider == provider]
    if model is not None:
        rows = [o for o in rows if model in (o.model, o.api_model)]
    return rows[0] if rows else None


def image_providers() -> list[str]:
    return [PREVIEW, *dict.fromkeys(o.provider for o in image_table())]


def _area(size: str) -> int:
    parsed = parse_size(size) or (1, 1)
    return parsed[0] * parsed[1]


def _aspect(size: str) -> float:
    parsed = parse_size(size) or (16, 9)
    return parsed[0] / parsed[1]


class KeyframePlan(BaseModel):
    """Every keyframe still to make: `clips` so the render engine takes it as it is."""

    model_config = ConfigDict(frozen=True)

    story: PlanHeader
    clips: tuple[Clip, ...]
    own: dict[int, str] = {}
    """Shots with a `keyframe:` of their own: shot index -> absolute path (nothing to make)."""

    @property
    def cost_usd(self) -> float:
        return round(sum(c.cost_usd for c in self.clips), 4)


def reference_tag(name: str, taken: Collection[str] = ()) -> str:
    """Runway's tag for a cameo's reference image, named `@tag` in the prompt: 3 to 16
    letters, digits or `_`, starting with a letter (runwayml `Gen4ImageReferenceImage.tag`),
    not one of `taken`."""
    tag = _TAG_CHARS.sub("_", name).strip("_")
    tag = tag if tag[:1].isalpha() else f"c_{tag}"
    tag = (tag if len(tag) >= 3 else f"{tag}_ref")[:16]
    number = 2
    base = tag
    while tag in taken:
        tag = f"{base[: 16 - len(str(number)) - 1]}_{number}"
        number += 1
    return tag


def shot_references(
    story: Story, video: Clip, shot_index: int, offering: ImageOffering
) -> tuple[CameoReference, ...]:
    """The cameo pictures a shot's still is made from, where the image model takes
    references: for each cameo the shot names (in order, at most `max_references`), its
    own file if it is an image, else its first image view (a video cameo's `side:` ...).
    Each as a `CameoReference` of that one image, so the engine lists, sandboxes and
    uploads exactly what is sent."""
    if offering.max_references <= 0:
        return ()
    from storyc.plan.planner import cameos_in

    shot = next(s for s in story.shots if s.index == shot_index)
    by_name = {cameo.name: cameo for cameo in video.cameos}
    found: list[CameoReference] = []
    for name in cameos_in([shot], story):
        cameo = by_name.get(name)
        if cameo is None:
            continue
        images = [(cameo.path, cameo.sha256)] + [(v.path, v.sha256) for v in cameo.views]
        image = next(((p, h) for p, h in images if Path(p).suffix.lower() in IMAGE_SUFFIXES), None)
        if image is not None:
            found.append(CameoReference(name=name, path=image[0], sha256=image[1]))
    return tuple(found[: offering.max_references])


def reference_uploads(clip: Clip) -> list[tuple[str, str]]:
    """(placeholder, file) per reference image of a keyframe clip, as its request names
    them (`<upload of mara.png>`): the planner writes them, the renderer fills them in."""
    return reference_uploads_of(clip.cameos)


def reference_uploads_of(cameos: Sequence[CameoReference]) -> list[tuple[str, str]]:
    names = FileNames()
    return [(names.add(cameo.path, "upload"), cameo.path) for cameo in cameos]


def keyframe_prompt(story: Story, shot_index: int, tags: Mapping[str, str] | None = None) -> str:
    """The still's prompt: a single frame of the shot, in the story's style, its setting and
    the looks of the characters it names. A name in `tags` (cameos sent as reference images)
    is written `@tag`, as Runway's prompt names a reference image."""
    shot = next(s for s in story.shots if s.index == shot_index)
    scene = next(s for s in story.scenes if s.index == shot.scene_index)
    parts = ["A single still frame from a film, the first frame of the shot."]
    if story.header.style:
        parts.append(f"Style: {story.header.style}.")
    location = next((loc for loc in story.locations if loc.name == scene.location), None)
    if scene.look:
        parts.append(f"Setting: {scene.look}.")
    elif location is not None and location.look:
        parts.append(f"Setting: {location.look}.")
    elif scene.title:
        parts.append(f"Setting: {scene.title}.")
    for key in _PROMPT_KEYS:
        text = shot.cue(key)
        if text:
            parts.append(f"{key.capitalize()}: {text}.")
    names: list[str] = []
    for cue in shot.cues:
        names += [ref.name for ref in cue.references]
    looks = []
    for name in dict.fromkeys(names):
        person = story.declared_names().get(name)
        look = getattr(person, "look", None)
        looks.append(f"@{name}: {look}" if look else f"@{name}")
    if looks:
        parts.append("Characters: " + "; ".join(looks) + ".")
    text = " ".join(parts)
    tags = tags or {}
    return NAME_REFERENCE.sub(
        lambda m: f"@{tags[m.group(1)]}" if m.group(1) in tags else m.group(1), text
    )


def build_image_request(
    prompt: str,
    offering: ImageOffering,
    size: str,
    seed: int | None,
    references: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    """The body (and endpoint) each image provider is sent: pure, shown before paying.
    `references`: (placeholder, tag) per reference image, where the model takes them."""
    width, height = parse_size(size) or (1280, 720)
    if offering.provider == "fal":
        body: dict[str, Any] = {
            "prompt": prompt,
            "image_size": {"width": width, "height": height},
            "num_images": 1,
            "output_format": "png",
        }
        if seed is not None:
            body["seed"] = seed
        return {"app": offering.api_model, "input": body}
    if offering.provider == "runway":
        body = {"model": offering.api_model, "promptText": prompt, "ratio": f"{width}:{height}"}
        if references:
            body["referenceImages"] = [{"uri": uri, "tag": tag} for uri, tag in references]
        if seed is not None:
            body["seed"] = seed
        return {"path": "/v1/text_to_image", "body": body}
    if offering.provider == "openai":
        return {
            "path": "/images/generations",
            "body": {
                "model": offering.api_model,
                "prompt": prompt,
                "n": 1,
                "size": size,
                "quality": "medium",
                "output_format": "png",
            },
        }
    return {"preview": True, "prompt": prompt, "size": size, "seed": seed}


_SLUG = re.compile(r"[^A-Za-z0-9_-]+")
_TAG_CHARS = re.compile(r"[^A-Za-z0-9_]+")


def keyframe_name(clip: Clip) -> str:
    """`NN-<shot>`: the file name stem under `DIR/keyframes/` (shot number and label)."""
    shot = clip.shots[0]
    return still_stem(shot.index, shot.label)


def still_stem(index: int, label: str | None) -> str:
    """`NN-<shot>` for shot number `index` with `label` (see `keyframe_name`)."""
    return f"{index:02d}-{_SLUG.sub('-', label or '').strip('-') or 'shot'}"


def plan_keyframes(
    story: Story, plan: ClipPlan, provider: str, *, model: str | None = None
) -> KeyframePlan:
    """One keyframe clip per shot without a `keyframe:` of its own, for `provider`."""
    from storyc.plan.planner import resolve_path

    offering = image_offering(provider, model)
    if offering is None:
        raise ValueError(f"`{provider}` makes no keyframes")
    own = {s.index: str(resolve_path(story, s.keyframe)) for s in story.shots if s.keyframe}
    clips: list[Clip] = []
    for video in plan.clips:
        for planned in video.shots:
            if planned.index in own:
                continue
            shot = next(s for s in story.shots if s.index == planned.index)
            size = offering.size_for(video.size)
            references = shot_references(story, video, planned.index, offering)
            tags: dict[str, str] = {}
            for cameo in references:
                tags[cameo.name] = reference_tag(cameo.name, tags.values())
            prompt = keyframe_prompt(story, planned.index, tags)
            seed = shot.seed if shot.seed is not None else story.header.seed
            seed = seed if offering.seed else None
            uploads = [
                (placeholder, tags[c.name])
                for (placeholder, _), c in zip(
                    reference_uploads_of(references), references, strict=True
                )
            ]
            request = build_image_request(prompt, offering, size, seed, uploads)
            identity: dict[str, Any] = {
                "kind": "keyframe",
                "provider": provider,
                "request": request,
            }
            if references:  # the pictures' content, not their names; other ids stay as they were
                identity["references"] = [c.sha256 for c in references]
            digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:20]
            only = planned.model_copy(
                update={"start": 0, "end": planned.end - planned.start, "prompt": None}
            )
            clips.append(
                Clip(
                    id=f"kf-{digest}",
                    index=planned.index,
                    scene=video.scene,
                    scene_index=video.scene_index,
                    provider=provider,
                    model=offering.model,
                    api_model=offering.api_model,
                    size=size,
                    render_ms=0,
                    duration=planned.end - planned.start,
                    slack=0,
                    film_start=planned.film_start,
                    seed=seed,
                    prompt=prompt,
                    cameos=references,
                    audio=False,
                    cost_usd=0.0 if provider == PREVIEW else offering.price(size),
                    shots=(only,),
                    request=request,
                )
            )
    return KeyframePlan(
        story=plan.story.model_copy(update={"provider": provider}), clips=tuple(clips), own=own
    )

"""The clip plan: the contract between the compiler and the renderers and the assembler.

`storyc compile` writes it as `plan.json`; `render`, `build`, `board` and `watch` read it.
All times are integer milliseconds (`duration`, `start`, `end`, `film_start`, `render_ms`,
...; see `storyc.units`). How a provider spells a length (`"4"`, `"4s"`, `4`) is not plan
data: its request builder derives it from `render_ms` (`Clip.seconds`), and `request` shows it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from storyc.plan.capabilities import load_table

PLAN_VERSION = 1


@lru_cache(maxsize=1024)  # a long story names the same few people in every clip
def display_name(name: str) -> str:
    """How a declared person is named in every output (prompts, subtitles): the case they
    were declared with, each word's first letter upper-case, `_` as a space (`ines` is
    `Ines`, `old_man` is `Old Man`, `DJ` stays `DJ`). `plan.json` keeps the name as declared."""
    return " ".join(part[:1].upper() + part[1:] for part in name.split("_") if part) or name


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PlannedDialogue(Frozen):
    speaker: str
    delivery: str | None = None
    text: str
    line: int


class PlannedShot(Frozen):
    """One shot inside a clip, with where it sits in the clip and in the film."""

    index: int
    """1-based position of the shot in the story."""
    label: str | None
    file: str
    line: int
    start: int
    """Start inside the clip, ms."""
    end: int
    """End inside the clip, ms."""
    film_start: int
    film_end: int
    camera: str | None = None
    light: str | None = None
    action: str | None = None
    sound: str | None = None
    dialogue: tuple[PlannedDialogue, ...] = ()
    notes: tuple[str, ...] = Field(default=(), exclude_if=lambda v: not v)
    """The shot's own `note:` lines: for people (the board, the OTIO markers, `storyc plan
    --notes`), never sent and no part of the clip's id; absent when it has none."""
    prompt: str | None = Field(default=None, exclude_if=lambda v: v is None)
    """The shot's own prompt, where the clip is sent as shots (Kling's `multi_prompt`);
    absent otherwise (the clip's `prompt` is sent)."""
    render_ms: int | None = Field(default=None, exclude_if=lambda v: v is None)
    """The length the shot is rendered at in such a clip, ms (the last shot may be rounded up
    to a length the model takes); absent otherwise."""
    keyframe: str | None = Field(default=None, exclude_if=lambda v: v is None)
    """The shot's own `keyframe: "file"` picture, absolute with symlinks followed (checked
    like a `from` image: P210/P218/P219). The preview draws the shot from it; it is never
    sent (as a first frame it is `Clip.input_reference`). Absent when the shot has none."""


class PlannedTransition(Frozen):
    """How a clip joins the next one in the film."""

    kind: Literal["cut", "crossfade", "fade", "dip"] = "cut"
    duration: int = 0
    line: int | None = None


class ReferenceImage(Frozen):
    path: str
    """Absolute path of the image."""
    sha256: str | None


class ReferenceAudio(Frozen):
    path: str
    """Absolute path of the recording."""
    sha256: str | None


class CameoReference(Frozen):
    name: str
    path: str
    """Absolute path of the reference file."""
    sha256: str | None
    """None when the file is missing (the checker reports it)."""
    views: tuple[ReferenceImage, ...] = Field(default=(), exclude_if=lambda v: not v)
    """Its further images (`side:`, `back:`, `outfit:`; `storyc.language.cameo_views`),
    sent beside its own file where the model takes several images of one subject."""
    voice_sample: ReferenceAudio | None = Field(default=None, exclude_if=lambda v: v is None)
    """Its `voice-sample:` recording, where the model takes audio references
    (`Offering.audio_field`); absent otherwise (the sample is then not sent)."""

    @property
    def images(self) -> tuple[str, ...]:
        """Every image of the cameo to send: its own file (the front), then its views."""
        return (self.path, *(view.path for view in self.views))

    @property
    def files(self) -> tuple[str, ...]:
        """Every file of the cameo to send: its images, then its voice sample."""
        voice = (self.voice_sample.path,) if self.voice_sample is not None else ()
        return (*self.images, *voice)


class Clip(Frozen):
    id: str
    """Content hash of everything that changes the rendered pixels: the cache key."""
    index: int
    """1-based clip number, also the `NN` of its files."""
    scene: str
    scene_index: int
    provider: str
    model: str
    api_model: str
    size: str
    render_ms: int
    """The length the provider renders (and bills), ms: a whole number of seconds."""
    duration: int
    """Planned length in the film before transitions, ms (the assembler trims to it)."""
    slack: int
    """render_ms - duration: rendered and paid for, then trimmed."""
    film_start: int
    """Where the clip starts in the finished film (after crossfade overlaps), ms."""
    seed: int | None
    take: int = 1
    prompt: str
    avoid: str | None = Field(default=None, exclude_if=lambda v: v is None)
    """What the clip must not show (its `avoid:` cues, the header's included): sent as the
    negative prompt where the model takes one (`Offering.negative_prompt`), else already
    folded into `prompt` ("Avoid: ..."). Absent when nothing is avoided."""
    input_reference: str | None = None
    """Absolute path of the first-frame image, if the clip is image-to-video."""
    input_reference_sha256: str | None = None
    cameos: tuple[CameoReference, ...] = ()
    audio: bool
    """Whether the clip asks the model for sound."""
    cost_usd: float
    shots: tuple[PlannedShot, ...]
    transition: PlannedTransition = PlannedTransition()
    """The join from this clip to the next. The last clip's is a cut to the end, or a `fade`
    to black over its last `duration` ms."""
    request: dict[str, Any]
    """Exactly what the provider is sent, as its `build_request` makes it (see
    `storyc.providers.requests`): local files named by placeholders, not inlined."""

    @model_validator(mode="before")
    @classmethod
    def _drop_spelled_seconds(cls, data: Any) -> Any:
        # plan.json files written before the plan kept one clock carry `seconds` (the render
        # length as the request spells it); `render_ms` says the same, so it is dropped.
        if isinstance(data, dict) and "seconds" in data:
            data = {k: v for k, v in data.items() if k != "seconds"}
        return data

    @property
    def stem(self) -> str:
        return f"{self.index:02d}-{self.id}"

    @property
    def render_seconds(self) -> int:
        """The render length in whole seconds, as providers count it."""
        return self.render_ms // 1000

    @property
    def seconds(self) -> str | int:
        """The render length spelled the way this clip's provider and model want it in the
        request (`"4"`, `"4s"` or `4`), derived from `render_ms` at the request edge.

        A request builder that has the `Offering` can say the same with
        `offering.seconds_value(clip.render_seconds)`."""
        offering = load_table().offering(self.provider, self.model)
        if offering is None:
            return self.render_seconds
        return offering.seconds_value(self.render_seconds)


class PlanHeader(Frozen):
    title: str
    source: str
    model: str
    provider: str
    size: str
    fps: int | None
    style: str | None
    seed: int | None
    clips: Literal["packed", "per-shot"]


class ClipPlan(Frozen):
    version: int = PLAN_VERSION
    time_unit: Literal["ms"] = "ms"
    story: PlanHeader
    clips: tuple[Clip, ...]
    opening: PlannedTransition = Field(
        default=PlannedTransition(), exclude_if=lambda v: v.kind == "cut"
    )
    """How the film starts: a cut (absent from plan.json), or a `fade` from black over the
    first clip's first `duration` ms."""
    duration: int
    """Length of the finished film, ms (crossfades overlap)."""
    render_seconds: int
    cost_usd: float

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> ClipPlan:
        return cls.model_validate_json(text)

    @classmethod
    def read(cls, path: Path) -> ClipPlan:
        return cls.from_json(path.read_text(encoding="utf-8"))

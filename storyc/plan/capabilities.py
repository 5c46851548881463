"""What each provider and model accepts, read from `storyc/plan/models.toml`.

Nothing else in storyc knows a clip length, a size or a price: the checker, the planner,
the prompt limits, the cost estimate and the renderers all ask an `Offering`.
"""

from __future__ import annotations

import tomllib
from functools import cache
from math import gcd
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

PREVIEW = "preview"
"""The offline renderer: it accepts exactly what the model's first real provider accepts."""

PROVIDERS: tuple[str, ...] = (PREVIEW, "openai", "fal", "prodia", "runway")

_TABLE_PATH = Path(__file__).resolve().parent / "models.toml"


class Offering(BaseModel):
    """One model as one provider serves it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: str
    model: str
    family: str
    api_model: str
    api_model_image: str | None = None
    api_model_reference: str | None = None
    lengths: tuple[int, ...]
    reference_lengths: tuple[int, ...] = ()
    """The lengths the reference app renders, where they differ from `lengths` (Veo 3.1
    reference-to-video renders 8 s only): a clip with cameo images is planned at one of them."""
    seconds_style: Literal["string", "suffix", "integer"]
    duration_field: str = "duration"
    """The request field for the length, or "" where the API takes none and renders
    its one fixed length (Prodia's Veo job types)."""
    sizes: tuple[str, ...]
    audio: Literal["always", "optional", "none"]
    seed: Literal["none", "range"]
    seed_min: int = 1
    seed_max: int = 2_147_483_647
    first_frame: str = ""
    first_frame_exact: bool = False
    cameo_mode: Literal["characters", "image_urls", "elements", "none"] = "none"
    max_cameos: int = 0
    cameo_media: Literal["video", "image"] = "video"
    cameo_field: str = "image_urls"
    """For `cameo_mode = "image_urls"`: the reference app's field for the images."""
    cameo_tag: str = ""
    """How the prompt names the n-th cameo image (`@Element` -> `@Element1`), or "" for words."""
    audio_field: str = ""
    """The reference request's field for cameos' voice samples (fal `audio_urls`, Runway
    `referenceAudio`), or "" where the model takes no audio reference."""
    max_audio_references: int = 0
    """At most this many voice samples in one clip (0: none is sent)."""
    multi_shot: str = ""
    """The request field that takes a packed clip's shots one by one, each with its own
    prompt and length (Kling's `multi_prompt`); "" when a clip is one prompt."""
    max_shots: int = 1
    """At most this many shots in one clip sent as shots."""
    min_shots: int = 1
    """A clip of fewer shots than this cannot be sent at all (Runway's multi-shot recipe
    takes 3 to 5); 1 where a clip that cannot go as shots goes as one prompt."""
    shot_lengths: tuple[int, ...] = ()
    """The lengths (whole seconds) one shot of such a clip may have."""
    negative_prompt: str = ""
    """The request field that takes what must not appear (the clip's `avoid:`), or "" where
    the model takes none and it is folded into the prompt ("Avoid: ...")."""
    prompt_min: int = 1
    prompt_max: int
    prompt_units: Literal["characters", "utf16"] = "characters"
    """What `prompt_min`/`prompt_max` count: characters (code points), or UTF-16 code units
    (Runway's Veo and Gen-4.5 limits), where a character beyond U+FFFF counts twice."""
    usd_per_second: float
    usd_per_second_silent: float | None = None
    usd_per_second_by_size: dict[str, float] = {}
    usd_per_second_silent_by_size: dict[str, float] = {}
    """Silent prices by output size, where they differ (Veo at 4k)."""
    verify: tuple[str, ...] = ()
    status: str = ""
    checked: str = ""
    source: str = ""
    """The pages or package files the row rests on."""
    mirrors: str | None = None
    """For the preview provider: the real provider whose limits it copies."""

    @property
    def renders_audio(self) -> bool:
        return self.audio != "none"

    @property
    def takes_seed(self) -> bool:
        return self.seed == "range"

    @property
    def is_paid(self) -> bool:
        return self.provider != PREVIEW

    @property
    def longest_ms(self) -> int:
        return max(self.lengths) * 1000

    def render_length(self, duration_ms: int) -> int | None:
        """The shortest allowed clip length (whole seconds) that covers `duration_ms`."""
        return next((n for n in sorted(self.lengths) if n * 1000 >= duration_ms), None)

    def seconds_value(self, seconds: int) -> str | int:
        """A clip length spelled the way this provider's request wants it."""
        if self.seconds_style == "string":
            return str(seconds)
        if self.seconds_style == "suffix":
            return f"{seconds}s"
        return seconds

    def prompt_length(self, prompt: str) -> int:
        """`prompt`'s length as this offering's prompt limits count it."""
        if self.prompt_units == "utf16":
            return len(prompt.encode("utf-16-le")) // 2
        return len(prompt)

    def lengths_for(self, *, with_references: bool) -> tuple[int, ...]:
        """The lengths a clip may be rendered at, from cameo references or not."""
        if with_references and self.cameo_mode == "image_urls" and self.reference_lengths:
            return self.reference_lengths
        return self.lengths

    def usd_per_second_for(self, size: str, *, with_audio: bool) -> float:
        if not with_audio and size in self.usd_per_second_silent_by_size:
            return self.usd_per_second_silent_by_size[size]
        if size in self.usd_per_second_by_size:
            return self.usd_per_second_by_size[size]
        if not with_audio and self.usd_per_second_silent is not None:
            return self.usd_per_second_silent
        return self.usd_per_second

    def accepts_seed(self, seed: int) -> bool:
        return self.takes_seed and self.seed_min <= seed <= self.seed_max

    def as_preview(self) -> Offering:
        return self.model_copy(
            update={
                "provider": PREVIEW,
                "mirrors": self.provider,
                "usd_per_second": 0.0,
                "usd_per_second_silent": None,
                "usd_per_second_by_size": {},
                "usd_per_second_silent_by_size": {},
            }
        )


class CapabilityTable(BaseModel):
    model_config = ConfigDict(frozen=True)

    offerings: tuple[Offering, ...]

    def models(self) -> list[str]:
        return list(dict.fromkeys(o.model for o in self.offerings))

    def providers_for(self, model: str) -> list[str]:
        return [o.provider for o in self.offerings if o.model == model]

    def offering(self, provider: str, model: str) -> Offering | None:
        """The offering the story's provider and model name, or None if there is none.

        `preview` answers with the limits of the model's first real provider, so a story
        that checks clean for the preview is not refused when rendered for real.
        """
        if provider == PREVIEW:
            primary = next((o for o in self.offerings if o.model == model), None)
            return _preview_of(primary) if primary else None
        return next(
            (o for o in self.offerings if o.provider == provider and o.model == model), None
        )


_PREVIEWS: dict[int, tuple[Offering, Offering]] = {}
"""id of a primary offering -> (it, its preview). `Clip.seconds` asks the table for the
clip's offering once per clip, and a preview is a copy of the primary; the primary is kept
alive beside its preview so its id is not reused."""


def _preview_of(primary: Offering) -> Offering:
    found = _PREVIEWS.get(id(primary))
    if found is None:
        if len(_PREVIEWS) > 512:  # tables made again and again (tests): stays small
            _PREVIEWS.clear()
        found = _PREVIEWS[id(primary)] = (primary, primary.as_preview())
    return found[1]


@cache
def load_table(path: Path = _TABLE_PATH) -> CapabilityTable:
    with path.open("rb") as f:
        data = tomllib.load(f)
    return CapabilityTable(offerings=tuple(Offering(**row) for row in data["offering"]))


def parse_size(size: str) -> tuple[int, int] | None:
    """`"1280x720"` -> (1280, 720); None if it is not WxH."""
    width, sep, height = size.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit():
        return None
    return int(width), int(height)


def aspect_ratio(size: str) -> str:
    """`"1280x720"` -> `"16:9"`."""
    parsed = parse_size(size)
    if parsed is None:
        return size
    width, height = parsed
    divisor = gcd(width, height)
    ratio = f"{width // divisor}:{height // divisor}"
    return {"64:27": "21:9", "7:4": "16:9", "4:7": "9:16", "427:240": "16:9"}.get(ratio, ratio)


def resolution_label(size: str) -> str:
    """`"1280x720"` -> `"720p"`, `"3840x2160"` -> `"4k"`."""
    parsed = parse_size(size)
    if parsed is None:
        return size
    short = min(parsed)
    return "4k" if short >= 2160 else f"{short}p"


def size_for_aspect(offering: Offering, aspect: str) -> str | None:
    """The first size the offering renders in the given aspect (`16:9`, `9:16`, ...)."""
    return next((s for s in offering.sizes if aspect_ratio(s) == aspect), None)

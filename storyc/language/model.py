"""The typed story: what a `.story` file means, every node with its source span.

Built from the syntax tree by `storyc.language.builder`; read by the checker, the planner and the
editor tooling. Times are integer milliseconds.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from storyc.unchecked import maker


class Node(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


_N = TypeVar("_N", bound=Node)


_MAKERS: dict[tuple[type[Node], tuple[str, ...]], Callable[..., Any]] = {}


def built(cls: type[_N], **fields: Any) -> _N:
    """`cls(**fields)` without pydantic's validation, for the builder, which has already
    checked every value (and passes tuples, not lists): the same object (fields in their
    declared order, defaults filled, `model_fields_set` the fields given) at a third of the
    cost. Untrusted input (a model made by hand, `plan.json`) still goes through `cls(...)`.
    The builder's hottest nodes use a `maker` directly."""
    key = (cls, tuple(fields))  # in the order given: the maker takes them so
    make = _MAKERS.get(key)
    if make is None:
        make = _MAKERS[key] = maker(cls, *fields)
    return make(*fields.values())  # type: ignore[no-any-return]


class Span(Node):
    """A source range: 1-based lines and columns, the end column exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int

    @classmethod
    def at(cls, line: int, column: int, end_line: int, end_column: int) -> Span:
        """`Span(line=..., ...)` without validation, for positions read from the parser."""
        return span_at(line, column, end_line, end_column)

    @classmethod
    def point(cls, line: int, column: int, width: int = 1) -> Span:
        return cls(line=line, column=column, end_line=line, end_column=column + width)

    def contains(self, line: int, column: int) -> bool:
        if (line, column) < (self.line, self.column):
            return False
        return (line, column) < (self.end_line, self.end_column)


span_at: Callable[[int, int, int, int], Span] = maker(
    Span, "line", "column", "end_line", "end_column"
)
"""`Span.at` as a plain function (half its cost: no class method to bind), for the builder."""


CUE_KEYS: tuple[str, ...] = (
    "camera",
    "lens",
    "light",
    "action",
    "ambient",
    "sfx",
    "music",
    "grade",
    "mood",
    "avoid",
    "note",
)
"""The keys a shot (or a preset, location or scene) may carry, in prompt order."""

AVOID = "avoid"
"""What must not appear. Unlike the other cues, `avoid:` layers combine: the header's, the
location's, the scene's, the preset's and the shot's own are all kept (see `avoid_items`)."""

_AVOID_SEPARATORS = re.compile(r"[,;]")


def avoid_items(texts: list[str] | tuple[str, ...]) -> list[str]:
    """The things `avoid:` texts name, split at commas and semicolons, each once (the first
    spelling kept: case and surrounding space do not make another thing)."""
    found: dict[str, str] = {}
    for text in texts:
        for item in _AVOID_SEPARATORS.split(text):
            item = item.strip().rstrip(".").strip()
            if item:
                found.setdefault(item.casefold(), item)
    return list(found.values())


AUDIO_CUE_KEYS: frozenset[str] = frozenset({"ambient", "sfx", "music"})

CueOrigin = Literal["shot", "preset", "location", "scene"]


NAME_REFERENCE = re.compile(r"(?<![\w@])@([A-Za-z_](?:[A-Za-z0-9_\-]*[A-Za-z0-9_])?)")
"""`@name` in free text, group 1 the name. A name may hold hyphens but not end in one, so
`@mara-` names `mara` and `@mara's` names `mara`; an email address is no reference. The
builder finds references with it and the prompt writer replaces them with it."""


class Reference(Node):
    """One `@name` (or `@name's`) inside free text or a dialogue speaker."""

    name: str
    span: Span


class Cue(Node):
    key: str
    text: str
    span: Span
    key_span: Span
    text_span: Span
    origin: CueOrigin = "shot"
    """Where the cue came from once presets and locations are folded into a shot."""
    origin_name: str | None = None
    references: tuple[Reference, ...] = ()


class DialogueLine(Node):
    speaker: str
    delivery: str | None
    text: str
    span: Span
    speaker_span: Span
    text_span: Span
    references: tuple[Reference, ...] = ()


class Transition(Node):
    kind: Literal["cut", "crossfade", "fade", "dip"]
    duration_ms: int = 0
    span: Span


class Property(Node):
    """A `key: text` line in a header or declaration body."""

    key: str
    text: str
    span: Span
    key_span: Span
    text_span: Span
    references: tuple[Reference, ...] = ()


class Header(Node):
    title: str | None = None
    model: str = "sora-2"
    size: str | None = None
    aspect: str | None = None
    fps: int | None = None
    style: str | None = None
    seed: int | None = None
    provider: str = "preview"
    clips: Literal["packed", "per-shot"] = "packed"
    takes: int = 1
    avoid: str | None = None
    """The header's `avoid:`: what no clip of the story may show."""
    first_frame: Literal["keyframes"] | None = None
    """`first-frame: keyframes`: each shot's keyframe is sent as its clip's first frame
    (`render`/`build`, like `--from-keyframes`)."""
    properties: tuple[Property, ...] = ()
    """Every header line as written, for spans and for the checker's unknown-key rule."""

    def span_of(self, key: str) -> Span | None:
        for prop in self.properties:
            if prop.key == key:
                return prop.span
        return None


class Cameo(Node):
    name: str
    path: str | None
    look: str | None = None
    voice: str | None = None
    properties: tuple[Property, ...] = ()
    span: Span
    name_span: Span
    path_span: Span | None = None


class Character(Node):
    name: str
    look: str | None = None
    voice: str | None = None
    properties: tuple[Property, ...] = ()
    span: Span
    name_span: Span


class Location(Node):
    name: str
    look: str | None = None
    cues: tuple[Cue, ...] = ()
    properties: tuple[Property, ...] = ()
    span: Span
    name_span: Span


class Preset(Node):
    name: str
    cues: tuple[Cue, ...] = ()
    span: Span
    name_span: Span


class Shot(Node):
    index: int
    """1-based position of the shot in the whole story."""
    scene_index: int
    label: str | None
    duration_ms: int
    duration_text: str
    preset: str | None = None
    preset_span: Span | None = None
    from_image: str | None = None
    from_span: Span | None = None
    keyframe: str | None = None
    """`keyframe: "boards/s1.png"`: a drawn or found still for the shot (not a prompt cue)."""
    keyframe_span: Span | None = None
    seed: int | None = None
    seed_span: Span | None = None
    takes: int | None = None
    own_cues: tuple[Cue, ...] = ()
    """The cues written in the shot itself, as written."""
    cues: tuple[Cue, ...] = ()
    """The effective cues: location, scene and preset cues folded in under the shot's own."""
    dialogue: tuple[DialogueLine, ...] = ()
    span: Span
    header_span: Span
    duration_span: Span

    def cue(self, key: str) -> str | None:
        texts = [c.text for c in self.cues if c.key == key]
        return "; ".join(texts) if texts else None

    @property
    def name(self) -> str:
        return f"{self.label} ({self.duration_text})" if self.label else self.duration_text


class Scene(Node):
    index: int
    title: str | None
    location: str | None = None
    location_span: Span | None = None
    look: str | None = None
    """The scene's own `look:`: how its location looks in this scene (`a wooden dock at
    dawn, mist on the water`), over the location's `look:` for all of the scene's shots."""
    look_span: Span | None = None
    cues: tuple[Cue, ...] = ()
    shots: tuple[Shot, ...] = ()
    transitions: tuple[Transition | None, ...] = ()
    """`transitions[i]` joins `shots[i]` to the next shot (or the next scene's first shot);
    None means a plain cut that was not written out."""
    span: Span
    header_span: Span


class Story(Node):
    path: str = "<story>"
    header: Header = Field(default_factory=Header)
    cameos: tuple[Cameo, ...] = ()
    characters: tuple[Character, ...] = ()
    locations: tuple[Location, ...] = ()
    presets: tuple[Preset, ...] = ()
    scenes: tuple[Scene, ...] = ()
    opening: Transition | None = None
    """A transition written before the story's first shot (at the top level before the first
    scene, or in the first scene before its first shot). A `fade` there fades the film in
    from black; any other kind has nothing to join (C303)."""

    @property
    def shots(self) -> tuple[Shot, ...]:
        return tuple(shot for scene in self.scenes for shot in scene.shots)

    def cameo(self, name: str) -> Cameo | None:
        return next((c for c in self.cameos if c.name == name), None)

    def character(self, name: str) -> Character | None:
        return next((c for c in self.characters if c.name == name), None)

    def declared_names(self) -> dict[str, Cameo | Character]:
        names: dict[str, Cameo | Character] = {c.name: c for c in self.characters}
        names.update({c.name: c for c in self.cameos})
        return names

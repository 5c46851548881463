"""A Fountain screenplay turned into a `.story` that checks with no errors: `storyc import`.

The screenplay is read by `storyc.language.fountain`; this module decides what each element
becomes (docs/language.md, "Importing a Fountain screenplay"):

- the title page's `Title` is the story's `title:`, its other entries a comment;
- every scene heading is a `scene "HEADING" at PLACE:`; places are declared once as
  `location`s (`INT. DOCK - NIGHT` and `EXT. DOCK - DAY` share `dock`), and INT/EXT and
  the time of day become the scene's `light:` cue (over the location's, as any scene cue);
- every action paragraph starts a shot, which also carries the dialogue that follows it;
  a shot lasts as long as its words take (dialogue at 2.5 words a second, action at 4), at
  least the model's shortest clip and at most its longest; dialogue that does not fit the
  longest clip goes on in the next shot, split between sentences;
- every speaker is a `character` (name in display case, extensions dropped) with an empty
  `look:` to fill in; a cue's `(V.O.)`-like extensions and parentheticals are the delivery;
- transitions become `cut`, `cut crossfade 1s` (dissolves), `cut fade 1s` (fades) or
  `cut dip 1s` (to black or white), written before the next shot; a fade or a cut to black
  before the first shot (`FADE IN:`) or after the last (`FADE OUT.`) is `cut fade 1s`, the
  film's fade in from black or out to black; any other with no shot on one side stays as a
  comment;
- notes, synopses, centered text and paragraphs starting `Note:` are `note:` lines;
  sections are comments; boneyard, page breaks and emphasis are dropped.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field

from storyc.language.fountain import Element, Screenplay, Speech, plain_text

DIALOGUE_WORDS_PER_SECOND = 2.5
"""Natural speech, the checker's own rate (C301)."""
ACTION_WORDS_PER_SECOND = 4.0
"""How long a paragraph of action takes to play: a guess, said in the story's header."""
TRANSITION_SECONDS = 1

_HEADING_PREFIX = re.compile(
    r"^(?P<prefix>INT\.?/EXT|INT/EXT|I\.?/E|INT|EXT|EST)\.?[\s.\-]*", re.IGNORECASE
)
_HEADING_SEPARATOR = re.compile(r"\s+-+\s+|\s*-{2,}\s*")
_INSIDE = {"INT": "interior", "EXT": "exterior", "EST": "exterior, establishing"}
_CONTD = re.compile(r"^CONT['’]?D\.?$|^CONTINUED$|^MORE$", re.IGNORECASE)
_WORD = re.compile(r"\w+(?:['’]\w+)*")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_COMMENT_HASH = re.compile(r"(?<!\S)#(?=\s|$)")
_REFERENCE_AT = re.compile(r"(?<![\w@])@(?=[A-Za-z_])")
_NOTE_PARAGRAPH = re.compile(r"^note\s*:\s*", re.IGNORECASE)
_FADE_IN = re.compile(r"^FADE IN[:.]?$", re.IGNORECASE)


@dataclass
class Imported:
    """The story's text and what survived, to say so and to test it."""

    text: str
    scenes: int = 0
    speakers: dict[str, str] = field(default_factory=dict)
    """Each speaker as the screenplay writes them (`CYBER BOB`) -> the story's name."""
    speeches: list[tuple[str, str]] = field(default_factory=list)
    """Each dialogue line written, in order: (story name, text)."""
    shots: int = 0
    dropped_transitions: list[str] = field(default_factory=list)


def words(text: str) -> int:
    return len(_WORD.findall(text))


def free_text(text: str) -> str:
    """Text safe after `key:`: emphasis gone, and no ` # ` (a comment) or `@name` (a
    reference to a declared name) that the screenplay did not mean."""
    text = plain_text(text)
    text = _COMMENT_HASH.sub("＃", text)
    return _REFERENCE_AT.sub("＠", text)


def quoted(text: str) -> str:
    """Text for a dialogue line's double quotes, which cannot hold a double quote: the
    screenplay's own quotes become typographic ones (opening, closing, in turn)."""
    text = _REFERENCE_AT.sub("＠", plain_text(text))
    parts = text.split('"')
    out = [parts[0]]
    for n, part in enumerate(parts[1:]):
        out.append("“" if n % 2 == 0 else "”")
        out.append(part)
    return "".join(out)


def delivery_text(text: str) -> str:
    """A delivery holds no parentheses: inner ones are dropped."""
    return " ".join(free_text(text).replace("(", " ").replace(")", " ").split())


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def character_name(speaker: str, forced: bool) -> str:
    """The story's name for a speaker: display case kept (`McDUCK` as forced, `CYBER BOB`
    as `Cyber_Bob`), words joined by `_`, only the characters a name may hold."""
    display = speaker if forced else " ".join(_capitalised(w) for w in speaker.split())
    name = re.sub(r"['’`]", "", _ascii(display))
    name = re.sub(r"[^A-Za-z0-9_\-]+", "_", name).strip("_-")
    if not name:
        return "Speaker"
    return name if name[0].isalpha() or name[0] == "_" else f"_{name}"


def _capitalised(word: str) -> str:
    return "-".join(part[:1].upper() + part[1:].lower() for part in word.split("-"))


def location_name(place: str) -> str:
    name = re.sub(r"[^a-z0-9]+", "-", re.sub(r"['’`]", "", _ascii(place).lower())).strip("-")
    name = name[:48].rstrip("-")
    if not name:
        return "place"
    return name if name[0].isalpha() else f"place-{name}"


@dataclass(frozen=True)
class Heading:
    text: str
    place: str
    inside: str
    time: str


def split_heading(text: str, forced: bool) -> Heading:
    """`INT. TINY RESTAURANT (PARIS) - NIGHT (1998)` -> place `TINY RESTAURANT (PARIS)`,
    inside `interior`, time `NIGHT (1998)`."""
    heading = plain_text(text)
    rest, inside = heading, ""
    match = None if forced else _HEADING_PREFIX.match(heading)
    if match is not None:
        prefix = match.group("prefix").upper().replace(".", "")
        inside = _INSIDE.get(prefix, "interior and exterior")
        rest = heading[match.end() :]
    parts = _HEADING_SEPARATOR.split(rest, maxsplit=1)
    place = parts[0].strip(" -.") or rest.strip() or heading
    time = parts[1].strip(" -") if len(parts) > 1 else ""
    return Heading(heading, place, inside, time)


def transition_for(text: str) -> str | None:
    """The story's transition for a screenplay's (None: a plain cut)."""
    upper = text.upper()
    if "DISSOLVE" in upper or "CROSSFADE" in upper:
        return f"cut crossfade {TRANSITION_SECONDS}s"
    if "TO BLACK" in upper or "TO WHITE" in upper:
        return f"cut dip {TRANSITION_SECONDS}s"
    if "FADE" in upper:
        return f"cut fade {TRANSITION_SECONDS}s"
    return None


def _edge_fade(line: str) -> str:
    """The film's fade from or to black for a transition at its edge (`FADE IN:`, `FADE
    OUT.`, `FADE TO BLACK.`, `CUT TO BLACK.`), or "" when it is another kind (a comment)."""
    if " fade " in line or " dip " in line:
        return f"cut fade {TRANSITION_SECONDS}s"
    return ""


@dataclass
class _Shot:
    action: str = ""
    lines: list[tuple[str, str, str]] = field(default_factory=list)
    """(name, delivery, text) per dialogue line."""
    notes: list[str] = field(default_factory=list)
    dialogue_words: int = 0

    def seconds(self, shortest: int, longest: int) -> int:
        needed = (
            self.dialogue_words / DIALOGUE_WORDS_PER_SECOND
            + words(self.action) / ACTION_WORDS_PER_SECOND
        )
        return max(shortest, min(longest, math.ceil(needed)))


@dataclass
class _Scene:
    title: str
    location: str | None
    light: str = ""
    items: list[object] = field(default_factory=list)
    """`_Shot`s, transitions (`str` lines) and comments (`("#", text)`)."""
    notes: list[str] = field(default_factory=list)
    """Notes before the scene's first shot."""

    def has_shots(self) -> bool:
        return any(isinstance(item, _Shot) for item in self.items)


class _Converter:
    def __init__(self, play: Screenplay, shortest: int, longest: int):
        self.play = play
        self.shortest = shortest
        self.longest = longest
        self.max_words = int(longest * DIALOGUE_WORDS_PER_SECOND)
        self.top_comments: list[str] = []
        self.scenes: list[_Scene] = []
        self.locations: dict[str, str] = {}  # name -> look
        self.characters: dict[str, str] = {}  # name -> as first written
        self.speakers: dict[str, str] = {}
        self.speeches: list[tuple[str, str]] = []
        self.shot: _Shot | None = None
        self.pending: tuple[str, str] | None = None  # (as written, story line or "")
        self.shots = 0
        self.dropped: list[str] = []

    # -- scenes and shots ------------------------------------------------------------------

    def scene(self) -> _Scene:
        if not self.scenes:  # content before the first heading: a scene of its own
            self.scenes.append(_Scene("Before the first scene heading", None))
        return self.scenes[-1]

    def new_shot(self, action: str = "") -> _Shot:
        scene = self.scene()
        if self.pending is not None:
            written, line = self.pending
            self.pending = None
            if self.shots and line:
                scene.items.append(line)
            elif not self.shots and _edge_fade(line):
                scene.items.append(_edge_fade(line))  # the film fades in from black
            elif not self.shots:
                self.drop(written, "before the first shot")
        self.shot = _Shot(action=action)
        if scene.notes and not scene.has_shots():
            scene.items.append(("notes", list(scene.notes)))
        elif scene.notes:  # notes between two shots: the next shot's
            self.shot.notes.extend(scene.notes)
        scene.notes.clear()
        scene.items.append(self.shot)
        self.shots += 1
        return self.shot

    def drop(self, written: str, where: str) -> None:
        self.dropped.append(written)
        comment = f"{written} ({where})"
        if self.scenes:
            self.scenes[-1].items.append(("#", comment))
        else:
            self.top_comments.append(comment)

    def note(self, text: str) -> None:
        text = free_text(text)
        if not text:
            return
        if self.shot is not None:
            self.shot.notes.append(text)
        elif self.scenes:
            self.scenes[-1].notes.append(text)
        else:
            self.top_comments.append(f"note: {text}")

    def comment(self, text: str) -> None:
        self.shot = None
        if self.scenes:
            self.scenes[-1].items.append(("#", text))
        else:
            self.top_comments.append(text)

    # -- elements ----------------------------------------------------------------------------

    def run(self) -> None:
        for element in self.play.elements:
            getattr(self, f"on_{element.kind}")(element)
            for note in element.notes if element.kind != "dialogue" else ():
                self.note(note)
        if self.pending is not None:
            last = next((scene for scene in reversed(self.scenes) if scene.has_shots()), None)
            if last is not None and _edge_fade(self.pending[1]):
                last.items.append(_edge_fade(self.pending[1]))  # the film fades out to black
            else:
                self.drop(self.pending[0], "after the last shot")
            self.pending = None

    def on_heading(self, element: Element) -> None:
        heading = split_heading(element.text, element.forced)
        name = location_name(heading.place)
        self.locations.setdefault(name, heading.place.lower())
        title = heading.text.replace('"', "'")
        light = ", ".join(part for part in (heading.inside, heading.time.lower()) if part)
        self.scenes.append(_Scene(title, name, light=free_text(light)))
        self.shot = None

    def on_action(self, element: Element) -> None:
        text = plain_text(element.text)
        if _NOTE_PARAGRAPH.match(text):
            self.note(text)
            return
        if _FADE_IN.match(text) and not element.forced:
            self.on_transition(Element("transition", "FADE IN:"))
            return
        self.new_shot(free_text(text))

    def on_dialogue(self, element: Element) -> None:
        name = character_name(element.speaker, element.forced)
        self.speakers.setdefault(element.speaker, name)
        self.characters.setdefault(name, element.speaker)
        extensions = [e for e in element.extensions if not _CONTD.match(e.strip())]
        shot = self.shot or self.new_shot()
        if element.dual:
            shot.notes.append(f"dual dialogue: {name} speaks at the same time as the line before")
        for speech in element.speeches:
            said_how = (delivery_text(", ".join(extensions)), delivery_text(speech.parenthetical))
            delivery = ", ".join(part for part in said_how if part)
            for piece in self.pieces(speech):
                count = words(piece)
                if shot.lines and shot.dialogue_words + count > self.max_words:
                    shot = self.new_shot()
                shot.lines.append((name, delivery, quoted(piece)))
                shot.dialogue_words += count
                self.speeches.append((name, quoted(piece)))
        for note in element.notes:
            self.note(note)

    def pieces(self, speech: Speech) -> list[str]:
        """A speech in pieces that each fit the longest clip, split between sentences."""
        text = speech.text
        if words(text) <= self.max_words:
            return [text]
        out: list[str] = []
        for sentence in _SENTENCE_END.split(text):
            if out and words(out[-1]) + words(sentence) <= self.max_words:
                out[-1] = f"{out[-1]} {sentence}"
            else:
                out.append(sentence)
        return out

    def on_transition(self, element: Element) -> None:
        written = plain_text(element.text)
        line = transition_for(written) or "cut"
        if self.pending is not None:
            self.comment(f"{self.pending[0]} (two transitions in a row: the second is kept)")
        self.pending = (written, line)
        self.shot = None

    def on_centered(self, element: Element) -> None:
        self.note(f"centered text: {element.text}")

    def on_note(self, element: Element) -> None:
        self.note(element.text)

    def on_synopsis(self, element: Element) -> None:
        self.note(f"synopsis: {element.text}")

    def on_section(self, element: Element) -> None:
        self.comment(f"section (level {element.level}): {plain_text(element.text)}")

    def on_page_break(self, element: Element) -> None:
        pass

    # -- writing -----------------------------------------------------------------------------

    def write(self, source_name: str, model: str, fallback_title: str) -> str:
        out: list[str] = []
        title = free_text(self.play.title()) or fallback_title
        out += [
            f"# Imported from {source_name} by `storyc import` (a Fountain screenplay).",
            "# What was guessed, to check before rendering:",
            f"# - the model: {model}, storyc's default; each shot lasts as long as its words take",
            f"#   (dialogue at {DIALOGUE_WORDS_PER_SECOND:g} words a second, action at "
            f"{ACTION_WORDS_PER_SECOND:g}), {self.shortest} to {self.longest} s;",
            "# - one shot per action paragraph, with the dialogue after it; no camera cues;",
            "# - every character's look is empty: describe each one (age, build, clothes);",
            "# - one location per place in the scene headings; INT/EXT and the time of day are",
            "#   each scene's `light:` cue (a scene's own `look:` may say more);",
            "# - transitions: dissolves are crossfades, fades are fades, cuts to black or white",
            "#   are dips; a fade in before the first shot or out after the last is a fade",
            "#   from or to black;",
            "# - notes, synopses and centered text are `note:` lines; sections are comments;",
            "#   the boneyard, page breaks and emphasis are dropped.",
        ]
        extra = [(k, v) for k, v in self.play.title_page if k.strip().lower() != "title"]
        if extra or self.play.title_notes:
            out.append("# The title page:")
            for key, value in extra:
                out.append(f"#   {key}: {' / '.join(value.splitlines())}".rstrip())
            for note in self.play.title_notes:
                out.append(f"#   note: {note}")
        out += [f"title: {title}", f"model: {model}", ""]
        out += [f"# {comment}" for comment in self.top_comments]
        if self.top_comments:
            out.append("")
        for name, written in self.characters.items():
            out += [f"character {name}:", f"    look:   # {free_text(written)}: to describe", ""]
        for name, look in self.locations.items():
            out += [f"location {name}:", f"    look: {free_text(look)}", ""]
        for scene in self.scenes:
            out += self.write_scene(scene)
        return "\n".join(out).rstrip() + "\n"

    def write_scene(self, scene: _Scene) -> list[str]:
        at = f" at {scene.location}" if scene.location else ""
        out = [f'scene "{scene.title}"{at}:']
        if not scene.has_shots():
            # nothing to show: a scene with no body (a cue there would follow no shot)
            for note in scene.notes:
                out.append(f"    # note: {note}")
            for item in scene.items:
                if isinstance(item, tuple):
                    out.append(f"    # {item[1]}")
            return [*out, ""]
        if scene.light:
            out.append(f"    light: {scene.light}")
        for item in scene.items:
            if isinstance(item, _Shot):
                out += self.write_shot(item)
            elif isinstance(item, str):
                out.append(f"    {item}")
            elif item[0] == "notes":
                out += [f"    note: {note}" for note in item[1]]
            else:
                out.append(f"    # {item[1]}")
        for note in scene.notes:  # notes after the last shot: a comment, never a lost cue
            out.append(f"    # note: {note}")
        return [*out, ""]

    def write_shot(self, shot: _Shot) -> list[str]:
        out = [f"    shot {shot.seconds(self.shortest, self.longest)}s:"]
        if shot.action:
            out.append(f"        action: {shot.action}")
        for name, delivery, text in shot.lines:
            said = f" ({delivery})" if delivery else ""
            out.append(f'        @{name}{said}: "{text}"')
        out += [f"        note: {note}" for note in shot.notes]
        return out


def import_fountain(
    play: Screenplay,
    *,
    source_name: str,
    fallback_title: str,
    model: str,
    lengths: tuple[int, ...],
) -> Imported:
    """The story for `play`, to render on `model` whose clips last `lengths` seconds."""
    converter = _Converter(play, min(lengths), max(lengths))
    converter.run()
    text = converter.write(source_name, model, fallback_title)
    return Imported(
        text=text,
        scenes=len(converter.scenes),
        speakers=dict(converter.speakers),
        speeches=list(converter.speeches),
        shots=converter.shots,
        dropped_transitions=list(converter.dropped),
    )

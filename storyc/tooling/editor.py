"""What an editor asks about a story, answered from the model: the symbol under the cursor,
hover text, completions, definitions, references, renames, the outline and folding.

Pure functions over `Story` (and the plan, for timecodes); positions are 1-based lines and
columns counted in code points, like every `Span`. `storyc.tooling.lsp` converts them to LSP.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from storyc.check.catalog import rule
from storyc.check.diagnostics import Edit
from storyc.check.structure import HEADER_KEYS, LOCATION_KEYS, PERSON_KEYS
from storyc.language.comments import Comment
from storyc.language.model import (
    CUE_KEYS,
    Cameo,
    Character,
    Cue,
    Property,
    Reference,
    Shot,
    Span,
    Story,
)
from storyc.plan.capabilities import PROVIDERS, load_table
from storyc.plan.schema import ClipPlan
from storyc.units import format_duration, timecode

SymbolKind = Literal["name", "preset", "location", "duration"]
NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")

CAMERA_MOVES = (
    "static",
    "locked-off",
    "slow dolly in",
    "dolly out",
    "push in",
    "pull back",
    "pan left",
    "pan right",
    "tilt up",
    "tilt down",
    "tracking shot",
    "crane up",
    "crane down",
    "handheld",
    "orbit",
    "whip pan",
    "slow zoom in",
    "rack focus",
    "POV",
    "overhead",
    "aerial drone shot",
    "low angle",
    "high angle",
    "dutch angle",
    "extreme close-up",
    "close-up",
    "medium shot",
    "wide shot",
    "over-the-shoulder",
)
LENSES = ("14mm", "24mm", "35mm", "50mm", "85mm", "135mm", "anamorphic", "macro", "fisheye")
ASPECTS = ("16:9", "9:16", "1:1", "4:3", "21:9")
BLOCK_SNIPPETS = {
    "scene": 'scene "${1:Title}":\n    shot ${2:4s}:\n        action: $0',
    "character": "character ${1:name}:\n    look: $0",
    "cameo": 'cameo ${1:name}: "${2:refs/name.mp4}"\n    look: $0',
    "location": "location ${1:name}:\n    look: $0",
    "preset": "preset ${1:name}:\n    ${2:light}: $0",
}
SCENE_SNIPPETS = {
    "shot": "shot ${1:4s}:\n    action: $0",
    "cut": "cut",
    "cut crossfade": "cut crossfade ${1:0.5s}",
    "cut fade": "cut fade ${1:0.5s}",
}


# -- symbols -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Occurrence:
    kind: SymbolKind
    name: str
    span: Span
    declaration: bool = False
    shot: Shot | None = None


def _references_in(story: Story) -> Iterator[Reference]:
    holders: list[tuple[Property | Cue, ...]] = [story.header.properties]
    holders += [p.properties for p in (*story.cameos, *story.characters)]
    holders += [loc.properties for loc in story.locations]
    holders += [p.cues for p in story.presets]
    for scene in story.scenes:
        holders.append(scene.cues)
        for shot in scene.shots:
            holders.append(shot.own_cues)
            for line in shot.dialogue:
                yield from line.references
    for group in holders:
        for item in group:
            yield from item.references


def occurrences(story: Story) -> list[Occurrence]:
    """Every name, preset, location and duration in the story, declarations included."""
    found: dict[tuple[int, int], Occurrence] = {}

    def add(o: Occurrence) -> None:
        found.setdefault((o.span.line, o.span.column), o)

    for person in (*story.cameos, *story.characters):
        add(Occurrence("name", person.name, person.name_span, declaration=True))
    for preset in story.presets:
        add(Occurrence("preset", preset.name, preset.name_span, declaration=True))
    for location in story.locations:
        add(Occurrence("location", location.name, location.name_span, declaration=True))
    for ref in _references_in(story):
        add(Occurrence("name", ref.name, ref.span))
    for scene in story.scenes:
        if scene.location and scene.location_span:
            add(Occurrence("location", scene.location, scene.location_span))
        for shot in scene.shots:
            if shot.preset and shot.preset_span:
                add(Occurrence("preset", shot.preset, shot.preset_span))
            add(Occurrence("duration", shot.duration_text, shot.duration_span, shot=shot))
    return sorted(found.values(), key=lambda o: (o.span.line, o.span.column))


def _touches(span: Span, line: int, column: int) -> bool:
    """Inside the span, or just after its end (the cursor after a word still means it)."""
    if span.line != line:
        return span.contains(line, column)
    return span.column <= column <= span.end_column


def symbol_at(story: Story, line: int, column: int) -> Occurrence | None:
    return next((o for o in occurrences(story) if _touches(o.span, line, column)), None)


def declaration_of(story: Story, kind: SymbolKind, name: str) -> Span | None:
    if kind == "name":
        person = story.declared_names().get(name)
        return person.name_span if person else None
    if kind == "preset":
        return next((p.name_span for p in story.presets if p.name == name), None)
    if kind == "location":
        return next((loc.name_span for loc in story.locations if loc.name == name), None)
    return None


def references_to(
    story: Story, kind: SymbolKind, name: str, *, include_declaration: bool = True
) -> list[Span]:
    return [
        o.span
        for o in occurrences(story)
        if o.kind == kind and o.name == name and (include_declaration or not o.declaration)
    ]


class RenameRefused(ValueError):
    """A rename that cannot be done (the message says why)."""


def _name_part(o: Occurrence) -> Span:
    """A reference's span without its `@`."""
    if o.kind == "name" and not o.declaration:
        return o.span.model_copy(update={"column": o.span.column + 1})
    return o.span


def rename_edits(story: Story, target: Occurrence, new_name: str) -> list[Edit]:
    """Edits renaming a name, preset or location everywhere (declaration included)."""
    new_name = new_name.removeprefix("@").strip()
    if target.kind == "duration":
        raise RenameRefused("a duration cannot be renamed")
    if not NAME_PATTERN.fullmatch(new_name):
        raise RenameRefused(f"`{new_name}` is not a name: use letters, digits, `_` and `-`")
    taken = {
        "name": story.declared_names(),
        "preset": {p.name: p for p in story.presets},
        "location": {loc.name: loc for loc in story.locations},
    }[target.kind]
    if new_name != target.name and new_name in taken:
        raise RenameRefused(f"`{new_name}` is already declared")
    return [
        Edit(span=_name_part(o), text=new_name)
        for o in occurrences(story)
        if o.kind == target.kind and o.name == target.name
    ]


# -- hover -------------------------------------------------------------------------------------


def _person_hover(story: Story, name: str) -> str:
    person = story.declared_names().get(name)
    if person is None:
        return f"**@{name}** is not declared (S101)"
    kind = "cameo" if isinstance(person, Cameo) else "character"
    head = f"**@{name}** · {kind}"
    if isinstance(person, Cameo) and person.path:
        head += f" `{person.path}`"
    lines = [head, ""]
    for prop in person.properties:
        lines.append(f"- {prop.key}: {prop.text}")
    shots = sum(
        1
        for shot in story.shots
        if any(r.name == name for c in shot.cues for r in c.references)
        or any(r.name == name for d in shot.dialogue for r in d.references)
    )
    lines += ["", f"declared on line {person.name_span.line} · named in {shots} shot(s)"]
    return "\n".join(lines)


def _cues_hover(title: str, cues: tuple[Cue, ...] | tuple[Property, ...], line: int) -> str:
    lines = [title, ""] + [f"- {c.key}: {c.text}" for c in cues]
    return "\n".join([*lines, "", f"declared on line {line}"])


def _duration_hover(story: Story, shot: Shot, plan: ClipPlan | None) -> str:
    title = f"**shot {shot.index}**" + (f" `{shot.label}`" if shot.label else "")
    lines = [f"{title} · {format_duration(shot.duration_ms)}", ""]
    if plan is None:
        lines.append("no clip plan while the story has problems the planner cannot pass")
        return "\n".join(lines)
    for clip in plan.clips:
        for planned in clip.shots:
            if planned.index == shot.index:
                lines.append(
                    f"clip {clip.index} of {len(plan.clips)} ({clip.model}, renders "
                    f"{clip.render_ms // 1000} s, trims {format_duration(clip.slack)})"
                )
                lines.append(
                    f"in the clip {timecode(planned.start)}–{timecode(planned.end)}; "
                    f"in the film {timecode(planned.film_start)}–{timecode(planned.film_end)}"
                )
                return "\n".join(lines)
    lines.append("not in the plan")
    return "\n".join(lines)


_CODE_WORD = re.compile(r"[A-Za-z][A-Za-z0-9\-]*")


def _word_at(text: str, column: int) -> tuple[str, int] | None:
    for match in _CODE_WORD.finditer(text):
        if match.start() + 1 <= column <= match.end() + 1:
            return match.group(0), match.start() + 1
    return None


def rule_hover(
    source: str, comments: list[Comment], line: int, column: int
) -> tuple[str, Span] | None:
    """The docs of a rule code (or name) written in a comment, e.g. in `# storyc: ignore[S101]`."""
    comment = next((c for c in comments if c.line == line and c.column <= column), None)
    if comment is None:
        return None
    text = source.split("\n")[line - 1]
    found = _word_at(text, column)
    if found is None:
        return None
    word, start = found
    known = rule(word)
    if known is None or start < comment.column:
        return None
    doc = known.document()
    head, _, rest = doc.partition("\n")
    body = rest.replace("Bad:\n\n", "Bad:\n\n```story\n", 1).replace("\n\nGood:", "```\n\nGood:", 1)
    body = body.replace("Good:\n\n", "Good:\n\n```story\n", 1).rstrip() + "\n```"
    markdown = f"**{head.removeprefix('# ')}**\n{body}"
    return markdown, Span.point(line, start, len(word))


def hover_text(story: Story, target: Occurrence, plan: ClipPlan | None) -> str:
    if target.kind == "name":
        return _person_hover(story, target.name)
    if target.kind == "preset":
        preset = next((p for p in story.presets if p.name == target.name), None)
        if preset is None:
            return f"**preset {target.name}** is not declared (S110)"
        users = sum(1 for s in story.shots if s.preset == preset.name)
        text = _cues_hover(f"**preset {preset.name}**", preset.cues, preset.name_span.line)
        return text + f" · used by {users} shot(s)"
    if target.kind == "location":
        location = next((loc for loc in story.locations if loc.name == target.name), None)
        if location is None:
            return f"**location {target.name}** is not declared (S111)"
        return _cues_hover(
            f"**location {location.name}**", location.properties, location.name_span.line
        )
    assert target.shot is not None
    return _duration_hover(story, target.shot, plan)


# -- completion --------------------------------------------------------------------------------

CompletionKind = Literal["key", "name", "preset", "location", "value", "block", "snippet"]


@dataclass(frozen=True)
class CompletionEntry:
    label: str
    kind: CompletionKind
    insert_text: str
    replace_from: int
    """1-based column where the replaced text starts (up to the cursor)."""
    detail: str | None = None
    documentation: str | None = None
    snippet: bool = False


def _parent_word(lines: list[str], line: int, indent: int) -> str | None:
    """The first word of the nearest line above that is less indented."""
    for number in range(line - 1, 0, -1):
        text = lines[number - 1]
        stripped = text.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if len(text) - len(text.lstrip(" \t")) < indent:
            return stripped.split()[0].rstrip(":")
    return None


def _person_detail(person: Cameo | Character) -> str:
    kind = "cameo" if isinstance(person, Cameo) else "character"
    return f"{kind}" + (f": {person.look}" if person.look else "")


def _values_for(key: str, story: Story | None) -> tuple[list[str], str]:
    table = load_table()
    if key == "model":
        return table.models(), "model"
    if key == "provider":
        return list(PROVIDERS), "provider"
    if key == "size":
        model = story.header.model if story else None
        sizes = [s for o in table.offerings if o.model == model for s in o.sizes]
        if not sizes:
            sizes = [s for o in table.offerings for s in o.sizes]
        return list(dict.fromkeys(sizes)), f"size{f' for {model}' if model else ''}"
    if key == "aspect":
        return list(ASPECTS), "aspect ratio"
    if key == "clips":
        return ["packed", "per-shot"], "how shots become clips"
    if key == "first-frame":
        return ["keyframes"], "what each clip starts from"
    if key == "camera":
        return list(CAMERA_MOVES), "camera move"
    if key == "lens":
        return list(LENSES), "lens"
    return [], ""


_VALUE = re.compile(r"^(\s*)([A-Za-z_][\w-]*)\s*:\s*(?P<value>[^#]*)$")


def completions(source: str, story: Story | None, line: int, column: int) -> list[CompletionEntry]:
    """What may be typed at the cursor, from the text around it and the last good model."""
    lines = source.split("\n")
    if not 1 <= line <= len(lines):
        return []
    before = lines[line - 1][: column - 1]
    stripped = before.lstrip(" \t")
    indent = len(before) - len(stripped)
    names = story.declared_names() if story else {}

    at = re.search(r"@([\w-]*)$", before)
    if at:
        return [
            CompletionEntry(f"@{n}", "name", f"@{n}", at.start() + 1, _person_detail(p))
            for n, p in sorted(names.items())
        ]
    option = re.search(r"^\s*shot\b.*\bwith\s+([\w-]*)$", before)
    if option:
        return [
            CompletionEntry(p.name, "preset", p.name, option.start(1) + 1, "preset")
            for p in (story.presets if story else ())
        ]
    place = re.search(r"^\s*scene\b.*\bat\s+([\w-]*)$", before)
    if place:
        return [
            CompletionEntry(loc.name, "location", loc.name, place.start(1) + 1, loc.look)
            for loc in (story.locations if story else ())
        ]
    value = _VALUE.match(before)
    if value:
        choices, detail = _values_for(value.group(2), story)
        start = value.start("value") + 1
        return [CompletionEntry(c, "value", c, start, detail) for c in choices]
    if not re.fullmatch(r"[A-Za-z_]?[\w-]*", stripped):
        return []
    start = indent + 1
    if indent == 0:
        keys = [CompletionEntry(f"{k}:", "key", f"{k}: ", start, "header") for k in HEADER_KEYS]
        blocks = [
            CompletionEntry(k, "block", body, start, f"{k} block", snippet=True)
            for k, body in BLOCK_SNIPPETS.items()
        ]
        return keys + blocks
    parent = _parent_word(lines, line, indent)
    if parent == "shot":
        keys = [CompletionEntry(f"{k}:", "key", f"{k}: ", start, "cue") for k in CUE_KEYS]
        speakers = [
            CompletionEntry(
                f"@{n}",
                "name",
                f'@{n}: "$0"',
                start,
                f"dialogue: {_person_detail(p)}",
                snippet=True,
            )
            for n, p in sorted(names.items())
        ]
        return keys + speakers
    if parent == "scene":
        keys = [CompletionEntry(f"{k}:", "key", f"{k}: ", start, "scene cue") for k in CUE_KEYS]
        blocks = [
            CompletionEntry(k, "snippet", body, start, "in a scene", snippet=True)
            for k, body in SCENE_SNIPPETS.items()
        ]
        return blocks + keys
    allowed = {
        "character": PERSON_KEYS,
        "cameo": PERSON_KEYS,
        "location": LOCATION_KEYS,
        "preset": CUE_KEYS,
    }.get(parent or "", ())
    return [CompletionEntry(f"{k}:", "key", f"{k}: ", start, parent) for k in allowed]


# -- outline and folding -----------------------------------------------------------------------


@dataclass
class OutlineNode:
    name: str
    kind: Literal["scene", "shot", "character", "cameo", "location", "preset"]
    span: Span
    selection: Span
    detail: str | None = None
    children: list[OutlineNode] = field(default_factory=list)


def outline(story: Story) -> list[OutlineNode]:
    """Declarations, then scenes with their shots, in file order."""
    nodes: list[OutlineNode] = []
    for person in story.cameos:
        nodes.append(OutlineNode(person.name, "cameo", person.span, person.name_span, person.path))
    for character in story.characters:
        nodes.append(OutlineNode(character.name, "character", character.span, character.name_span))
    for location in story.locations:
        nodes.append(
            OutlineNode(location.name, "location", location.span, location.name_span, location.look)
        )
    for preset in story.presets:
        nodes.append(OutlineNode(preset.name, "preset", preset.span, preset.name_span))
    for scene in story.scenes:
        total = sum(s.duration_ms for s in scene.shots)
        detail = f"{len(scene.shots)} shot(s), {format_duration(total)}"
        if scene.location:
            detail = f"at {scene.location} · {detail}"
        node = OutlineNode(
            scene.title or f"Scene {scene.index}", "scene", scene.span, scene.header_span, detail
        )
        for shot in scene.shots:
            action = shot.cue("action")
            node.children.append(
                OutlineNode(
                    f"shot {shot.index}"
                    + (f" {shot.label}" if shot.label else "")
                    + f" · {shot.duration_text}",
                    "shot",
                    shot.span,
                    shot.header_span,
                    (action[:60] + "…") if action and len(action) > 60 else action,
                )
            )
        nodes.append(node)
    nodes.sort(key=lambda n: (n.span.line, n.span.column))
    return nodes


def _indent_of(text: str) -> int:
    return len(text) - len(text.lstrip(" \t"))


def folding_ranges(source: str) -> list[tuple[int, int]]:
    """(first, last) 1-based lines of every line with an indented body under it: each
    top-level block, and each shot."""
    lines = source.split("\n")
    ranges: list[tuple[int, int]] = []
    for index, text in enumerate(lines):
        stripped = text.strip()
        if not stripped or stripped.startswith("#"):
            continue
        own = _indent_of(text)
        end = index
        for j in range(index + 1, len(lines)):
            other = lines[j]
            if not other.strip() or other.lstrip().startswith("# "):
                continue
            if _indent_of(other) <= own:
                break
            end = j
        if end > index:
            ranges.append((index + 1, end + 1))
    return ranges

"""Syntax tree to typed `Story`: presets, locations and scene cues folded into shots.

Pure: it reads the trees `storyc.language.parse` made and returns the model plus the few diagnostics
that only this step can see (a header value that is not a number, a duplicate key). Every
other judgement (unknown keys, names, provider limits) belongs to the checker.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from sys import intern

from lark import Token, Tree

from storyc.check import catalog as R
from storyc.check.diagnostics import Diagnostic
from storyc.language.model import (
    AVOID,
    NAME_REFERENCE,
    Cameo,
    Character,
    Cue,
    DialogueLine,
    Header,
    Location,
    Preset,
    Property,
    Reference,
    Scene,
    Shot,
    Span,
    Story,
    Transition,
    built,
    maker,
    span_at,
)
from storyc.units import parse_duration

# The builder's most numerous nodes, made by positional constructors (`maker`): half the
# cost of `built(...)`, which was most of `build_story`'s time.
_cue = maker(
    Cue, "key", "text", "span", "key_span", "text_span", "origin", "origin_name", "references"
)
_property = maker(Property, "key", "text", "span", "key_span", "text_span", "references")
_reference = maker(Reference, "name", "span")
_dialogue_line = maker(
    DialogueLine, "speaker", "delivery", "text", "span", "speaker_span", "text_span", "references"
)

_shot = maker(
    Shot,
    "index",
    "scene_index",
    "label",
    "duration_ms",
    "duration_text",
    "preset",
    "preset_span",
    "from_image",
    "from_span",
    "keyframe",
    "keyframe_span",
    "seed",
    "seed_span",
    "takes",
    "own_cues",
    "cues",
    "dialogue",
    "span",
    "header_span",
    "duration_span",
)


def _token_span(token: Token) -> Span:
    line = token.line or 1
    column = token.column or 1
    return span_at(line, column, token.end_line or line, token.end_column or column + len(token))


def _tokens(tree: Tree | Token) -> Iterable[Token]:
    if isinstance(tree, Token):
        yield tree
        return
    for child in tree.children:
        yield from _tokens(child)


def _first_token(tree: Tree | Token) -> Token | None:
    if isinstance(tree, Token):
        return tree
    for child in tree.children:
        found = _first_token(child)
        if found is not None:
            return found
    return None


def _last_token(tree: Tree | Token) -> Token | None:
    if isinstance(tree, Token):
        return tree
    for child in reversed(tree.children):
        found = _last_token(child)
        if found is not None:
            return found
    return None


def _first_last(tree: Tree) -> tuple[Token, Token] | None:
    # Walks down the tree's edges only: listing every token of a scene, as this did,
    # was a tenth of the time of building a large story.
    first = _first_token(tree)
    if first is None:
        return None
    last = _last_token(tree)
    assert last is not None
    return first, last


def _end(tree: Tree, fallback: Span) -> tuple[int, int]:
    """Where the last token of `tree` ends (line, column); `fallback`'s end if it has none."""
    last = _last_token(tree)
    if last is None:
        return fallback.end_line, fallback.end_column
    # As `_token_span(last)` computes them, without building the Span.
    return last.end_line or last.line or 1, last.end_column or (last.column or 1) + len(last)


def _pair_fields(tree: Tree, texts: dict[str, str]) -> tuple[str, str, Span, Span, Span]:
    """A `key: text` line's key, text, span, key span and text span. `texts`: the build's
    texts so far, so that a text written many times is held once."""
    # Read from the tokens' positions directly (as `_token_span` reads them), not back from
    # the spans: a story has a few cues per shot, and this is the builder's hottest line.
    children = tree.children
    key_token = children[0]
    assert isinstance(key_token, Token)
    key_line = key_token.line or 1
    key_column = key_token.column or 1
    key_end = key_token.end_column or key_column + len(key_token)
    key_span = span_at(key_line, key_column, key_token.end_line or key_line, key_end)
    if len(children) > 1:
        value = children[1]
        assert isinstance(value, Token)
        line = value.line or 1
        column = value.column or 1
        end_line = value.end_line or line
        end_column = value.end_column or column + len(value)
        text = str(value)
        text = texts.setdefault(text, text)
        text_span = span_at(line, column, end_line, end_column)
    else:
        text = ""
        end_line, end_column = key_line, key_end + 1
        text_span = span_at(key_line, end_column, key_line, end_column)
    span = span_at(key_line, key_column, end_line, max(end_column, key_end + 1))
    # Keys are a handful of words: one string each, not one per line.
    return intern(str(key_token)), text, span, key_span, text_span


def _references(text: str, span: Span) -> tuple[Reference, ...]:
    """`@name` occurrences in a one-line free text whose first character is at `span`."""
    if "@" not in text:  # most cues name no one; skips the regular expression
        return ()
    found = []
    line, start = span.line, span.column
    for match in NAME_REFERENCE.finditer(text):
        name = intern(match.group(1))  # a few names, written over and over
        column = start + match.start()
        found.append(_reference(name, span_at(line, column, line, column + len(name) + 1)))
    return tuple(found)


class _Builder:
    def __init__(self, source: str, file: str):
        self.lines = source.split("\n")
        self.file = file
        self.diagnostics: list[Diagnostic] = []
        self.texts: dict[str, str] = {}
        """Every free text built so far, each once: stories repeat their cues."""
        self.under: dict[tuple[int, str | None], dict[str, list[Cue]]] = {}
        """The scene's cues under a shot's own (`shot`), folded: reset per scene."""
        self.durations: dict[str, int] = {}
        """Each length as written, read once (`parse_duration` is Decimal arithmetic, and a
        story writes the same few lengths shot after shot)."""

    def error(self, rule: R.Rule, message: str, span: Span, help: str | None = None) -> None:
        self.diagnostics.append(rule.diagnostic(message, span, self.file, help=help))

    def line_span(self, first: Token, last: Token) -> Span:
        """From the first non-blank column of `first`'s line to the end of `last`."""
        line = first.line or 1
        text = self.lines[line - 1] if line <= len(self.lines) else ""
        column = len(text) - len(text.lstrip(" \t")) + 1
        end = _token_span(last)
        return span_at(line, column, end.end_line, end.end_column)

    def lines_of(self, tree: Tree) -> list[str]:
        """The source lines from `tree`'s first token to its last."""
        bounds = _first_last(tree)
        if bounds is None:
            return []
        first, last = bounds
        return self.lines[(first.line or 1) - 1 : last.end_line or last.line or 1]

    def header_line_span(self, line: int) -> Span:
        text = self.lines[line - 1] if line <= len(self.lines) else ""
        column = len(text) - len(text.lstrip(" \t")) + 1
        return span_at(line, column, line, len(text.rstrip()) + 1)

    def node_span(self, tree: Tree, fallback_line: int) -> Span:
        bounds = _first_last(tree)
        if bounds is None:
            return self.header_line_span(fallback_line)
        return self.line_span(*bounds)

    # -- lines ------------------------------------------------------------------------------

    def pair(self, tree: Tree) -> Property:
        key, text, span, key_span, text_span = _pair_fields(tree, self.texts)
        return _property(key, text, span, key_span, text_span, _references(text, text_span))

    def pair_cue(self, tree: Tree, origin: str = "shot", origin_name: str | None = None) -> Cue:
        """`cue(pair(tree))` without the intermediate `Property` (a shot has many cues)."""
        key, text, span, key_span, text_span = _pair_fields(tree, self.texts)
        # Most cues name no one: `_references` is not even called for them.
        references = _references(text, text_span) if "@" in text else ()
        return _cue(key, text, span, key_span, text_span, origin, origin_name, references)

    def cue(self, prop: Property, origin: str = "shot", origin_name: str | None = None) -> Cue:
        return _cue(
            prop.key,
            prop.text,
            prop.span,
            prop.key_span,
            prop.text_span,
            origin,
            origin_name,
            prop.references,
        )

    def body(self, tree: Tree) -> list[Property]:
        for child in tree.children:
            if isinstance(child, Tree) and child.data == "body":
                return [self.pair(p) for p in child.children if isinstance(p, Tree)]
        return []

    def dialogue(self, tree: Tree) -> DialogueLine:
        speaker = tree.children[0]
        assert isinstance(speaker, Token)
        delivery: str | None = None
        text_token: Token | None = None
        for child in tree.children[1:]:
            if isinstance(child, Tree) and child.data == "delivery":
                words = " ".join(str(t).strip() for t in child.children)
                delivery = self.texts.setdefault(words, words) or None
            elif isinstance(child, Token) and child.type == "STRING":
                text_token = child
        assert text_token is not None
        speaker_span = _token_span(speaker)
        text_span = _token_span(text_token)
        name = intern(str(speaker)[1:])
        text = str(text_token)[1:-1]
        return _dialogue_line(
            name,
            delivery,
            self.texts.setdefault(text, text),
            self.line_span(speaker, text_token),
            speaker_span,
            text_span,
            (_reference(name, speaker_span), *_references(str(text_token), text_span)),
        )

    def transition(self, tree: Tree) -> Transition:
        tokens = list(_tokens(tree))
        kinds = [t for t in tokens if t.type in ("CROSSFADE", "FADE", "DIP")]
        duration = next((t for t in tokens if t.type == "DURATION"), None)
        ms = parse_duration(str(duration)) if duration is not None else 0
        kind = str(kinds[0]) if kinds else "cut"
        return Transition(
            kind=kind,
            duration_ms=ms or 0,  # type: ignore[arg-type]
            span=self.line_span(tokens[0], tokens[-1]),
        )

    # -- blocks -----------------------------------------------------------------------------

    def header(self, pairs: Sequence[Property]) -> Header:
        values: dict[str, object] = {}
        seen: dict[str, Property] = {}
        for prop in pairs:
            if prop.key in seen:
                self.error(
                    R.S108,
                    f"`{prop.key}` is set twice in the header",
                    prop.key_span,
                    help=f"keep one; the first is on line {seen[prop.key].span.line}",
                )
                continue
            seen[prop.key] = prop
            value = prop.text.strip()
            if prop.key in ("fps", "seed", "takes"):
                if not value.isdigit():
                    self.error(
                        R.S113,
                        f"`{prop.key}` must be a whole number, not `{value}`",
                        prop.text_span,
                        help=f"for example `{prop.key}: {24 if prop.key == 'fps' else 1 if prop.key == 'takes' else 42}`",
                    )
                    continue
                values[prop.key] = int(value)
            elif prop.key == "clips":
                if value not in ("packed", "per-shot"):
                    self.error(
                        R.S113,
                        f"`clips` is `packed` or `per-shot`, not `{value}`",
                        prop.text_span,
                    )
                    continue
                values[prop.key] = value
            elif prop.key == "first-frame":
                if value != "keyframes":
                    self.error(
                        R.S113,
                        f"`first-frame` is `keyframes`, not `{value}`",
                        prop.text_span,
                        help="`first-frame: keyframes` sends each shot's keyframe as its "
                        "clip's first frame; a shot's own first frame is `from \"image.png\"`",
                    )
                    continue
                values["first_frame"] = value
            elif prop.key in ("title", "model", "size", "aspect", "style", "provider", "avoid"):
                values[prop.key] = value
        return Header(**values, properties=tuple(pairs))  # type: ignore[arg-type]

    def shot(
        self,
        tree: Tree,
        index: int,
        scene_index: int,
        scene_cues: Sequence[Cue],
        location: Location | None,
        presets: dict[str, Preset],
    ) -> tuple[Shot, list[Transition]]:
        label: str | None = None
        duration_token: Token | None = None
        preset: str | None = None
        preset_span = from_span = seed_span = None
        from_image: str | None = None
        keyframe: str | None = None
        keyframe_span: Span | None = None
        seed: int | None = None
        takes: int | None = None
        own: list[Cue] = []
        dialogue: list[DialogueLine] = []
        for child in tree.children:
            if isinstance(child, Token):
                if child.type == "LABEL":
                    label = intern(str(child))
                elif child.type == "DURATION":
                    duration_token = child
            elif child.data == "pair":  # the most frequent child: tested first
                cue = self.pair_cue(child)
                if cue.key == KEYFRAME_KEY:
                    # A picture for the shot, not words for the prompt: kept like `from`.
                    keyframe, keyframe_span = _unquoted(cue.text), cue.text_span
                else:
                    own.append(cue)
            elif child.data == "shot_with":
                tok = child.children[0]
                assert isinstance(tok, Token)
                preset, preset_span = intern(str(tok)), _token_span(tok)
            elif child.data == "shot_from":
                tok = child.children[0]
                assert isinstance(tok, Token)
                from_image, from_span = str(tok)[1:-1], _token_span(tok)
            elif child.data == "shot_seed":
                tok = child.children[0]
                assert isinstance(tok, Token)
                seed, seed_span = int(tok), _token_span(tok)
            elif child.data == "shot_takes":
                tok = child.children[0]
                assert isinstance(tok, Token)
                takes = int(tok)
            elif child.data == "dialogue":
                dialogue.append(self.dialogue(child))
        assert duration_token is not None
        duration_text = intern(str(duration_token))
        duration_ms = self.durations.get(duration_text)
        if duration_ms is None:
            duration_ms = self.durations[duration_text] = parse_duration(duration_text) or 0
        duration_span = _token_span(duration_token)
        first_line = duration_span.line
        header_span = self.header_line_span(first_line)
        end_line, end_column = _end(tree, header_span)

        # The layers under the shot's own cues are the same for most shots of a scene: folded
        # once per scene for each count of scene cues so far and each preset.
        declared = preset if preset is not None and preset in presets else None
        under_key = (len(scene_cues), declared)
        under = self.under.get(under_key)
        if under is None:
            layers: list[Sequence[Cue]] = []
            if location is not None:
                layers.append(location.cues)
            layers.append(scene_cues)
            if declared is not None:
                layers.append(presets[declared].cues)
            under = self.under[under_key] = _fold_layers({}, layers)
        effective = _flatten(_fold_layers(dict(under), (own,)))
        shot = _shot(
            index,
            scene_index,
            label,
            duration_ms,
            duration_text,
            preset,
            preset_span,
            from_image,
            from_span,
            keyframe,
            keyframe_span,
            seed,
            seed_span,
            takes,
            tuple(own),
            tuple(effective),
            tuple(dialogue),
            span_at(header_span.line, header_span.column, end_line, end_column),
            header_span,
            duration_span,
        )
        return shot, []

    def scene(
        self,
        tree: Tree,
        number: int,
        shots_before: int,
        locations: dict[str, Location],
        presets: dict[str, Preset],
    ) -> BuiltScene:
        """Scene `number` of the story, whose first shot is shot `shots_before + 1`."""
        title: str | None = None
        location_name: str | None = None
        location_span: Span | None = None
        scene_cues: list[Cue] = []
        shots: list[Shot] = []
        transitions: list[Transition | None] = []
        leading: list[Transition] = []
        first_token = _first_token(tree)
        header_span = (
            self.header_line_span(first_token.line or 1) if first_token else Span.point(1, 1)
        )
        location_obj: Location | None = None
        scene_look: str | None = None
        scene_look_span: Span | None = None
        shot_index = shots_before
        self.under = {}
        for child in tree.children:
            if isinstance(child, Token) and child.type == "STRING":
                title = str(child)[1:-1]
            elif isinstance(child, Tree) and child.data == "scene_at":
                tok = child.children[0]
                assert isinstance(tok, Token)
                location_name, location_span = intern(str(tok)), _token_span(tok)
                location_obj = locations.get(location_name)
            elif isinstance(child, Tree) and child.data == "pair":
                cue = self.pair_cue(child, "scene", title)
                if cue.key == "look":
                    # The scene's own look of its location: the whole scene's, not a cue
                    # (two are joined with `; `, as a key written twice anywhere).
                    scene_look = f"{scene_look}; {cue.text}" if scene_look else cue.text
                    scene_look_span = scene_look_span or cue.span
                else:
                    scene_cues.append(cue)
            elif isinstance(child, Tree) and child.data == "shot":
                shot_index += 1
                shot, _ = self.shot(child, shot_index, number, scene_cues, location_obj, presets)
                shots.append(shot)
                transitions.append(None)
            elif isinstance(child, Tree) and child.data == "transition":
                transition = self.transition(child)
                if transitions:
                    transitions[-1] = transition
                else:
                    leading.append(transition)  # joins what comes before this scene
        end_line, end_column = _end(tree, header_span)
        scene = built(
            Scene,
            index=number,
            title=title,
            location=location_name,
            location_span=location_span,
            look=scene_look,
            look_span=scene_look_span,
            cues=tuple(scene_cues),
            shots=tuple(shots),
            transitions=tuple(transitions),
            span=span_at(header_span.line, header_span.column, end_line, end_column),
            header_span=header_span,
        )
        used = tuple(
            (name, presets.get(name)) for name in dict.fromkeys(s.preset for s in shots if s.preset)
        )
        return BuiltScene(scene, tuple(leading), location_obj, used)


KEYFRAME_KEY = "keyframe"
"""The shot key that names a still for the shot (`keyframe: "boards/s1.png"`)."""


def _unquoted(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    return text


def _fold_layers(
    by_key: dict[str, list[Cue]], layers: Sequence[Sequence[Cue]]
) -> dict[str, list[Cue]]:
    """`by_key` (the cues of the layers below, by key) with `layers` folded over it. Later
    layers win per key: location < scene < preset < the shot's own cues. `avoid:` combines
    instead: every layer's is kept, outermost first. The lists of `by_key` are replaced,
    never changed in place, so a fold may start from a copy of another fold's dict."""
    for layer in layers:
        keys_in_layer: dict[str, list[Cue]] = {}
        for cue in layer:
            keys_in_layer.setdefault(cue.key, []).append(cue)
        if AVOID in keys_in_layer and AVOID in by_key:
            keys_in_layer[AVOID] = by_key[AVOID] + keys_in_layer[AVOID]
        by_key.update(keys_in_layer)
    return by_key


def _flatten(by_key: dict[str, list[Cue]]) -> list[Cue]:
    """The folded cues in order: by the key's first layer, then as written."""
    ordered: list[Cue] = []
    for cues in by_key.values():
        ordered.extend(cues)
    return ordered


def _ending_with(scene: Scene, transition: Transition) -> Scene:
    """The scene with `transition` joining its last shot to whatever follows it."""
    joins = list(scene.transitions)
    joins[-1] = transition
    return scene.model_copy(update={"transitions": tuple(joins)})


@dataclass(frozen=True)
class BuiltScene:
    """One scene as built, with what it was built from besides its own tree."""

    scene: Scene
    leading: tuple[Transition, ...]
    """Transitions written in the scene before its first shot: they join the shots before it
    (or open the story), so the story applies them, not the scene."""
    location: Location | None
    """The declaration of the scene's `at` location, when there is one."""
    presets: tuple[tuple[str, Preset | None], ...]
    """Each preset a shot names (`with NAME`), with its declaration (None: undeclared)."""


@dataclass(frozen=True)
class _Kept:
    tree: Tree
    lines: list[str]
    number: int
    shots_before: int
    made: BuiltScene


class SceneCache:
    """Scenes from the previous build, for the language server, which builds the story again
    on every keystroke though one scene changed.

    A scene is reused when it comes from the very same tree object (the editor reparses only
    the blocks whose text or first line changed, and hands the other trees back unchanged),
    its lines read the same, it is the same scene number with the same shots before it, and
    its location and the presets its shots name are declared as before. Anything else is
    built again: a scene that moved (its spans and shot numbers change) is rebuilt rather
    than shifted, which measured faster (a copy of every node with its spans moved costs more
    than building it from its tokens). Holds only the scenes of the last build. Not
    thread-safe."""

    def __init__(self) -> None:
        self._kept: dict[int, _Kept] = {}
        self._used: dict[int, _Kept] = {}
        self.hits = 0
        """Scenes reused."""
        self.misses = 0
        """Scenes built again."""

    def scene(
        self,
        builder: _Builder,
        tree: Tree,
        number: int,
        shots_before: int,
        locations: dict[str, Location],
        presets: dict[str, Preset],
    ) -> BuiltScene:
        lines = builder.lines_of(tree)
        kept = self._kept.get(id(tree))
        if (
            kept is not None
            and kept.tree is tree
            and kept.number == number
            and kept.shots_before == shots_before
            and kept.lines == lines
            and _same_declarations(kept.made, locations, presets)
        ):
            self.hits += 1
        else:
            self.misses += 1
            made = builder.scene(tree, number, shots_before, locations, presets)
            kept = _Kept(tree, lines, number, shots_before, made)
        self._used[id(tree)] = kept
        return kept.made

    def forget_unused(self) -> None:
        """Keep only the scenes of the build that just ended."""
        self._kept, self._used = self._used, {}


def _same_declarations(
    made: BuiltScene, locations: dict[str, Location], presets: dict[str, Preset]
) -> bool:
    location_name = made.scene.location
    location = locations.get(location_name) if location_name is not None else None
    if location is not made.location and location != made.location:
        return False
    for name, preset in made.presets:
        now = presets.get(name)
        if now is not preset and now != preset:
            return False
    return True


def build_story(
    items: Sequence[Tree],
    source: str,
    file: str = "<story>",
    scene_cache: SceneCache | None = None,
) -> tuple[Story, list[Diagnostic]]:
    """Build the typed story from the parser's top-level items.

    `scene_cache` (the language server's) reuses the scenes built from the very same trees
    on the same lines, numbered alike and over the same declarations (see `SceneCache`)."""
    b = _Builder(source, file)
    header_pairs: list[Property] = []
    cameos: list[Cameo] = []
    characters: list[Character] = []
    locations: list[Location] = []
    presets: list[Preset] = []
    scene_trees: list[Tree] = []
    between: dict[int, Transition] = {}
    """Top-level transitions, keyed by how many scenes precede them."""

    for item in items:
        kind = item.data
        if kind == "pair":
            header_pairs.append(b.pair(item))
        elif kind == "transition":
            between[len(scene_trees)] = b.transition(item)
        elif kind == "scene":
            scene_trees.append(item)
        else:
            name_token = item.children[0]
            assert isinstance(name_token, Token)
            name_span = _token_span(name_token)
            span = b.node_span(item, name_span.line)
            props = b.body(item)
            by_key = {p.key: p.text for p in props}
            if kind == "cameo":
                path_token = next(
                    (c for c in item.children[1:] if isinstance(c, Token) and c.type == "STRING"),
                    None,
                )
                cameos.append(
                    Cameo(
                        name=str(name_token),
                        path=str(path_token)[1:-1] if path_token else None,
                        look=by_key.get("look"),
                        voice=by_key.get("voice"),
                        properties=tuple(props),
                        span=span,
                        name_span=name_span,
                        path_span=_token_span(path_token) if path_token else None,
                    )
                )
            elif kind == "character":
                characters.append(
                    Character(
                        name=str(name_token),
                        look=by_key.get("look"),
                        voice=by_key.get("voice"),
                        properties=tuple(props),
                        span=span,
                        name_span=name_span,
                    )
                )
            elif kind == "location":
                cues = tuple(
                    b.cue(p, "location", str(name_token)) for p in props if p.key != "look"
                )
                locations.append(
                    Location(
                        name=str(name_token),
                        look=by_key.get("look"),
                        cues=cues,
                        properties=tuple(props),
                        span=span,
                        name_span=name_span,
                    )
                )
            elif kind == "preset":
                presets.append(
                    Preset(
                        name=str(name_token),
                        cues=tuple(b.cue(p, "preset", str(name_token)) for p in props),
                        span=span,
                        name_span=name_span,
                    )
                )

    location_by_name = {loc.name: loc for loc in locations}
    preset_by_name = {p.name: p for p in presets}
    scenes: list[Scene] = []
    shot_index = 0
    opening: Transition | None = between.get(0)
    for scene_number, tree in enumerate(scene_trees, start=1):
        if scene_cache is not None:
            made = scene_cache.scene(
                b, tree, scene_number, shot_index, location_by_name, preset_by_name
            )
        else:
            made = b.scene(tree, scene_number, shot_index, location_by_name, preset_by_name)
        for transition in made.leading:
            if scenes and scenes[-1].shots:
                scenes[-1] = _ending_with(scenes[-1], transition)
            elif shot_index == 0 and opening is None:
                opening = transition  # before the story's first shot
        scenes.append(made.scene)
        shot_index += len(made.scene.shots)
    if scene_cache is not None:
        scene_cache.forget_unused()

    for preceding, transition in between.items():
        if 1 <= preceding <= len(scenes) and scenes[preceding - 1].shots:
            scenes[preceding - 1] = _ending_with(scenes[preceding - 1], transition)
        elif opening is None and not any(scene.shots for scene in scenes[:preceding]):
            opening = transition  # between scenes that have no shots yet

    story = Story(
        path=file,
        header=b.header(header_pairs),
        cameos=tuple(cameos),
        characters=tuple(characters),
        locations=tuple(locations),
        presets=tuple(presets),
        scenes=tuple(scenes),
        opening=opening,
    )
    return story, b.diagnostics

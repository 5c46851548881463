"""Clip drafts to prompt text through Jinja2 templates (a writer's own ones sandboxed).

Pure apart from reading templates. Jinja2 works on the output side only: the story is
parsed as written, and a template sees plain values (no model objects, no methods).
A writer can point at their own template folder; it is searched before the shipped one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from functools import cache, lru_cache
from pathlib import Path
from weakref import WeakKeyDictionary

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, TemplateError, meta
from jinja2.sandbox import SandboxedEnvironment

from storyc.errors import StorycError
from storyc.language.cameo_views import view_paths
from storyc.language.model import NAME_REFERENCE, Story
from storyc.plan.capabilities import Offering
from storyc.plan.planner import ClipDraft, draft_avoid, shot_seconds
from storyc.plan.schema import display_name
from storyc.resources import templates_dir
from storyc.units import seconds_text

_PROMPT_KEYS = ("camera", "lens", "light", "action", "ambient", "sfx", "music", "grade", "mood")
"""The cues a template sees (`note` never)."""
_NO_CUES: dict[str, None] = dict.fromkeys(_PROMPT_KEYS)
"""A shot's cues before its own are filled in (the keys in `_PROMPT_KEYS` order)."""
_SHAREABLE = ("lens", "light", "grade", "mood", "ambient", "music")
"""Cues that describe the clip's place rather than one moment: when every shot of a packed
clip has the same one (a location's light, a preset's ambience), the clip states it once."""
_MENTION = re.compile(r"\ue000(\d+)\ue001")
"""A person named in a context value (`@name`), resolved once the template has run: so a
person is described where the prompt first names them, whatever order the template uses."""
_STRAY_MARK = re.compile(r"[\ue000\ue001]")
_SENTENCE_INSIDE = re.compile(r"(\w\w[.!?][\"')]? +)([a-z])")
"""A lower-case letter starting a sentence inside a cue (`She turns. the door opens`); the
two word characters before the stop leave abbreviations (`e.g. the`) alone."""


@lru_cache(maxsize=4096)
def _sentence_case(text: str) -> str:
    """A cue as the start of a sentence: its first letter (and each sentence's) upper-case.
    Cached: a long story repeats its cues (a preset's, a location's) in shot after shot."""
    text = _SENTENCE_INSIDE.sub(lambda m: m.group(1) + m.group(2).upper(), text)
    return text[:1].upper() + text[1:]


class TemplateProblem(StorycError):
    """A prompt template failed (a user template with a mistake, usually)."""


_ENVIRONMENT_OPTIONS = dict(
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    autoescape=False,
    keep_trailing_newline=False,
)


@cache
def template_environment(user_dir: str | None = None) -> Environment:
    """The environment templates are loaded from. A writer's folder (`--templates`) is
    searched first and everything is then sandboxed; the shipped templates alone are ours,
    trusted, and run in a plain environment (the sandbox checks every attribute access)."""
    if user_dir is None:
        # Installed files that do not change while storyc runs: no `stat` per clip to see
        # whether they did (a writer's folder is still watched, below).
        return Environment(
            loader=FileSystemLoader([str(templates_dir())]),
            auto_reload=False,
            **_ENVIRONMENT_OPTIONS,
        )
    return SandboxedEnvironment(
        loader=FileSystemLoader([user_dir, str(templates_dir())]), **_ENVIRONMENT_OPTIONS
    )


class _Values:
    """A context value as attributes: `shot.camera` is found by `getattr` at once, where a
    dict makes Jinja2 raise and catch an AttributeError before it tries `shot["camera"]`.
    Given to the shipped templates only; a writer's template sees the plain dicts."""

    __slots__ = ("__dict__",)

    def __init__(self, values: dict[str, object]):
        self.__dict__ = values

    def __bool__(self) -> bool:
        return bool(self.__dict__)


def _as_attributes(values: dict[str, object]) -> dict[str, object]:
    """The context with every nested dict (a shot, a dialogue line, `shared`) as `_Values`.
    Converted in place, not copied (thousands of clips): pass a context made for this
    render only."""
    for key, value in values.items():
        if type(value) in _NESTED:
            values[key] = _attribute_value(value)
    return values


_NESTED = (dict, list)


def _attribute_value(value: object) -> object:
    if type(value) is dict:
        return _Values(_as_attributes(value))
    if type(value) is list:
        for index, item in enumerate(value):
            if type(item) in _NESTED:
                value[index] = _attribute_value(item)
    return value


def element_tags(story: Story, offering: Offering, cameo_names: Sequence[str]) -> dict[str, str]:
    """The tag each cameo is called by in the prompt. Kling numbers its elements, one a
    cameo (`@Element1`, `@Element2`); Seedance numbers its images, so where a cameo sends its
    views too, it is called by its first image and the next cameo's number skips its views
    (`@Image1`, then `@Image3`)."""
    tags: dict[str, str] = {}
    number = 1
    for name in cameo_names:
        tags[name] = f"{offering.cameo_tag}{number}"
        cameo = story.cameo(name)
        views = len(view_paths(cameo)) if cameo and offering.cameo_mode == "image_urls" else 0
        number += 1 + views
    return tags


@lru_cache(maxsize=4096)
def _name_parts(text: str) -> tuple[str, ...]:
    """`text` split at its `@name`s: text, name, text, ..., text (the same cue is in shot
    after shot; its names are found once)."""
    return tuple(NAME_REFERENCE.split(text))


class _Cast:
    """Names the people of one clip as its model needs them, describing each once: where
    the rendered prompt first names them (`finish`), not where the context first met them."""

    def __init__(self, story: Story, offering: Offering, cameo_names: Sequence[str]):
        self.story = story
        self.people = story.declared_names()
        self.introduced: set[str] = set()
        self.voiced: set[str] = set()
        self.named: list[str] = []
        # Where the model names its reference images in the prompt (Kling's `@Element1`,
        # Seedance's `@Image1`), a cameo is called by its image's name.
        self.elements = (
            element_tags(story, offering, cameo_names)
            if offering.cameo_tag and offering.cameo_mode != "none"
            else {}
        )

    def display(self, name: str) -> str:
        """The name the model reads: its element tag, else the display name (as subtitles)."""
        return self.elements.get(name) or (display_name(name) if name in self.people else name)

    def mention(self, name: str) -> str:
        """A mark standing for the person until `finish` knows where they are first named."""
        if name not in self.named:
            self.named.append(name)
        return f"\ue000{self.named.index(name)}\ue001"

    def describe(self, name: str) -> str:
        person = self.people.get(name)
        shown = self.display(name)
        if person is None or name in self.introduced:
            return shown
        self.introduced.add(name)
        return f"{shown} ({person.look})" if person.look else shown

    def text(self, text: str) -> str:
        """`text` with each `@name` as the mark of that person (`mention`)."""
        if "@" not in text:  # most cues name nobody
            return text
        parts = list(_name_parts(text))
        for index in range(1, len(parts), 2):
            parts[index] = self.mention(parts[index])
        return "".join(parts)

    def finish(self, prompt: str) -> str:
        """The rendered prompt with each person named, described at their first mention."""
        if "\ue000" not in prompt and "\ue001" not in prompt:  # nobody named, nothing stray
            return prompt
        named = _MENTION.sub(lambda m: self.describe(self.named[int(m.group(1))]), prompt)
        if "\ue000" not in named and "\ue001" not in named:  # no stray mark (all but never)
            return named
        return _STRAY_MARK.sub("", named)

    def speaker(self, name: str) -> tuple[str, str | None]:
        """The speaker as named in a dialogue line, and their voice the first time."""
        person = self.people.get(name)
        shown = self.mention(name)
        if person is not None and person.voice and name not in self.voiced:
            self.voiced.add(name)
            return shown, person.voice
        return shown, None


def prompt_context(
    draft: ClipDraft,
    story: Story,
    offering: Offering,
    cast: _Cast | None = None,
    share: bool = True,
    attributes: bool = False,
) -> dict[str, object]:
    """The plain values a template sees for one clip. People are marks in them until
    `cast.finish` names them in the rendered prompt. Every cue and the style and setting
    start upper-case (each starts a sentence or follows a label in every template). With
    `share` (a template that reads `shared`), what every shot has alike is said once.
    With `attributes`, every nested dict is made a `_Values` as it is made (what
    `_as_attributes` would make of the context, without a second pass over it)."""
    cast = cast or _Cast(story, offering, draft.cameo_names)
    scene = story.scenes[draft.scene_index - 1]
    location = next((loc for loc in story.locations if loc.name == scene.location), None)
    look = scene.look or (location.look if location else None)  # the scene's own look wins
    shots = []
    offset = 0
    for number, shot in enumerate(draft.shots, start=1):
        values: dict[str, object] = {
            "number": number,
            "label": shot.label,
            "length": f"{seconds_text(shot.duration_ms)} s",
            "start": seconds_text(offset),
            "end": seconds_text(offset + shot.duration_ms),
            **_NO_CUES,
        }
        # Each key's texts joined with `; ` as they come (most keys have one text or none).
        written: list[str] = []
        for cue in shot.cues:
            text = cue.text
            key = cue.key
            if text and key in _NO_CUES:
                # Marked in cue order: a mark only stands for its person until `finish`,
                # which describes people in the order the prompt names them.
                if "@" in text:
                    text = cast.text(text)
                joined = values[key]
                if joined is None:
                    values[key] = text
                    written.append(key)
                else:
                    values[key] = f"{joined}; {text}"
        # Only the keys the shot has (most are absent: None, as the empty join would give).
        for key in written:
            values[key] = _sentence_case(values[key]) or None  # type: ignore[arg-type]
        dialogue = []
        for line in shot.dialogue:
            speaker, voice = cast.speaker(line.speaker)
            said = {
                "speaker": speaker,
                "voice": voice,
                "delivery": line.delivery,
                "text": line.text,
            }
            dialogue.append(_Values(said) if attributes else said)
        values["dialogue"] = dialogue
        shots.append(values)
        offset += shot.duration_ms
    # What every shot of a packed clip shares is said once, for the clip (`shared`).
    shared: dict[str, object] = dict.fromkeys(_PROMPT_KEYS)
    if share and len(shots) > 1:
        for key in _SHAREABLE:
            if shots[0][key] and all(values[key] == shots[0][key] for values in shots):
                shared[key] = shots[0][key]
                for values in shots:
                    values[key] = None
    return {
        "title": story.header.title,
        "style": _sentence_case(story.header.style) if story.header.style else None,
        "world": _sentence_case(cast.text(look)) if look else None,
        "shared": _Values(shared) if attributes else shared,
        "scene": draft.scene_title,
        "image_to_video": draft.input_reference is not None,
        "duration": seconds_text(draft.duration_ms),
        "model": offering.model,
        "shots": [_Values(values) for values in shots] if attributes else shots,
        # Where the model takes a negative prompt, `avoid:` goes there instead (the request).
        "avoid": None if offering.negative_prompt else draft_avoid(draft, story),
    }


def render_prompt(
    draft: ClipDraft, story: Story, offering: Offering, template_dir: Path | None = None
) -> str:
    """The clip's prompt. For a clip the model takes shot by shot (`shot_seconds`), each
    shot's own prompt is written too, into `draft.shot_prompts`."""
    text = _render(draft, story, offering, template_dir)
    # (`shot_seconds` is None for a model that takes no shots: not asked, most clips.)
    multi = offering.multi_shot and len(draft.shots) > 1
    if multi and shot_seconds([s.duration_ms for s in draft.shots], offering) is not None:
        draft.shot_prompts = render_shot_prompts(draft, story, offering, template_dir)
    return text


def render_shot_prompts(
    draft: ClipDraft, story: Story, offering: Offering, template_dir: Path | None = None
) -> list[str]:
    """Each shot's own prompt: the template run on the clip as if it held that shot alone
    (style and world in each; the start image for the first; cameos named as in the clip)."""
    return [
        _render(
            replace(
                draft,
                shots=[shot],
                input_reference=draft.input_reference if number == 0 else None,
                shot_prompts=[],
            ),
            story,
            offering,
            template_dir,
        )
        for number, shot in enumerate(draft.shots)
    ]


PromptCache = dict[tuple[object, ...], tuple[str, list[str]]]
"""Rendered prompts (and shot prompts) by `prompt_inputs`, kept by the language server."""


def story_prompt_inputs(story: Story, offering: Offering, template_dir: Path | None) -> tuple:
    """What of the story, besides a clip's own shots, can change any prompt: the header,
    the people (look, voice), the locations' looks, the model and the template folder.
    Keep it in step with `prompt_context` and `_Cast`: a value they read must be here or
    in `prompt_inputs`, or a cached prompt would be stale (`tests/test_incremental.py`
    compares cached and uncached analyses)."""
    people = tuple(
        (name, type(p).__name__, p.look, p.voice) for name, p in story.declared_names().items()
    )
    places = tuple((loc.name, loc.look) for loc in story.locations)
    return (repr(story.header), people, places, repr(offering), str(template_dir))


def prompt_inputs(draft: ClipDraft, story: Story) -> tuple:
    """What of one clip its prompt is made from (no spans, no indices: a clip that only
    moved renders the same). Paired with `story_prompt_inputs`."""
    scene = story.scenes[draft.scene_index - 1]
    shots = tuple(
        (
            shot.label,
            shot.duration_ms,
            tuple((cue.key, cue.text) for cue in shot.cues),
            tuple((line.speaker, line.delivery, line.text) for line in shot.dialogue),
        )
        for shot in draft.shots
    )
    return (
        draft.scene_title,
        scene.location,
        scene.look,
        draft.input_reference is not None,
        tuple(draft.cameo_names),
        shots,
    )


def render_prompts(
    drafts: Sequence[ClipDraft],
    story: Story,
    offering: Offering,
    template_dir: Path | None = None,
    cache: PromptCache | None = None,
) -> list[str]:
    """`render_prompt` for each draft; with `cache`, a clip whose inputs were rendered before
    (`prompt_inputs`) takes that text (and its shot prompts) instead. Entries not used by
    this call are dropped from `cache`, so it holds one story's prompts."""
    if cache is None:
        return [render_prompt(d, story, offering, template_dir) for d in drafts]
    common = story_prompt_inputs(story, offering, template_dir)
    used: PromptCache = {}
    prompts = []
    for draft in drafts:
        key = (common, prompt_inputs(draft, story))
        found = used.get(key) or cache.get(key)
        if found is None:
            text = render_prompt(draft, story, offering, template_dir)
            found = (text, list(draft.shot_prompts))
        else:
            draft.shot_prompts = list(found[1])
        used[key] = found
        prompts.append(found[0])
    cache.clear()
    cache.update(used)
    return prompts


_READS_SHARED: WeakKeyDictionary[Template, bool] = WeakKeyDictionary()


def _reads_shared(env: Environment, template: Template) -> bool:
    """Whether the template says `shared` (a template written before it existed keeps every
    cue in its shots, so nothing is lost). Known once per loaded template."""
    if template not in _READS_SHARED:
        source = (
            env.loader.get_source(env, template.name)[0] if env.loader and template.name else ""
        )
        _READS_SHARED[template] = "shared" in meta.find_undeclared_variables(env.parse(source))
    return _READS_SHARED[template]


_GLOBALS: WeakKeyDictionary[Template, dict[str, object]] = WeakKeyDictionary()


def _render_template(env: Environment, template: Template, values: dict[str, object]) -> str:
    """`template.render(values)`, the same text and the same errors, with the template's
    globals read into a dict once per template: `render` reads them out of a `ChainMap`
    for every clip, which was a quarter of the template's time."""
    found = _GLOBALS.get(template)
    if found is None:
        found = _GLOBALS[template] = dict(template.globals)
    # As `render` makes it: the globals, then the values over them (`shared`: used as is).
    context = template.new_context({**found, **values}, shared=True)
    try:
        return env.concat(template.root_render_func(context))  # type: ignore[attr-defined]
    except Exception:
        env.handle_exception()  # raises, as `render` does (tracebacks point at the template)
        raise  # not reached


def _template_problem(offering: Offering, line: int | None, what: str) -> TemplateProblem:
    return TemplateProblem(
        f"the `{offering.family}.j2` prompt template failed"
        + (f" at its line {line}" if line else "")
        + f": {what}",
        hint="check your template folder (--templates), or remove it to use the shipped ones",
    )


def _template_line(exc: BaseException, name: str) -> int | None:
    """The template's line an exception came from (Jinja2 rewrites the traceback so that
    the template's own frames carry its file name and line numbers)."""
    line = None
    trace = exc.__traceback__
    while trace is not None:
        if Path(trace.tb_frame.f_code.co_filename).name == name:
            line = trace.tb_lineno
        trace = trace.tb_next
    return line


def _render(draft: ClipDraft, story: Story, offering: Offering, template_dir: Path | None) -> str:
    env = template_environment(str(template_dir) if template_dir else None)
    try:
        template = env.get_template(f"{offering.family}.j2")
        cast = _Cast(story, offering, draft.cameo_names)
        # Attribute contexts for our own templates only: a writer's sees plain dicts.
        attributes = not isinstance(env, SandboxedEnvironment)
        shared = _reads_shared(env, template)
        values = prompt_context(draft, story, offering, cast, shared, attributes)
        text = cast.finish(_render_template(env, template, values))
    except TemplateError as exc:
        where = getattr(exc, "lineno", None)
        raise _template_problem(offering, where, str(exc.message or exc)) from exc
    except Exception as exc:
        if template_dir is None:
            raise  # our own template failing is storyc's bug: keep the traceback
        # A writer's template failing in Python (a filter given the wrong arguments, a
        # division by zero) is bad input like any other: a message, not a traceback.
        where = _template_line(exc, f"{offering.family}.j2")
        raise _template_problem(offering, where, f"{type(exc).__name__}: {exc}") from exc
    lines = [line.rstrip() for line in text.strip().split("\n")]
    joined = "\n".join(lines)
    # Runs of blank lines down to one, as `re.sub(r"\n{3,}", "\n\n", ...)` would, without
    # the regular expression's scan (as much time again as the rest of this).
    while "\n\n\n" in joined:
        joined = joined.replace("\n\n\n", "\n\n")
    return joined

"""Every rule's examples, run: the bad one raises the rule's code, the good one does not.

The examples in `storyc/check/catalog.py` are what `storyc rule CODE` prints and what
`docs/rules.md` shows writers, so they must be true. Most are fragments (a header line, a
shot, a cue); `example_story` gives them the smallest story that compiles around them, the
way `Setting` (the rule's `setting`) describes:

- the example is split into parts at `...` lines (a line starting with `...` stands for the
  rest of the story; any text after it is a note for the reader);
- each part goes where its first line says: indented by 8 or more (or a tab and more) into
  a shot, by 4 into a scene, at column 1 a `scene` into the scenes, a declaration
  (`cameo`, `character`, `location`, `preset`) into the declarations, anything else into
  the header;
- a line that opens a block (`scene ...:`, `shot ...:`, a declaration) shown without its
  body gets a one-line one, so `    shot 0s:` stands for a whole shot;
- the header gets `title: Example` and `model: sora-2` and the setting's `header` lines,
  each unless the example sets that key itself; the setting's `declare` lines join the
  declarations; a story with no scene of its own gets `scene "Example":`, and one with no
  shot of its own a shot whose action is `rain runs down the window.`;
- `\\xNN` in an example is the one raw byte NN (E010 shows a file saved as Latin-1).

A setting with `whole=True` runs the example as the whole file. `files` are made next to the
story (a `templates/` folder there is the story's prompt templates, as `--templates`), and
`example_file` writes the example itself to that file, with the default story around it.
`bad_run` and `good_run` are what runs where the example shown is words (a 2,400-character
prompt), and `row` changes the story's row of the model table, for a rule that guards rows
to come.

Besides its own code, an example may raise warnings about the parts it leaves out (an unused
cameo), but no syntax error: the examples are valid text apart from the mistake they show,
and the good one raises no error at all.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from storyc import frontend
from storyc.check.catalog import RULES, Rule, Setting
from storyc.check.diagnostics import Diagnostic
from storyc.plan.capabilities import CapabilityTable, load_table

DEFAULT_HEADER = "title: Example\nmodel: sora-2"
DEFAULT_ACTION = "rain runs down the window."
DECLARATIONS = ("cameo", "character", "location", "preset")
BODIES = {
    "scene": f"shot 4s:\n    action: {DEFAULT_ACTION}",
    "shot": f"action: {DEFAULT_ACTION}",
    "cameo": "look: a barista in a green apron",
    "character": "look: a barista in a green apron",
    "location": "look: a narrow corner cafe",
    "preset": "light: low golden-hour sun",
}
_COMMENT = re.compile(r"\s+#(\s.*)?$")
_BYTE = re.compile(rb"\\x([0-9a-fA-F]{2})")


def _indent(line: str) -> int:
    blank = line[: len(line) - len(line.lstrip(" \t"))]
    return len(blank.replace("\t", "    "))


def _code_lines(part: str) -> list[str]:
    return [line for line in part.split("\n") if line.strip() and not line.lstrip().startswith("#")]


def _opens_block(line: str) -> str | None:
    """The keyword of a line that opens a block (`shot 4s:`), else None."""
    code = _COMMENT.sub("", line).rstrip()
    words = code.split()
    return words[0] if code.endswith(":") and words and words[0] in BODIES else None


def _with_bodies(part: str) -> str:
    """`part`, with a one-line body under each line that opens a block shown without one."""
    lines = part.split("\n")
    out: list[str] = []
    for number, line in enumerate(lines):
        out.append(line)
        keyword = _opens_block(line) if line.strip() else None
        if keyword is None:
            continue
        following = _code_lines("\n".join(lines[number + 1 :]))
        if following and _indent(following[0]) > _indent(line):
            continue
        pad = " " * (_indent(line) + 4)
        out += [pad + body for body in BODIES[keyword].split("\n")]
    return "\n".join(out)


def _place(part: str) -> str:
    first = _code_lines(part)[0]
    depth = _indent(first)
    if depth >= 8:
        return "shot"
    if depth >= 4:
        return "scene"
    word = first.split()[0].rstrip(":")
    if word == "scene":
        return "scenes"
    if word in DECLARATIONS:
        return "declarations"
    return "header"


def _keys(lines: str) -> set[str]:
    return {line.split(":", 1)[0].strip() for line in lines.split("\n") if ":" in line}


def example_story(example: str, setting: Setting) -> str:
    """The story `example` runs in (see the module's docstring)."""
    if setting.whole:
        return example
    parts: dict[str, list[str]] = {}
    for part in re.split(r"(?m)^[ \t]*\.\.\..*(?:\n|$)", example):
        if _code_lines(part):
            parts.setdefault(_place(part), []).append(_with_bodies(part.strip("\n")))
    header = parts.get("header", [])
    own = _keys("\n".join(header))
    defaults = [
        line
        for line in f"{DEFAULT_HEADER}\n{setting.header}".split("\n")
        if line.strip() and line.split(":", 1)[0].strip() not in own
    ]
    # a setting's header line overrides the default one with its key
    chosen: dict[str, str] = {}
    for line in defaults:
        chosen[line.split(":", 1)[0].strip()] = line
    out = ["\n".join([*chosen.values(), *header])]
    declarations = [setting.declare.strip("\n")] if setting.declare.strip() else []
    declarations += parts.get("declarations", [])
    if declarations:
        out.append("\n\n".join(declarations))
    scenes = parts.get("scenes", [])
    in_scene = parts.get("scene", [])
    in_shot = parts.get("shot", [])
    if in_shot or in_scene or not scenes:
        body = list(in_scene)
        if in_shot or not in_scene:
            shot = f"    shot 4s:\n        action: {DEFAULT_ACTION}"
            body.insert(0, "\n".join([shot, *in_shot]))
        scenes = [*scenes, 'scene "Example":\n' + "\n".join(body)]
    out += scenes
    return "\n\n".join(out) + "\n"


def _make_file(folder: Path, path: str, what: str) -> None:
    from fakeprovider import make_mp4, make_png

    target = folder / path
    target.parent.mkdir(parents=True, exist_ok=True)
    kind, _, rest = what.partition(" ")
    if kind == "png":
        width, height = (int(n) for n in rest.split("x"))
        make_png(target, width, height)
    elif kind == "mp4":
        size = re.search(r"(\d+)x(\d+)", rest)
        seconds = re.search(r"(\d+)s\b", rest)
        width, height = (int(size[1]), int(size[2])) if size else (1280, 720)
        made = make_mp4(folder.parent / "media", width, height, int(seconds[1]) if seconds else 3)
        target.write_bytes(made.read_bytes())
    elif kind == "text":
        target.write_text(rest or "not an image\n", encoding="utf-8")
    elif kind == "folder":
        target.mkdir()
    elif kind == "link":
        target.symlink_to(rest)
    else:
        target.write_text(what, encoding="utf-8")


def _table_with(row: tuple[tuple[str, str], ...], model: str) -> CapabilityTable:
    """The model table with `model`'s rows changed by `row`."""
    table = load_table()
    changes = dict(row)
    return CapabilityTable(
        offerings=tuple(
            o.model_copy(update=changes) if o.model == model else o for o in table.offerings
        )
    )


def run_example(
    rule: Rule, which: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, list[Diagnostic]]:
    """The story around `rule`'s bad or good example, and what storyc reports for it."""
    setting = rule.setting
    example = getattr(setting, f"{which}_run") or getattr(rule, which)
    folder = tmp_path / "project"
    folder.mkdir()
    for path, what in setting.files:
        _make_file(folder, path, what)
    if setting.example_file:
        _make_file(folder, setting.example_file, example)
        text = example_story("", setting)
    else:
        text = example_story(example, setting)
    story = folder / "example.story"
    if setting.row:
        model = re.search(r"(?m)^model:\s*(\S+)", text)
        table = _table_with(setting.row, model[1] if model else "sora-2")
        monkeypatch.setattr(frontend, "load_table", lambda: table)
    story.write_bytes(_BYTE.sub(lambda m: bytes([int(m[1], 16)]), text.encode("utf-8")))
    templates = folder / "templates"
    compiled = frontend.compile_file(story, template_dir=templates if templates.is_dir() else None)
    return text, compiled.diagnostics


def _shown(text: str, diagnostics: list[Diagnostic]) -> str:
    found = "\n".join(f"  {d.span.line}:{d.span.column} {d.code} {d.message}" for d in diagnostics)
    return f"story:\n{text}\nreported:\n{found or '  nothing'}"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_the_bad_example_raises_its_code(
    rule: Rule, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text, diagnostics = run_example(rule, "bad", tmp_path, monkeypatch)
    assert rule.code in {d.code for d in diagnostics}, _shown(text, diagnostics)
    other_syntax = {d.code for d in diagnostics if d.code.startswith("E0")} - {rule.code}
    assert not other_syntax, _shown(text, diagnostics)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_the_good_example_does_not(
    rule: Rule, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text, diagnostics = run_example(rule, "good", tmp_path, monkeypatch)
    assert rule.code not in {d.code for d in diagnostics}, _shown(text, diagnostics)
    errors = [d for d in diagnostics if d.is_error]
    assert not errors, _shown(text, diagnostics)

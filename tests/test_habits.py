"""Screenplay habits: each gives exactly one diagnostic, with the right code on the right line,
and where the intent is clear a safe fix that `lint --fix` applies to a story that checks
clean (issue 12, item 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import storyc_main

from storyc.check.provider import FileFacts
from storyc.frontend import analyze_source
from storyc.tooling.lint import fix_source, lint_source


def no_files(_path: Path) -> FileFacts:
    return FileFacts(exists=False)


def analyze(source: str, file: str = "<story>", **kwargs: object) -> object:
    return analyze_source(source, file, read_facts=no_files, **kwargs)  # type: ignore[arg-type]


HEAD = """title: Dock
model: sora-2
size: 1280x720

character ines:
    look: a woman in her 60s, grey raincoat

location dock:
    look: a wooden dock on a black lake
    light: one sodium lamp
"""

SCENE = """
scene "Night" at dock:
    shot wide 4s:
        action: @ines waits by the water.
{between}
    shot close-up 4s:
        action: the ferry's light fades into the fog.
"""


def story(between: str = "", head: str = HEAD, scene: str = SCENE) -> str:
    return head + scene.format(between=between)


def test_the_base_story_checks_clean() -> None:
    assert lint_source(story(), "t.story", analyze=analyze).diagnostics == []


# (id, source, code, line, the fixed story or None when there is no safe fix)
# Line 13 is the first shot's header, 14 its action, 15 the line between the two shots.
HABITS: list[tuple[str, str, str, int, str | None]] = [
    (
        "NAME: line for a declared character",
        story('        INES: "It left."'),
        "S107",
        15,
        story('        @ines: "It left."'),
    ),
    (
        "NAME: line, the character's only mention",
        story('        INES: "It left."').replace("@ines waits", "someone waits"),
        "S107",
        15,
        story('        @ines: "It left."').replace("@ines waits", "someone waits"),
    ),
    (
        "NAME: unquoted line",
        story("        INES: It left."),
        "S107",
        15,
        story('        @ines: "It left."'),
    ),
    *[
        (
            f"duration `{written}`",
            story().replace("shot wide 4s:", f"shot wide {written}:"),
            "E008",
            13,
            story().replace("shot wide 4s:", "shot wide 5s:"),
        )
        for written in ("5 sec", "5 s", "5 seconds", "5sec", "5 secs", "5000 ms")
    ],
    (
        "duration without a label",
        story().replace("shot wide 4s:", "shot 4 s:"),
        "E008",
        13,
        story().replace("shot wide 4s:", "shot 4s:"),
    ),
    (
        "transition `crossfade 0.5 s`",
        story("    crossfade 0.5 s"),
        "E008",
        15,
        story("    crossfade 0.5s"),
    ),
    (
        "transition `cut crossfade 0.5 s`",
        story("    cut crossfade 0.5 s"),
        "E008",
        15,
        story("    cut crossfade 0.5s"),
    ),
    (
        "label `close up`",
        story().replace("shot close-up 4s:", "shot close up 4s:"),
        "E001",
        16,
        story(),
    ),
    (
        "label `extreme close up` with options",
        story().replace("shot close-up 4s:", "shot extreme close up 4s takes 2:"),
        "E001",
        16,
        story().replace("shot close-up 4s:", "shot extreme-close-up 4s takes 2:"),
    ),
    (
        "scene heading of a declared location",
        story().replace('scene "Night" at dock:', "INT. DOCK - NIGHT"),
        "E007",
        12,
        story(),
    ),
    (
        "scene heading of an undeclared location",
        story().replace('scene "Night" at dock:', "EXT. OLD PIER - DAWN"),
        "E007",
        12,
        None,
    ),
    ("`CUT TO:`", story("    CUT TO:"), "E001", 15, story("    cut")),
    ("`SMASH CUT TO:`", story("    SMASH CUT TO:"), "E001", 15, story("    cut")),
    ("`FADE OUT.`", story("    FADE OUT."), "E001", 15, None),
    (
        "escaped quotes",
        story('        @ines: "He said \\"no\\""'),
        "E001",
        15,
        story("        @ines: \"He said 'no'\""),
    ),
    (
        "`takes: 2` in a shot's body",
        story().replace("@ines waits by the water.", "@ines waits.\n        takes: 2"),
        "S107",
        15,
        story()
        .replace("shot wide 4s:", "shot wide 4s takes 2:")
        .replace("@ines waits by the water.", "@ines waits."),
    ),
    (
        "`Title:`",
        story().replace("title: Dock", "Title: Dock"),
        "S107",
        1,
        story(),
    ),
    (
        "`size: 1280 x 720`",
        story().replace("1280x720", "1280 x 720"),
        "S113",
        3,
        story(),
    ),
]


@pytest.mark.parametrize(
    ("source", "code", "line", "fixed"),
    [case[1:] for case in HABITS],
    ids=[case[0] for case in HABITS],
)
def test_each_habit_is_one_diagnostic_with_its_fix(
    source: str, code: str, line: int, fixed: str | None
) -> None:
    found = lint_source(source, "t.story", analyze=analyze).diagnostics
    assert [(d.code, d.span.line) for d in found] == [(code, line)], [d.message for d in found]
    (diagnostic,) = found
    assert diagnostic.help
    outcome = fix_source(source, "t.story", analyze=analyze)
    if fixed is None:
        assert diagnostic.fix is None or not diagnostic.fix.safe
        assert outcome.source == source
        return
    assert diagnostic.fix is not None and diagnostic.fix.safe
    assert outcome.source == fixed
    assert lint_source(outcome.source, "t.story", analyze=analyze).diagnostics == []


def test_the_messages_say_how_storyc_writes_it() -> None:
    def message(source: str) -> str:
        (d,) = lint_source(source, "t.story", analyze=analyze).diagnostics
        return f"{d.message} | {d.help}"

    assert "`@ines:`" in message(story('        INES: "It left."'))
    assert "`5s`" in message(story().replace("shot wide 4s:", "shot wide 5 sec:"))
    assert "`close-up`" in message(story().replace("shot close-up 4s:", "shot close up 4s:"))
    heading = message(story().replace('scene "Night" at dock:', "INT. DOCK - NIGHT"))
    assert 'scene "Night" at dock:' in heading
    undeclared = message(story().replace('scene "Night" at dock:', "EXT. OLD PIER - DAWN"))
    assert "location old_pier:" in undeclared and 'scene "Dawn" at old_pier:' in undeclared
    assert "`cut fade 1s`" in message(story("    FADE OUT."))
    assert "typographic" in message(story('        @ines: "He said \\"no\\""'))
    assert "shot 4s takes 2:" in message(story("        takes: 2"))


def test_fade_out_has_an_unsafe_fix_with_a_length() -> None:
    source = story("    FADE OUT.")
    outcome = fix_source(source, "t.story", unsafe=True, analyze=analyze)
    assert outcome.source == story("    cut fade 1s")
    assert lint_source(outcome.source, "t.story", analyze=analyze).diagnostics == []


def test_lint_fix_on_the_command_line_fixes_several_habits(tmp_path: Path) -> None:
    path = tmp_path / "dock.story"
    source = (
        story('        INES: "It left."\n    CUT TO:')
        .replace("Title", "title")
        .replace("title: Dock", "Title: Dock")
        .replace("shot wide 4s:", "shot wide 4 seconds:")
        .replace("shot close-up 4s:", "shot close up 4s:")
    )
    path.write_text(source, encoding="utf-8")
    ran = storyc_main(["lint", "--fix", str(path)], cwd=tmp_path)
    assert ran.returncode == 0, ran.output
    assert path.read_text(encoding="utf-8") == story('        @ines: "It left."\n    cut')
    assert storyc_main(["check", str(path)], cwd=tmp_path).returncode == 0

"""Tabs never change what a story means behind the writer's back (issue 12, item 4): `fmt`
refuses a file with a tab in its indentation (how deep a tab stands is a guess), and the
E002 fix of `lint --fix` indents each such line by the depth of its block, so the fixed
story compiles to what the writer meant, whatever width their editor gives a tab."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import storyc_main
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storyc.language.parse import parse_story
from storyc.tooling.fmt import FormatError, format_story, meaning
from storyc.tooling.lint import fix_source


def test_a_tab_indented_action_under_a_shot_goes_into_the_shot() -> None:
    source = 'title: T\n\nscene "S":\n    shot 4s:\n\taction: a cat sleeps.\n'
    (tab,) = parse_story(source).diagnostics
    assert (tab.code, tab.span.line) == ("E002", 5)
    fixed = fix_source(source).source
    assert fixed == 'title: T\n\nscene "S":\n    shot 4s:\n        action: a cat sleeps.\n'
    assert parse_story(fixed).diagnostics == []


def test_the_tab_fix_follows_the_files_indent_unit() -> None:
    source = (
        'title: T\n\nscene "S":\n  shot 4s:\n\taction: a cat sleeps.\n  shot 2s:\n\t\tsfx: a bell\n'
    )
    fixed = fix_source(source).source
    assert fixed == (
        'title: T\n\nscene "S":\n  shot 4s:\n    action: a cat sleeps.\n'
        "  shot 2s:\n    sfx: a bell\n"
    )


def test_fmt_refuses_tabs_on_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "t.story"
    source = 'title: T\n\nscene "S":\n    shot 4s:\n\taction: a cat sleeps.\n'
    path.write_text(source, encoding="utf-8")
    ran = storyc_main(["fmt", str(path)], cwd=tmp_path)
    assert ran.returncode == 2, ran.output
    assert "a tab in the indentation" in ran.output and "lint --fix" in ran.output
    assert path.read_text(encoding="utf-8") == source
    assert storyc_main(["lint", "--fix", str(path)], cwd=tmp_path).returncode in (0, 1)
    assert "\t" not in path.read_text(encoding="utf-8")
    assert storyc_main(["fmt", str(path)], cwd=tmp_path).returncode == 0


WORDS = st.sampled_from(["a", "cat", "rain", "slow", "dolly", "warm", "@mara", "café"])
TEXT = st.lists(WORDS, min_size=1, max_size=4).map(" ".join)
TABS = st.sampled_from(["\t", "per level", "    \t", "\t    "])
"""How a writer's editor put a tab in: one tab whatever the depth, one tab per level, or
a tab mixed with spaces."""


@st.composite
def stories_with_tabs(draw: st.DrawFn) -> tuple[str, str]:
    """(a valid story indented with four spaces, the same story with tabs mixed in)."""
    lines: list[tuple[int, str]] = [(0, "title: Tabs"), (0, "model: sora-2")]
    lines += [(0, ""), (0, "character mara:"), (1, f"look: {draw(TEXT)}")]
    lines += [(0, ""), (0, "preset golden:"), (1, f"light: {draw(TEXT)}")]
    for s in range(draw(st.integers(1, 2))):
        lines += [(0, ""), (0, f'scene "S{s}":')]
        if draw(st.booleans()):
            lines.append((1, f"ambient: {draw(TEXT)}"))
        for k in range(draw(st.integers(1, 3))):
            option = " with golden" if draw(st.booleans()) else ""
            lines.append((1, f"shot {draw(st.sampled_from(['', 'wide ']))}4s{option}:"))
            lines.append((2, "action: @mara waits."))
            for key in draw(st.lists(st.sampled_from(["camera", "sfx", "note"]), unique=True)):
                lines.append((2, f"{key}: {draw(TEXT)}"))
            if draw(st.booleans()):
                lines.append((2, '@mara (quietly): "Hi."'))
            if k < 2 and draw(st.integers(0, 3)) == 0:
                lines.append((1, "cut crossfade 0.5s"))
    spaces = "\n".join("    " * depth + text for depth, text in lines) + "\n"
    tabbed: list[str] = []
    for depth, text in lines:
        if depth and draw(st.booleans()):
            how = draw(TABS)
            indent = "\t" * depth if how == "per level" else how
            tabbed.append(indent + text)
        else:
            tabbed.append("    " * depth + text)
    return spaces, "\n".join(tabbed) + "\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stories_with_tabs())
def test_tabs_never_change_what_a_story_compiles_to(pair: tuple[str, str]) -> None:
    spaces, tabbed = pair
    if "\t" not in tabbed:
        assert format_story(tabbed) == format_story(spaces)
        return
    with pytest.raises(FormatError, match="a tab in the indentation"):
        format_story(tabbed)
    fixed = fix_source(tabbed).source
    assert [d.code for d in parse_story(fixed).diagnostics] == []
    assert meaning(fixed) == meaning(spaces)
    assert format_story(fixed) == format_story(spaces)

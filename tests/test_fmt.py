"""`storyc fmt`: the canonical layout, and its three safety checks (same model, stable,
every comment kept) over every example and over generated stories."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import storyc.tooling.fmt as fmt
from storyc.cli import app
from storyc.errors import StorycError
from storyc.language.parse import parse_story
from storyc.tooling.fmt import FormatError, format_checked, format_story, safety_problems

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.story"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_passes_the_three_checks(path: Path) -> None:
    source = path.read_text()
    formatted = format_story(source)
    assert safety_problems(source, formatted) == []
    assert format_story(formatted) == formatted


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_is_already_canonical(path: Path) -> None:
    assert format_story(path.read_text()) == path.read_text()


MESSY = """\


# A comment at the top.

title:Morning   Brew
model :  sora-2
style: warm,  grainy   # keeps its inner spaces

character   mara :   # the barista
  look:  a barista in a green apron
  # end of mara

scene "Opening"  :
  light: warm
  shot  wide   4s   seed 7:
      camera: slow dolly in

      # what happens
      action: @mara opens the door.  # early
      @mara ( quietly ) :  "Hi there # not a comment"
      # still in the first shot
  # about the second shot
  shot 2s:
      action: take#2 of @mara
  cut   crossfade  0.5s
  shot 2s:
      action: she leaves
"""

CANONICAL = """\
# A comment at the top.

title: Morning   Brew
model: sora-2
style: warm,  grainy  # keeps its inner spaces

character mara:  # the barista
    look: a barista in a green apron
    # end of mara

scene "Opening":
    light: warm

    shot wide 4s seed 7:
        camera: slow dolly in
        # what happens
        action: @mara opens the door.  # early
        @mara (quietly): "Hi there # not a comment"
        # still in the first shot

    # about the second shot
    shot 2s:
        action: take#2 of @mara

    cut crossfade 0.5s

    shot 2s:
        action: she leaves
"""


def test_the_canonical_layout() -> None:
    assert format_checked(MESSY) == CANONICAL


def test_tabs_are_refused() -> None:
    # How deep a tab stands is a guess (here the action would become a scene cue after the
    # last shot): `fmt` refuses, and `lint --fix` indents by the block (tests/test_tabs.py).
    source = 'title: T\nscene "S":\n    shot 4s:\n\taction: a cat sleeps.\n'
    with pytest.raises(FormatError, match=r"line 4: a tab in the indentation.*lint --fix"):
        format_checked(source)


def test_a_story_that_does_not_parse_is_refused() -> None:
    with pytest.raises(FormatError, match="line 4: expected `:` after `camera`"):
        format_story('title: T\nscene "S":\n    shot 4s:\n        camera slow\n')


def test_each_failed_check_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    real = fmt.format_story
    monkeypatch.setattr(fmt, "format_story", lambda s: real(s).replace("# the barista", ""))
    with pytest.raises(FormatError, match="comment check failed: `# the barista` would be lost"):
        format_checked(MESSY)
    # Adds a blank line at the end, and takes it away the next time.
    monkeypatch.setattr(
        fmt, "format_story", lambda s: real(s) + ("" if s.endswith("\n\n") else "\n")
    )
    with pytest.raises(FormatError, match="stability check failed"):
        format_checked(MESSY)
    monkeypatch.setattr(fmt, "format_story", lambda s: real(s).replace("slow dolly", "fast dolly"))
    with pytest.raises(FormatError, match="model check failed"):
        format_checked(MESSY)


# -- generated stories -------------------------------------------------------------------------

WORDS = st.sampled_from(
    [
        "a",
        "cat",
        "rain",
        "slow",
        "dolly",
        "warm",
        "light",
        "take#2",
        "x#",
        '"quoted # text"',
        "@mara",
        "@mara's",
        "50%",
        "(aside)",
        "—",
        "café",
    ]
)
TEXT = st.lists(WORDS, min_size=1, max_size=5).map(" ".join)
COMMENT = st.sampled_from(["# note", "# TODO: fix", "#", "# storyc: ignore[S101]", "# ---"])


@st.composite
def messy_stories(draw: st.DrawFn) -> str:
    """A valid story written carelessly: any indent unit, spaces around colons, blank
    lines and comments anywhere they may stand."""
    unit = draw(st.sampled_from(["  ", "   ", "    ", "\t"]))
    lines: list[str] = []

    def gap() -> None:
        lines.extend([""] * draw(st.integers(0, 2)))
        if draw(st.integers(0, 5)) == 0:
            lines.append(unit * draw(st.integers(0, 2)) + draw(COMMENT))

    def line(depth: int, text: str) -> None:
        gap()
        tail = f"  {draw(COMMENT)}" if draw(st.integers(0, 6)) == 0 else ""
        lines.append(unit * depth + text + tail)

    def pair(depth: int, key: str) -> None:
        space = draw(st.sampled_from(["", " "]))
        after = draw(st.sampled_from([" ", "  ", ""]))
        line(depth, f"{key}{space}:{after}{draw(TEXT)}")

    line(0, f"title: {draw(TEXT)}")
    if draw(st.booleans()):
        line(0, f"model: {draw(st.sampled_from(['sora-2', 'sora-2-pro', 'veo-3']))}")
    names = draw(st.lists(st.sampled_from(["mara", "kid", "june"]), unique=True, max_size=2))
    for name in names:
        line(0, f"character {name}:")
        pair(1, "look")
    presets = ["golden"] if draw(st.booleans()) else []
    for preset in presets:
        line(0, f"preset {preset}:")
        pair(1, "light")
    for s in range(draw(st.integers(1, 3))):
        line(0, f'scene "Scene {s}"  :' if draw(st.booleans()) else f'scene "Scene {s}":')
        if draw(st.booleans()):
            pair(1, "ambient")
        for k in range(draw(st.integers(1, 3))):
            label = draw(st.sampled_from(["", "wide ", "close-up ", "pov "]))
            duration = draw(st.sampled_from(["4s", "3.5s", "1500ms", "0:02", "8s"]))
            option = f" with {presets[0]}" if presets and draw(st.booleans()) else ""
            seed = f"  seed {draw(st.integers(1, 99))}" if draw(st.booleans()) else ""
            line(1, f"shot  {label}{duration}{option}{seed}:")
            for key in draw(
                st.lists(
                    st.sampled_from(["camera", "light", "action", "sfx"]),
                    min_size=1,
                    max_size=3,
                    unique=True,
                )
            ):
                pair(2, key)
            for name in names[: draw(st.integers(0, len(names)))]:
                delivery = draw(st.sampled_from(["", " (quietly)", " ( softly )"]))
                line(2, f'@{name}{delivery}:  "{draw(TEXT).replace(chr(34), "")}"')
            if draw(st.integers(0, 3)) == 0 and k < 2:
                line(1, draw(st.sampled_from(["cut", "cut crossfade 0.5s", "cut   fade 1s"])))
    gap()
    return "\n".join(lines) + draw(st.sampled_from(["\n", "", "\n\n"]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messy_stories())
def test_generated_stories_pass_the_three_checks(source: str) -> None:
    codes = [d.code for d in parse_story(source).diagnostics]
    assert [code for code in codes if code != "E002"] == []
    if "E002" in codes:
        with pytest.raises(FormatError, match="a tab in the indentation"):
            format_story(source)
        return
    formatted = format_story(source)
    assert safety_problems(source, formatted) == []
    assert format_story(formatted) == formatted


# -- the command -------------------------------------------------------------------------------

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    if isinstance(result.exception, StorycError):
        return result.exception.exit_code, result.output + result.exception.message
    return result.exit_code, result.output


def test_fmt_rewrites_in_place(tmp_path: Path) -> None:
    path = tmp_path / "x.story"
    path.write_text(MESSY)
    assert run("fmt", str(path))[0] == 0
    assert path.read_text() == CANONICAL


def test_fmt_keeps_windows_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "x.story"
    path.write_bytes(MESSY.replace("\n", "\r\n").encode())
    assert run("fmt", str(path))[0] == 0
    assert path.read_bytes() == CANONICAL.replace("\n", "\r\n").encode()


def test_fmt_check_and_diff_write_nothing(tmp_path: Path) -> None:
    path = tmp_path / "x.story"
    path.write_text(MESSY)
    code, output = run("fmt", str(path), "--check")
    assert code == 1 and "would reformat" in output
    code, output = run("fmt", str(path), "--diff")
    assert code == 1 and "+    shot wide 4s seed 7:" in output
    assert path.read_text() == MESSY
    canonical = tmp_path / "y.story"
    canonical.write_text(CANONICAL)
    assert run("fmt", str(canonical), "--check")[0] == 0


def test_fmt_refuses_a_broken_file_and_says_why(tmp_path: Path) -> None:
    path = tmp_path / "x.story"
    broken = 'title: T\nscene "S":\n    shot 4s:\n        camera slow\n'
    path.write_text(broken)
    code, output = run("fmt", str(path))
    assert code == 2
    assert "expected `:` after `camera`" in output and "fix the syntax first" in output
    assert path.read_text() == broken

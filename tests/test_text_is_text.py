"""Text from stories, file names and providers is printed as text by every command.

rich reads plain strings as markup: before, a scene called `[/b]` made `storyc plan` crash,
`[bold]` in a title turned bold and an ESC in a story reached the terminal. Each command
runs here (in this process, through `storyc.cli.main`; once through the console script in a
subprocess) on stories and file names full of markup-like text and escape sequences: no
traceback, the text shows exactly as typed, and no raw ESC comes out (output that is not a
terminal carries no colour codes, so any ESC would be the story's).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from cli_support import Ran, cli_overrides, storyc_main
from fakeprovider import FakeProvider
from fakeprovider.testing import FAST, StoryShot, cli_env, write_story
from fakeprovider.testing import storyc as run_storyc

from storyc.check.diagnostics import Diagnostic, Severity, render_full
from storyc.language.model import Span
from storyc.terminal import labelled, markup_safe, plain, visible

ESC = "\x1b[31m"
SPELLED_ESC = "\\x1b[31m"
LINK = "[link=file:///etc/passwd]y[/link]"
NAME = "a[/].story"
"""A story in the folder `a[`: its path as typed on the command line is `a[/].story`."""

GOOD = f"""title: [bold]x[/bold] [/] {LINK} {ESC}red :smile:
model: sora-2
provider: preview
size: 1280x720

scene "[/b]":
    shot one 2s:
        action: a cat [/] sits [bold]x[/bold] {ESC}
"""
BAD = (
    GOOD
    + f"""        [bold]x[/bold] [/] {ESC}z
        camra: [/] {LINK}
"""
)
"""GOOD plus two broken lines (9: a syntax error quoting `[bold]x[/bold]`, 10: a typo)."""

# The film only needs the preview: the fake provider is for the provider-message case.
FAKE_MEDIA = ((1280, 720, 4),)


def storyc(args: list[str], cwd: Path, **env: str) -> Ran:
    """`storyc ARGS` in this process, as the console script runs it (see cli_support)."""
    return storyc_main(args, cwd=cwd, env=cli_overrides(cwd / "cache", columns=300, **env))


def assert_printed_as_text(
    run: Ran | subprocess.CompletedProcess[str], code: int, *literals: str
) -> None:
    out = run.stdout + run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == code, out
    assert "\x1b" not in out, "an escape sequence from the story reached the terminal"
    for literal in literals:
        assert literal in out, f"{literal!r} not printed as typed:\n{out}"


def story_at(tmp_path: Path, text: str, name: str = NAME) -> str:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return name


CASES = [
    # (id, arguments after the story, story, exit status, what must show as typed)
    (
        "check",
        ["check", NAME],
        BAD,
        1,
        ["unexpected `[bold]x[/bold]`", f"{NAME}:9:9", "[/]", LINK, SPELLED_ESC],
    ),
    ("check-concise", ["check", "--format", "concise", NAME], BAD, 1, [f"{NAME}:9:9: E001"]),
    ("lint", ["lint", NAME], BAD, 1, ["`[bold]x[/bold]`", f"{NAME}:10:9", SPELLED_ESC]),
    ("lint-github", ["lint", "--format", "github", NAME], BAD, 1, ["`[bold]x[/bold]`"]),
    ("fmt-check-broken", ["fmt", "--check", NAME], BAD, 2, [f"{NAME}: line 9", "[bold]x[/bold]"]),
    ("fmt-check", ["fmt", "--check", NAME], GOOD.replace("title: ", "title:   "), 1, [NAME]),
    ("plan", ["plan", NAME], GOOD, 0, ["[bold]x[/bold] [/]", LINK, SPELLED_ESC, ":smile:"]),
    ("plan-scene", ["plan", NAME], GOOD, 0, ["│ [/b] "]),
    ("plan-broken", ["plan", NAME], BAD, 1, [f"{NAME} has 2 errors", "`[bold]x[/bold]`"]),
    ("compile", ["compile", NAME, "-o", "out"], GOOD, 0, ["[bold]x[/bold] [/]", "[/b]"]),
    ("render", ["render", NAME, "--provider", "preview"], GOOD, 0, [f"{NAME}:7"]),
    ("board", ["board", NAME], GOOD, 0, [str(Path("build", "]", "board.html"))]),
    ("pick", ["pick", NAME, "one", "1"], GOOD, 0, [f"{NAME}.lock"]),
    ("pick-unknown", ["pick", NAME, "[bold]x[/bold]", "1"], GOOD, 1, ["`[bold]x[/bold]`"]),
    ("rule", ["rule", "[/]"], None, 2, ["no rule is called `[/]`"]),
    ("missing-file", ["check", "b[/b].story"], None, 2, ["b[/b].story: no such file"]),
]


@pytest.mark.parametrize(
    ("args", "story", "code", "literals"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_every_command_prints_markup_and_escapes_as_text(
    tmp_path: Path, args: list[str], story: str | None, code: int, literals: list[str]
) -> None:
    if story is not None:
        story_at(tmp_path, story)

    assert_printed_as_text(storyc(args, tmp_path), code, *literals)


def test_the_console_script_prints_markup_and_escapes_as_text(tmp_path: Path) -> None:
    """The same as the first case, through a real process writing to a pipe."""
    _, args, story, code, literals = CASES[0]
    story_at(tmp_path, story)

    run = run_storyc(args, cli_env(tmp_path / "cache", columns=300), tmp_path, timeout=180)

    assert_printed_as_text(run, code, *literals)


def test_build_prints_markup_and_escapes_as_text(tmp_path: Path) -> None:
    story_at(tmp_path, GOOD)

    run = storyc(["build", NAME, "--provider", "preview"], tmp_path)

    assert_printed_as_text(run, 0, f"{Path('build', ']', '].mp4')}")
    assert (tmp_path / "build" / "]" / "].mp4").is_file()


def test_a_file_name_with_an_escape_sequence_is_spelled_out(tmp_path: Path) -> None:
    name = story_at(tmp_path, BAD, f"x{ESC}.story")

    run = storyc(["check", name], tmp_path)

    assert_printed_as_text(run, 1, f"x{SPELLED_ESC}.story:9:9")


def test_a_provider_message_with_markup_is_reported_as_typed(
    fake: FakeProvider, tmp_path: Path
) -> None:
    said = f"blocked [/] [bold]x[/bold] {LINK} {ESC}"
    fake.faults.moderation_message = said
    write_story(
        tmp_path / "spot.story",
        provider="openai",
        model="sora-2",
        shots=[
            StoryShot("REJECT-JOB a crowd cheers in the square", 4),
            StoryShot("FAIL-JOB a dog chases a ball", 4),
        ],
    )
    env = fake.env() | FAST | {"NO_COLOR": "1", "COLUMNS": "200"}

    run = storyc(["render", "spot.story", "--yes", "-o", "out"], tmp_path, **env)

    assert_printed_as_text(run, 1, "blocked [/] [bold]x[/bold]", LINK, SPELLED_ESC)
    assert run.stderr.count("[bold]x[/bold]") >= 2  # in the summary and in the errors


# --- the helpers themselves ------------------------------------------------------------------


def test_visible_spells_controls_but_keeps_tabs_newlines_and_text() -> None:
    assert visible("a\x00b\x1b[31mc\x7f\x9bd\te\nf é") == "a\\x00b\\x1b[31mc\\x7f\\x9bd\te\nf é"


def test_plain_and_labelled_are_never_parsed_as_markup() -> None:
    from rich.console import Console

    console = Console(file=open(os.devnull, "w"), width=200, record=True)  # noqa: SIM115
    console.print(labelled("error:", "red", "[/] [bold]x[/bold] :smile:"))
    console.print(plain("[/b]"))
    console.print(f"[red]{markup_safe('[/] [bold]y[/bold]')}[/]")
    assert console.export_text() == "error: [/] [bold]x[/bold] :smile:\n[/b]\n[/] [bold]y[/bold]\n"


def test_the_caret_stays_under_its_text_after_controls_are_spelled() -> None:
    source = "title: a\x00b\x1bc here"
    diagnostic = Diagnostic(
        code="E001",
        name="syntax-error",
        severity=Severity.ERROR,
        message="m",
        span=Span.point(1, 14, 4),
        file="f.story",
    )

    shown = render_full(diagnostic, source).split("\n")

    line, caret = shown[3], shown[4]
    assert line == "1 | title: a\\x00b\\x1bc here"
    assert line[caret.index("^") : caret.index("^") + len(caret.strip(" |"))] == "here"

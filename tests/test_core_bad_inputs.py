"""A table of bad inputs: each gives the expected code on the expected line, no traceback.

The table runs through the library and through `storyc check` in this process
(`cli_support.storyc_main`); two cases run the installed console script in a subprocess.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_support import storyc_main
from fakeprovider import make_png

from storyc.check.provider import FileFacts
from storyc.frontend import analyze_source

HEAD = 'title: T\nscene "S":\n    shot 4s:\n        action: a cat sleeps.\n'


def facts(path: Path) -> FileFacts:
    """Pretend files: `ok.png` is 1280x720, `square.png` 1024x1024, `long.mp4` 10 s."""
    name = path.name
    if name == "ok.png":
        return FileFacts(exists=True, sha256="a" * 64, kind="image", width=1280, height=720)
    if name == "square.png":
        return FileFacts(exists=True, sha256="b" * 64, kind="image", width=1024, height=1024)
    if name == "long.mp4":
        return FileFacts(
            exists=True, sha256="c" * 64, kind="video", width=1280, height=720, duration_ms=10_000
        )
    if name == "ok.mp4":
        return FileFacts(
            exists=True, sha256="d" * 64, kind="video", width=1280, height=720, duration_ms=3000
        )
    return FileFacts(exists=False)


CASES: list[tuple[str, str, str, int]] = [
    # (id, source, code, line)
    ("empty file", "", "E004", 1),
    ("only blank lines", "\n\n   \n", "E004", 1),
    ("tab in indentation", 'title: T\nscene "S":\n\tshot 4s:\n\t\taction: x\n', "E002", 3),
    (
        "unterminated dialogue quote",
        HEAD + '        @kid: "hello\ncharacter kid:\n    look: a boy\n',
        "E003",
        5,
    ),
    (
        "unterminated title quote",
        'title: T\nscene "Opening:\n    shot 4s:\n        action: x\n',
        "E003",
        2,
    ),
    (
        "misspelled cue key",
        'title: T\nscene "S":\n    shot 4s:\n        camra: dolly in\n        action: x\n',
        "S107",
        4,
    ),
    (
        "misspelled block keyword",
        'title: T\nscene "S":\n    shoot wide 4s:\n        action: x\n',
        "E007",
        3,
    ),
    (
        "missing colon on a cue",
        'title: T\nscene "S":\n    shot 4s:\n        camera dolly in\n        action: x\n',
        "E006",
        4,
    ),
    (
        "missing colon on a block",
        'title: T\nscene "S"\n    shot 4s:\n        action: x\n',
        "E006",
        2,
    ),
    (
        "shot without duration",
        'title: T\nscene "S":\n    shot wide:\n        action: x\n',
        "E008",
        3,
    ),
    (
        "malformed duration",
        'title: T\nscene "S":\n    shot wide 4sec:\n        action: x\n',
        "E008",
        3,
    ),
    (
        "unquoted dialogue",
        HEAD + "        @kid: hello\ncharacter kid:\n    look: a boy\n",
        "E009",
        5,
    ),
    ("dedent to nowhere", HEAD + "      sfx: a bell\n", "E005", 5),
    ("indented header line", "title: T\n    model: sora-2\n", "E005", 2),
    (
        "undeclared name",
        'title: T\nscene "S":\n    shot 4s:\n        action: @ghost walks.\n',
        "S101",
        4,
    ),
    ("unused cameo", 'title: T\ncameo mara: "ok.mp4"\n' + HEAD[9:], "S102", 2),
    ("unused character", "title: T\ncharacter kid:\n    look: a boy\n" + HEAD[9:], "S103", 2),
    (
        "duplicate character",
        "title: T\ncharacter kid:\ncharacter kid:\n" + HEAD[9:].replace("a cat", "@kid"),
        "S106",
        3,
    ),
    (
        "unknown preset",
        'title: T\nscene "S":\n    shot 4s with gold:\n        action: x\n',
        "S110",
        3,
    ),
    (
        "unknown location",
        'title: T\nscene "S" at cafe:\n    shot 4s:\n        action: x\n',
        "S111",
        2,
    ),
    ("missing title", 'model: sora-2\nscene "S":\n    shot 4s:\n        action: x\n', "S109", 1),
    ("duplicate header key", "title: T\ntitle: U\n" + HEAD[9:], "S108", 2),
    ("header fps not a number", "title: T\nfps: fast\n" + HEAD[9:], "S113", 2),
    ("cue key in the header", "title: T\ncamera: wide\n" + HEAD[9:], "S107", 2),
    ("unknown model", "title: T\nmodel: sora-3\n" + HEAD[9:], "P201", 2),
    ("unknown provider", "title: T\nprovider: pika\n" + HEAD[9:], "P202", 2),
    (
        "model not on provider",
        "title: T\nmodel: kling-3-pro\nprovider: openai\n" + HEAD[9:],
        "P203",
        3,
    ),
    ("size the model refuses", "title: T\nsize: 1920x1080\n" + HEAD[9:], "P204", 2),
    ("aspect the model refuses", "title: T\naspect: 1:1\n" + HEAD[9:], "P204", 2),
    ("shot too long", 'title: T\nscene "S":\n    shot 15s:\n        action: x\n', "P205", 3),
    (
        "shot seed out of range",
        'title: T\nscene "S":\n    shot 4s seed 0:\n        action: x\n',
        "S113",
        3,
    ),
    ("seed on a provider without seeds", "title: T\nseed: 7\n" + HEAD[9:], "P206", 2),
    (
        "prompt too long",
        "title: T\nmodel: veo-3.1-fast\nprovider: fal\n"
        'scene "S":\n    shot 4s:\n        action: ' + "a long description " * 120 + "\n",
        "P207",
        5,
    ),
    (
        "sound on a silent provider",
        "title: T\nprovider: prodia\n" + HEAD[9:] + "        sfx: a bell\n",
        "P208",
        6,
    ),
    (
        "first frame of the wrong size",
        'title: T\nscene "S":\n    shot 4s from "square.png":\n        action: x\n',
        "P209",
        3,
    ),
    (
        "missing first frame file",
        'title: T\nscene "S":\n    shot 4s from "nope.png":\n        action: x\n',
        "P210",
        3,
    ),
    (
        "missing cameo file",
        'title: T\ncameo mara: "nope.mp4"\n' + HEAD[9:].replace("a cat", "@mara"),
        "P210",
        2,
    ),
    (
        "cameo video too long",
        'title: T\ncameo mara: "long.mp4"\n' + HEAD[9:].replace("a cat", "@mara"),
        "P211",
        2,
    ),
    (
        "three cameos for openai",
        'title: T\ncameo a: "ok.mp4"\ncameo b: "ok.mp4"\ncameo c: "ok.mp4"\n'
        'scene "S":\n    shot 4s:\n        action: @a, @b and @c dance.\n',
        "P212",
        6,
    ),
    (
        "dialogue too long",
        HEAD + '        @kid: "' + "word " * 20 + '"\ncharacter kid:\n    look: a boy\n',
        "C301",
        5,
    ),
    ("two camera setups", HEAD + "        camera: wide\n        camera: close-up\n", "C302", 6),
    ("cut inside a camera cue", HEAD + "        camera: wide, then cut to a close-up\n", "C302", 5),
    ("transition at the end", HEAD + "    cut crossfade 1s\n", "C303", 5),
    (
        "crossfade longer than a shot",
        'title: T\nscene "S":\n    shot 1s:\n        action: x\n'
        "    cut crossfade 2s\n    shot 4s:\n        action: y\n",
        "C304",
        5,
    ),
    ("zero-length shot", 'title: T\nscene "S":\n    shot 0s:\n        action: x\n', "C305", 3),
    ("binary garbage", "\x00\x01\x02title", "E001", 1),
]


@pytest.mark.parametrize(
    ("source", "code", "line"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_gives_code_on_line(source: str, code: str, line: int) -> None:
    result = analyze_source(source, "bad.story", read_facts=facts)
    found = [(d.code, d.span.line) for d in result.diagnostics]
    assert (code, line) in found, f"expected {code} on line {line}, got {found}"
    assert all(d.message and d.file == "bad.story" for d in result.diagnostics)


def test_misspelled_key_suggests_the_right_one() -> None:
    source = 'title: T\nscene "S":\n    shot 4s:\n        camra: dolly in\n        action: x\n'
    diagnostic = next(
        d for d in analyze_source(source, read_facts=facts).diagnostics if d.code == "S107"
    )
    assert "did you mean `camera`?" in diagnostic.message
    assert diagnostic.fix is not None and diagnostic.fix.edits[0].text == "camera"


def test_shot_too_long_says_how_to_split() -> None:
    source = 'title: T\nscene "S":\n    shot 20s:\n        action: x\n'
    diagnostic = next(
        d for d in analyze_source(source, read_facts=facts).diagnostics if d.code == "P205"
    )
    assert (
        diagnostic.help is not None and "split it into 2 shots of at most 12 s" in diagnostic.help
    )


def test_first_frame_size_says_what_it_found_and_needs() -> None:
    source = 'title: T\nscene "S":\n    shot 4s from "square.png":\n        action: x\n'
    diagnostic = next(
        d for d in analyze_source(source, read_facts=facts).diagnostics if d.code == "P209"
    )
    assert "1280x720" in diagnostic.message and "1024x1024" in diagnostic.message


def test_provider_flag_overrides_the_header() -> None:
    source = "title: T\nmodel: sora-2\n" + HEAD[9:] + "        sfx: a bell\n"
    assert not any(d.code == "P208" for d in analyze_source(source, read_facts=facts).diagnostics)
    assert any(
        d.code == "P208"
        for d in analyze_source(source, provider="prodia", read_facts=facts).diagnostics
    )


@pytest.fixture
def project(tmp_path: Path, mp4: Callable[..., Path]) -> Path:
    """A folder holding, for real, the files `facts` pretends: the command line reads them."""
    make_png(tmp_path / "ok.png", 1280, 720)
    make_png(tmp_path / "square.png", 1024, 1024)
    mp4(1280, 720, 4, to=tmp_path / "ok.mp4")  # a cameo of 2-4 s
    mp4(1280, 720, 8, to=tmp_path / "long.mp4")  # too long for a cameo
    return tmp_path


CONCISE = re.compile(r"^bad\.story:(\d+):\d+: ([ESPC]\d{3}) ", re.MULTILINE)


@pytest.mark.parametrize(
    ("source", "code", "line"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_check_reports_every_bad_input_as_the_library_does(
    project: Path, source: str, code: str, line: int
) -> None:
    """`storyc check` in this process (through `storyc.cli.main`): the same diagnostics as
    the library, the exit status they call for, no traceback."""
    (project / "bad.story").write_text(source, encoding="utf-8")

    run = storyc_main(["check", "--format", "concise", "bad.story"], cwd=project)

    library = analyze_source(source, "bad.story", read_facts=facts).diagnostics
    shown = [(c, int(n)) for n, c in CONCISE.findall(run.stdout)]
    assert (code, line) in shown, run.output
    assert sorted(shown) == sorted((d.code, d.span.line) for d in library), run.output
    assert run.returncode == (1 if any(d.is_error for d in library) else 0), run.output
    assert "Traceback" not in run.output


def test_a_usage_problem_is_one_error_line_with_a_hint_and_exit_2(tmp_path: Path) -> None:
    """What `main` prints for a `StorycError`: `error:` and `hint:`, never a traceback."""
    (tmp_path / "pipe.story").mkdir()

    missing = storyc_main(["check", "nope.story"], cwd=tmp_path)
    folder = storyc_main(["plan", "pipe.story"], cwd=tmp_path)

    assert (missing.returncode, missing.stdout) == (2, "")
    assert missing.stderr.startswith("error: nope.story: no such file"), missing.stderr
    assert folder.returncode == 2
    assert folder.stderr.startswith("error: pipe.story is a folder"), folder.stderr
    assert "\nhint: a story is a .story text file" in folder.stderr


def console_script() -> list[str]:
    """The installed `storyc` script next to this interpreter (else `python -m storyc.cli`)."""
    script = Path(sys.executable).with_name("storyc")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "storyc.cli"]


@pytest.mark.parametrize(
    ("source", "status", "said"),
    [
        (CASES[2][1], 1, "bad.story:3:1"),  # diagnostics: exit 1
        (None, 2, "error: bad.story: no such file"),  # a StorycError through main: exit 2
    ],
    ids=["diagnostics", "storyc-error"],
)
def test_the_console_script_exits_non_zero_without_a_traceback(
    tmp_path: Path, source: str | None, status: int, said: str
) -> None:
    """The real entry point, once per way of failing; the table above runs in-process."""
    if source is not None:
        (tmp_path / "bad.story").write_text(source, encoding="utf-8")

    run = subprocess.run(
        [*console_script(), "check", "bad.story"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )

    assert run.returncode == status, run.stdout + run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    assert said in run.stdout + run.stderr


def test_a_broken_line_does_not_hide_the_rest_of_its_scene() -> None:
    source = (
        "title: T\ncharacter kid:\n    look: a boy\n"
        'scene "S":\n'
        "    shot 4s:\n        camera slow\n        action: @kid runs\n"
        "    shot 4s:\n        action: @ghost waves\n"
        "    shot wide:\n        action: x\n"
    )
    found = [(d.code, d.span.line) for d in analyze_source(source, read_facts=facts).diagnostics]
    # Both syntax errors of the scene, the undeclared name between them, and no false
    # "unused character" or "no scenes" from the scene that failed to parse.
    assert found == [("E006", 6), ("S101", 9), ("E008", 10)]

"""A table of bad inputs: each gives the expected code on the expected line, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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
    ("unknown provider", "title: T\nprovider: runway\n" + HEAD[9:], "P202", 2),
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


@pytest.mark.parametrize("source", [c[1] for c in CASES[:12]], ids=[c[0] for c in CASES[:12]])
def test_cli_reports_without_a_traceback(tmp_path: Path, source: str) -> None:
    story = tmp_path / "bad.story"
    story.write_text(source)
    run = subprocess.run(
        [sys.executable, "-m", "storyc.cli", "check", str(story)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 1
    assert "Traceback" not in run.stderr + run.stdout
    assert "bad.story:" in run.stdout


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

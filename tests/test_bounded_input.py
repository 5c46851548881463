"""Stories are regular files of bounded size, in UTF-8, and answered within seconds.

Before, `storyc check /dev/zero` grew to gigabytes, a FIFO hung forever, undecodable bytes
became `�` without a word, and a NUL or a 10 MB line went to the terminal as it was.
What could hang or fill memory (a device, a FIFO, a 10 MB line) runs the command line in a
subprocess whose timeout guards the test run; the rest runs it in this process, through
`storyc.cli.main` (see cli_support).
"""

from __future__ import annotations

import os
import subprocess
from itertools import pairwise
from pathlib import Path

import pytest
from cli_support import Ran, cli_overrides, storyc_main
from fakeprovider.testing import cli_env
from fakeprovider.testing import storyc as run_storyc
from opened import opened, was_opened

from storyc.errors import StorycError
from storyc.language.source import MAX_STORY_BYTES, NotUtf8, decode_story, read_story_text

HEADER = "title: Bounded\nmodel: sora-2\nprovider: preview\nsize: 1280x720\n"
STORY = HEADER + '\nscene "S":\n    shot one 2s:\n        action: a kettle whistles\n'


def storyc(*args: str, cwd: Path) -> Ran:
    """`storyc ARGS` in this process, for input that cannot block or fill memory."""
    return storyc_main(args, cwd=cwd, env=cli_overrides(cwd / "cache"))


def storyc_process(*args: str, cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    """`storyc ARGS` in a subprocess: `timeout` ends a run that hangs instead of the tests."""
    return run_storyc(list(args), cli_env(cwd / "cache"), cwd, timeout=timeout)


def assert_clear(run: Ran | subprocess.CompletedProcess[str], code: int, *said: str) -> None:
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == code, run.stdout + run.stderr
    for text in said:
        assert text in run.stdout + run.stderr, run.stdout + run.stderr


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
def test_a_device_is_refused_without_reading_it(tmp_path: Path) -> None:
    run = storyc_process("check", "/dev/zero", cwd=tmp_path, timeout=10)

    assert_clear(run, 2, "/dev/zero is a device, not a regular file")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_without_opening_it(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.story")

    for command in ("check", "plan", "fmt"):
        run = storyc_process(command, "pipe.story", cwd=tmp_path, timeout=10)
        assert_clear(run, 2, "pipe.story is a FIFO (named pipe), not a regular file")


def test_a_folder_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "scenes.story").mkdir()
    (tmp_path / "empty").mkdir()

    assert_clear(storyc("plan", "scenes.story", cwd=tmp_path), 2, "scenes.story is a folder")
    assert_clear(storyc("check", "empty", cwd=tmp_path), 2, "no .story files found")


def test_invalid_utf8_is_an_error_at_its_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "latin1.story").write_bytes(
        (HEADER + 'scene "Café":\n').replace("Café", "Caf\xe9").encode("latin-1")
    )

    check = storyc("check", "latin1.story", cwd=tmp_path)
    fmt = storyc("fmt", "latin1.story", cwd=tmp_path)

    assert_clear(check, 1, "E010", "latin1.story:5:11", "byte 0xe9 is not UTF-8 text")
    assert_clear(fmt, 2, "latin1.story:5:11: byte 0xe9 is not UTF-8 text")


def test_positions_of_bad_bytes_count_characters_and_every_kind_of_line_end() -> None:
    with pytest.raises(NotUtf8) as crlf:
        decode_story("title: é\r\nmodel: x\r\n  ab".encode() + b"\xff", "f")
    assert (crlf.value.diagnostic.span.line, crlf.value.diagnostic.span.column) == (3, 5)
    with pytest.raises(NotUtf8) as lone_cr:
        decode_story(b"a\rb\xc3", "f")
    assert (lone_cr.value.diagnostic.span.line, lone_cr.value.diagnostic.span.column) == (2, 2)
    assert lone_cr.value.source == "a\nb\ufffd"


def test_a_bom_is_accepted_and_columns_stay_right(tmp_path: Path) -> None:
    (tmp_path / "clean.story").write_bytes(b"\xef\xbb\xbf" + STORY.encode())
    (tmp_path / "typo.story").write_bytes(
        b"\xef\xbb\xbf" + STORY.replace("title", "titel").encode()
    )

    clean = storyc("check", "clean.story", cwd=tmp_path)
    typo = storyc("check", "--format", "concise", "typo.story", cwd=tmp_path)

    assert_clear(clean, 0, "All checks passed.")
    assert_clear(typo, 1, "typo.story:1:1: S107")
    assert read_story_text(tmp_path / "clean.story") == STORY


def test_a_nul_is_shown_escaped_under_its_caret(tmp_path: Path) -> None:
    (tmp_path / "nul.story").write_text(STORY.replace("kettle", "ket\x00tle"), encoding="utf-8")

    run = storyc("check", "nul.story", cwd=tmp_path)

    assert_clear(run, 1, "nul.story:8:22", "action: a ket\\x00tle whistles")
    assert "\x00" not in run.stdout + run.stderr
    line, caret = next((a, b) for a, b in pairwise(run.stdout.splitlines()) if "\\x00" in a)
    assert line[caret.index("^") :].startswith("\\x00")


def test_a_10_mb_line_answers_quickly_with_a_short_snippet(tmp_path: Path) -> None:
    long_line = "        action: " + "a kettle whistles " * 600_000  # ~10.8 MB
    (tmp_path / "long.story").write_text(STORY + "        camra: " + long_line, encoding="utf-8")

    # The timeout only guards against a hang: a snippet or a lexer that went quadratic on
    # the 10.8 MB line would take hours here, a linear one takes a second or two.
    run = storyc_process("check", "long.story", cwd=tmp_path, timeout=30)

    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == 1
    assert "…" in run.stdout and len(run.stdout) < 10_000
    assert max(len(line) for line in run.stdout.splitlines()) < 1_000


def test_a_file_over_the_size_cap_is_refused_by_its_size(tmp_path: Path) -> None:
    path = tmp_path / "huge.story"
    with path.open("wb") as handle:
        handle.write(STORY.encode())
        handle.truncate(MAX_STORY_BYTES + 1024 * 1024)  # 17 MB (sparse: cheap to make)

    with opened() as names:
        run = storyc("check", "huge.story", cwd=tmp_path)

    assert_clear(run, 2, "huge.story is 17.0 MB; storyc reads a story of at most 16.0 MB")
    assert not was_opened(names, path)  # refused by `stat`, before a byte was read
    with pytest.raises(StorycError):
        read_story_text(path)

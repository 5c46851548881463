"""Atomic writes leave the old file or the new one and nothing else; every reader of a
story sees the same lines whatever its line endings."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

import storyc.fsutil as fsutil
from storyc.check.provider import FileFacts
from storyc.fsutil import atomic_path, file_sha256, normalise_newlines, write_atomic
from storyc.tooling.editor import folding_ranges
from storyc.tooling.incremental import DocumentAnalyzer
from storyc.tooling.lint import lint_source

STORY = """\
title: T
model: sora-2

character mara:
    look: a barista

scene "One":
    shot wide 4s:
        camera: slow dolly in
        action: @mara opens the door.

    shot 4s:
        action: @ghost waves.

scene "Two":
    shot 4s:
        action: @nobody leaves.
"""


def test_write_atomic_writes_text_and_bytes_exactly(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    write_atomic(target, "a\r\nb\n")
    assert target.read_bytes() == b"a\r\nb\n"
    write_atomic(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert os.listdir(tmp_path) == ["plan.json"]


def test_write_atomic_keeps_the_replaced_files_permissions(tmp_path: Path) -> None:
    target = tmp_path / "story.story"
    target.write_text("old")
    target.chmod(0o640)
    write_atomic(target, "new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert target.read_text() == "new"


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "plan.json"
    target.write_text("old")

    def fail(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fsutil.os, "fsync", fail)
    with pytest.raises(OSError, match="No space"):
        write_atomic(target, "new")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["plan.json"]


def test_a_failed_replace_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "plan.json"

    def fail(*_args: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(fsutil.os, "replace", fail)
    with pytest.raises(PermissionError):
        write_atomic(target, "new")
    assert os.listdir(tmp_path) == []


def test_atomic_path_renames_on_success_and_cleans_up_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "thumb.jpg"
    with atomic_path(target, ".jpg") as temporary:
        assert temporary.parent == tmp_path and temporary.name.endswith(".jpg")
        temporary.write_bytes(b"jpeg")
    assert target.read_bytes() == b"jpeg"
    with pytest.raises(RuntimeError), atomic_path(target, ".jpg") as temporary:
        temporary.write_bytes(b"half")
        raise RuntimeError("the tool failed")
    assert target.read_bytes() == b"jpeg"
    assert os.listdir(tmp_path) == ["thumb.jpg"]


def test_file_sha256_streams(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    data = os.urandom(fsutil.HASH_BLOCK * 2 + 17)
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_normalise_newlines(newline: str) -> None:
    assert normalise_newlines(STORY.replace("\n", newline)) == STORY
    assert normalise_newlines("a\r\r\nb\rc") == "a\n\nb\nc"


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_the_editor_and_lint_see_the_same_lines_whatever_the_endings(newline: str) -> None:
    expected = [(d.code, d.span.line) for d in lint_source(STORY, "/tmp/t.story").diagnostics]
    assert ("S101", 13) in expected and ("S101", 17) in expected
    edited = STORY.replace("\n", newline)
    assert [
        (d.code, d.span.line) for d in lint_source(edited, "/tmp/t.story").diagnostics
    ] == expected
    analyzer = DocumentAnalyzer("/tmp/t.story", read_facts=lambda _p: FileFacts(exists=False))
    analyzer.analyze(STORY, 1)
    analysis = analyzer.analyze(edited, 2)
    assert [(d.code, d.span.line) for d in analysis.diagnostics] == expected
    assert folding_ranges(normalise_newlines(edited)) == folding_ranges(STORY)

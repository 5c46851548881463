"""One front end: `check`, `compile`, `lint`, `board` and the editor report the same
diagnostics for the same file (rule selection and `# storyc: ignore[...]` applied), and every
command that plans a story honours the takes the writer picked."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakeprovider.testing import cli_env, storyc

from storyc.frontend import compile_file
from storyc.plan.takes import write_pick
from storyc.tooling.incremental import DocumentAnalyzer

STORY = """title: Suppressed
model: sora-2

scene "One":
    shot wide 4s:
        action: @ghost walks through the wall.{suppression}
"""
SUPPRESSED = STORY.format(suppression="  # storyc: ignore[S101]")
PLAIN = STORY.format(suppression="")


@pytest.mark.parametrize(
    ("text", "code"), [(SUPPRESSED, 0), (PLAIN, 1)], ids=["suppressed", "not-suppressed"]
)
def test_check_compile_lint_and_board_exit_alike(tmp_path: Path, text: str, code: int) -> None:
    (tmp_path / "s.story").write_text(text, encoding="utf-8")
    env = cli_env(tmp_path / "cache")

    runs = {
        command: storyc([command, "s.story", *extra], env, tmp_path)
        for command, extra in (
            ("check", []),
            ("lint", []),
            ("compile", ["-o", "out"]),
            ("board", ["-o", "board"]),
        )
    }

    assert {name: run.returncode for name, run in runs.items()} == dict.fromkeys(runs, code)
    said = {name: "S101" in run.stdout + run.stderr for name, run in runs.items()}
    assert said == dict.fromkeys(runs, code == 1)
    assert (tmp_path / "out" / "plan.json").exists() is (code == 0)


def test_the_editor_shows_what_the_command_line_shows(tmp_path: Path) -> None:
    for text in (SUPPRESSED, PLAIN):
        path = tmp_path / "s.story"
        path.write_text(text, encoding="utf-8")
        command_line = [(d.code, d.span.line) for d in compile_file(path).diagnostics]
        editor = DocumentAnalyzer(str(path)).analyze(text)
        assert [(d.code, d.span.line) for d in editor.diagnostics] == command_line


def test_a_config_file_turns_a_rule_off_for_every_command(tmp_path: Path) -> None:
    (tmp_path / "s.story").write_text(PLAIN, encoding="utf-8")
    (tmp_path / "storyc.toml").write_text('ignore = ["S101"]\n', encoding="utf-8")
    env = cli_env(tmp_path / "cache")

    for command in ("check", "lint"):
        assert storyc([command, "s.story"], env, tmp_path).returncode == 0, command
    assert compile_file(tmp_path / "s.story").plan is not None


def test_every_planning_entry_honours_the_picked_take(tmp_path: Path) -> None:
    path = tmp_path / "takes.story"
    path.write_text(
        """title: Takes
model: sora-2
takes: 3

scene "One":
    shot wide 4s:
        action: a kite rises.
""",
        encoding="utf-8",
    )
    unpicked = compile_file(path).plan
    assert unpicked is not None
    write_pick(path, 1, 2)

    picked = compile_file(path).plan
    raw = compile_file(path, picks=False).plan

    assert picked is not None and raw is not None
    assert raw.clips[0].id == unpicked.clips[0].id
    assert picked.clips[0].id != unpicked.clips[0].id  # take 2 is another clip
    env = cli_env(tmp_path / "cache")
    assert storyc(["compile", "takes.story", "-o", "out"], env, tmp_path).returncode == 0
    written = (tmp_path / "out" / "plan.json").read_text(encoding="utf-8")
    assert picked.clips[0].id in written

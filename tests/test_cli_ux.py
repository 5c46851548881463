"""The command line a user expects (issue 14, items 5 and 6): `--version`, `python -m storyc`,
`storyc init`, shell completion, help in plain words, tables that fit 80 columns, clips named
by scene and shot, one message for a missing ffmpeg, a hint for Windows paths, and carets
measured in terminal cells."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import Ran, cli_overrides, storyc_main
from fakeprovider.testing import cli_env
from PIL import Image
from rich.cells import cell_len
from rich.console import Console

from storyc import __version__
from storyc.check.diagnostics import _snippet, render_full
from storyc.cli.init import init_project
from storyc.frontend import compile_file
from storyc.probe import FfmpegMissing, _locate_ffmpeg, ffmpeg_exe


def storyc(cwd: Path, *args: str, columns: int = 200, **env: str) -> Ran:
    return storyc_main(args, cwd=cwd, env=cli_overrides(cwd / ".cache", columns, **env))


# --version, python -m storyc, completion ---------------------------------------------------


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(tmp_path: Path, flag: str) -> None:
    run = storyc(tmp_path, flag)
    assert run.returncode == 0, run.output
    assert run.stdout.strip() == f"storyc {__version__}"


def test_python_dash_m_storyc_prints_the_version(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "storyc", "--version"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"storyc {__version__}"


def test_shell_completion_is_offered_and_works(tmp_path: Path) -> None:
    help_text = storyc(tmp_path, "--help").stdout
    assert "--install-completion" in help_text and "--show-completion" in help_text
    # Completion goes by the name the program was started as: start the real console script.
    real = [str(Path(sys.executable).with_name("storyc"))]

    def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*real, *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
            env=cli_env(tmp_path / "cache", SHELL="/bin/bash", **env),
        )

    script = run("--show-completion", "bash")
    assert script.returncode == 0 and "_storyc_completion" in script.stdout
    words = run(_STORYC_COMPLETE="complete_bash", COMP_WORDS="storyc bu", COMP_CWORD="1")
    assert words.stdout.split() == ["build"]


# --help --------------------------------------------------------------------------------------

COMMANDS = ["", "check", "compile", "plan", "rule", "render", "build", "lint", "fmt", "lsp"]
COMMANDS += ["board", "watch", "pick", "init", "import", "providers", "keyframes"]
INTERNAL = re.compile(r"<(bool|str|int|float|path|list\[[^>]*\]|[^>]*Path[^>]*)>|\{[a-z_]+\}")


def test_every_command_is_in_the_help_test() -> None:
    import typer

    from storyc.cli import app

    # Commands are registered when first looked up (see `storyc.cli.app`): ask the group.
    group = typer.main.get_group(app)
    listed = group.list_commands(typer.Context(group))
    assert sorted(listed) == sorted(c for c in COMMANDS if c)


def test_each_command_is_found_by_importing_its_module_alone() -> None:
    import importlib
    import subprocess
    import sys

    cli_app = importlib.import_module("storyc.cli.app")
    group = typer_group()
    registered = {
        name: command.callback.__module__  # type: ignore[union-attr]
        for name, command in group.commands.items()
    }
    for name, module in cli_app.COMMAND_NAMES.items():
        assert registered.get(name) == module, name
    # `storyc build --help` imports the build command, not the editor's or the board's.
    script = (
        "import sys; from storyc.cli import main; sys.argv = ['storyc', 'build', '--help']\n"
        "try: main()\nexcept SystemExit: pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('storyc.cli.')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    loaded = done.stdout.strip().splitlines()[-1]
    assert "storyc.cli.build" in loaded
    for heavy in ("storyc.cli.lsp", "storyc.cli.board", "storyc.cli.fmt", "storyc.cli.watch"):
        assert heavy not in loaded


def typer_group():  # type: ignore[no-untyped-def]
    import typer

    from storyc.cli import app

    group = typer.main.get_group(app)
    group.list_commands(typer.Context(group))
    return group


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_no_internal_type_names(tmp_path: Path, command: str) -> None:
    run = storyc(tmp_path, *([command] if command else []), "--help")
    assert run.returncode == 0, run.output
    assert not INTERNAL.search(run.stdout), INTERNAL.search(run.stdout)
    assert "Usage: storyc" in run.stdout


def test_help_names_arguments_and_values_plainly(tmp_path: Path) -> None:
    check = storyc(tmp_path, "check", "--help").stdout
    assert "Usage: storyc check [OPTIONS] [FILE...]" in check
    build = storyc(tmp_path, "build", "--help").stdout
    assert re.search(r"--out\s+-o\s+DIR", build) and re.search(r"--jobs\s+-j\s+N\b", build)
    assert re.search(r"--force\s+Render", build)  # a flag: no type after it
    pick = storyc(tmp_path, "pick", "--help").stdout
    assert "Usage: storyc pick [OPTIONS] FILE SHOT TAKE" in pick


# storyc init -----------------------------------------------------------------------------


def test_init_writes_a_project_that_checks_clean(tmp_path: Path) -> None:
    run = storyc(tmp_path, "init", "My Film")
    assert run.returncode == 0, run.output
    project = tmp_path / "My Film"
    assert sorted(p.name for p in project.iterdir()) == [
        ".gitignore",
        "my-film.story",
        "refs",
        "storyc.toml",
    ]
    assert (project / "refs").is_dir()
    ignored = (project / ".gitignore").read_text(encoding="utf-8").split()
    assert "build/" in ignored and ".storyc/" in ignored
    toml = (project / "storyc.toml").read_text(encoding="utf-8")
    assert "select" in toml and "ignore" in toml

    check = storyc(project, "check")  # no file: the story in this folder
    assert check.returncode == 0, check.output
    assert "All checks passed." in check.stderr
    lint = storyc(project, "lint", "my-film.story")
    assert lint.returncode == 0, lint.output
    fmt = storyc(project, "fmt", "--check", "my-film.story")
    assert fmt.returncode == 0, fmt.output


def test_init_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "storyc.toml").write_text("# mine\n", encoding="utf-8")
    run = storyc(tmp_path, "init", "demo")
    assert run.returncode == 2, run.output
    assert "already exist" in run.stderr and "Traceback" not in run.output
    assert (tmp_path / "demo" / "storyc.toml").read_text(encoding="utf-8") == "# mine\n"
    assert sorted(p.name for p in (tmp_path / "demo").iterdir()) == ["storyc.toml"]

    init_project(tmp_path / "fresh")
    again = storyc(tmp_path, "init", "fresh")
    assert again.returncode == 2 and "already exist" in again.stderr


def test_init_in_the_working_folder(tmp_path: Path) -> None:
    here = tmp_path / "here"
    here.mkdir()
    run = storyc(here, "init")
    assert run.returncode == 0, run.output
    assert (here / "here.story").is_file()


def test_init_then_build_works_from_nothing(tmp_path: Path) -> None:
    """`storyc init demo && cd demo && storyc build`."""
    assert storyc(tmp_path, "init", "demo").returncode == 0
    demo = tmp_path / "demo"
    run = storyc(demo, "build")
    assert run.returncode == 0, run.output
    assert (demo / "build" / "demo" / "demo.mp4").stat().st_size > 0
    assert (demo / "build" / "demo" / "demo.srt").is_file()


def test_a_command_without_a_file_needs_exactly_one_story_here(tmp_path: Path) -> None:
    none = storyc(tmp_path, "build")
    assert none.returncode == 2 and "storyc init" in none.stderr
    (tmp_path / "a.story").write_text("title: A\n", encoding="utf-8")
    (tmp_path / "b.story").write_text("title: B\n", encoding="utf-8")
    two = storyc(tmp_path, "plan")
    assert two.returncode == 2 and "a.story, b.story" in two.stderr


# the plan table at 80 columns ----------------------------------------------------------------

LONG = """title: A rather long title for a film about the sea
model: sora-2
size: 1280x720

scene "The very long scene name at the harbour" :
    shot establishing-wide-shot 4s:
        action: boats
    shot another-long-label 4s:
        action: gulls
    cut crossfade 0.5s
    shot third-long-label 4s:
        action: nets
    cut dip 0.5s
    shot fourth 4s:
        action: the sea
"""

TIMECODE = re.compile(r"\d+:\d\d\.\d{3}")


@pytest.mark.parametrize("columns", [80, 60, 120, 200])
def test_plan_table_never_cuts_a_timecode(tmp_path: Path, columns: int) -> None:
    (tmp_path / "long.story").write_text(LONG.replace('" :', '":'), encoding="utf-8")
    run = storyc(tmp_path, "plan", "long.story", columns=columns)
    assert run.returncode == 0, run.output
    table = run.stdout.split("the same story elsewhere")[0]
    assert max(cell_len(line) for line in table.splitlines()) <= columns
    starts = TIMECODE.findall(table)
    assert "0:00.000" in starts and "0:07.500" in starts, table
    assert not re.search(r"\d:\d\d\.\d{0,2}…", table), table
    assert "$" in table


def test_plan_table_keeps_every_column_when_wide(tmp_path: Path) -> None:
    (tmp_path / "long.story").write_text(LONG.replace('" :', '":'), encoding="utf-8")
    run = storyc(tmp_path, "plan", "long.story", columns=200)
    header = run.stdout.splitlines()[1:4]
    assert any("slack" in line and "renders" in line for line in header), run.stdout


# clips named by scene and shot ---------------------------------------------------------------


def test_progress_and_summary_name_clips_by_scene_and_shot(tmp_path: Path) -> None:
    init_project(tmp_path / "demo")
    demo = tmp_path / "demo"
    run = storyc(demo, "render", "demo.story")
    assert run.returncode == 0, run.output
    assert "clip 01 First light / wide: done" in run.stderr
    assert "clip 02 First light / close-up: done" in run.stderr
    plan = compile_file(demo / "demo.story").plan
    assert plan is not None
    for clip in plan.clips:
        assert clip.id not in run.stderr.replace(f"{clip.index:02d}-{clip.id}.mp4", "")


def test_watch_names_the_rendered_clips(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from storyc.cli.watch import watch_once

    monkeypatch.setenv("STORYC_CACHE_DIR", str(tmp_path / "cache"))
    story = init_project(tmp_path / "demo")[0]
    out = io.StringIO()
    result = watch_once(story, tmp_path / "out", console=Console(file=out, width=200))
    assert result.rendered
    assert "rendered: 01 First light / wide; 02 First light / close-up" in out.getvalue()


def test_a_bar_label_is_cut_in_cells() -> None:
    from storyc.cli.progress_view import LABEL_CELLS, _label

    plan = compile_file_text("你好" * 30)
    labels = [_label(clip) for clip in plan.clips]
    assert all(cell_len(label) == LABEL_CELLS for label in labels)
    assert labels[0].startswith("01 你好")


def compile_file_text(scene: str):  # type: ignore[no-untyped-def]
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.story"
        path.write_text(
            f'title: T\nmodel: sora-2\nsize: 1280x720\n\nscene "{scene}":\n'
            "    shot 4s:\n        action: waves\n",
            encoding="utf-8",
        )
        plan = compile_file(path).plan
    assert plan is not None
    return plan


# ffmpeg missing ----------------------------------------------------------------------------


@pytest.fixture
def fresh_locator():  # type: ignore[no-untyped-def]
    _locate_ffmpeg.cache_clear()
    yield
    _locate_ffmpeg.cache_clear()


@pytest.mark.parametrize("command", ["build", "render"])
def test_a_missing_ffmpeg_is_one_clear_message(
    tmp_path: Path, command: str, fresh_locator: None
) -> None:
    init_project(tmp_path / "demo")
    missing = str(tmp_path / "no" / "ffmpeg")
    run = storyc(tmp_path / "demo", command, "demo.story", IMAGEIO_FFMPEG_EXE=missing)
    assert run.returncode == 1, run.output
    assert "FileNotFoundError" not in run.output and "unexpected error" not in run.output
    errors = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "ffmpeg cannot be found" in errors[0], run.stderr
    assert "hint:" in run.stderr and "IMAGEIO_FFMPEG_EXE" in run.stderr
    assert not (tmp_path / "demo" / "build").exists()


def test_no_ffmpeg_anywhere_is_the_same_message(
    monkeypatch: pytest.MonkeyPatch, fresh_locator: None
) -> None:
    import imageio_ffmpeg

    def nothing() -> str:
        raise RuntimeError("No ffmpeg exe could be found.")

    monkeypatch.delenv("IMAGEIO_FFMPEG_EXE", raising=False)
    monkeypatch.setattr(imageio_ffmpeg, "get_ffmpeg_exe", nothing)
    with pytest.raises(FfmpegMissing) as caught:
        ffmpeg_exe()
    assert caught.value.hint is not None and "imageio-ffmpeg" in caught.value.hint


# a Windows path ---------------------------------------------------------------------------


def test_a_backslash_in_a_reference_path_gets_a_hint(tmp_path: Path) -> None:
    (tmp_path / "refs").mkdir()
    Image.new("RGB", (1280, 720)).save(tmp_path / "refs" / "fan.png")
    (tmp_path / "p.story").write_text(
        'title: P\nmodel: sora-2-pro\nsize: 1280x720\n\nscene "S":\n'
        '    shot hero 4s from "refs\\fan.png":\n        action: a fan turns\n',
        encoding="utf-8",
    )
    run = storyc(tmp_path, "check", "p.story")
    assert run.returncode == 1
    assert "P210" in run.stdout and "does not exist" in run.stdout
    assert "use `/` between folders" in run.stdout and '"refs/fan.png"' in run.stdout

    fixed = (tmp_path / "p.story").read_text(encoding="utf-8").replace("\\", "/")
    (tmp_path / "p.story").write_text(fixed, encoding="utf-8")
    assert storyc(tmp_path, "check", "p.story").returncode == 0


# carets in terminal cells ------------------------------------------------------------------


@pytest.mark.parametrize("before", ["你好", "🎬", "café ", "e\u0301"])
def test_the_caret_sits_under_its_text_after_wide_characters(tmp_path: Path, before: str) -> None:
    path = tmp_path / "w.story"
    path.write_text(
        'title: W\nmodel: sora-2\nsize: 1280x720\n\nscene "S":\n'
        f"    shot 4s:\n        action: {before} @nobody waves\n",
        encoding="utf-8",
    )
    compilation = compile_file(path)
    [diagnostic] = [d for d in compilation.diagnostics if d.code == "S101"]
    lines = render_full(diagnostic, compilation.source).splitlines()
    shown = next(line for line in lines if "@nobody" in line and "|" in line)
    caret = lines[lines.index(shown) + 1]
    assert cell_len(shown[: shown.index("@nobody")]) == caret.index("^")
    assert caret.count("^") == len("@nobody")


def test_carets_under_wide_characters_cover_their_cells() -> None:
    shown, caret = _snippet("ab你好cd", 3, 5)
    assert shown == "ab你好cd"
    assert caret == "  ^^^^"

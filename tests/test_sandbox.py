"""The reference sandbox: a story may only make storyc read (and so upload) files inside its
project folder or a folder the user allowed; references are files by their content, read in
bounded time and memory."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import Ran, storyc_main
from opened import opened, was_opened
from PIL import Image

from storyc.check.provider import FileFacts
from storyc.errors import StorycError, UsageError
from storyc.frontend import Compilation, analyze_source, compile_file, read_file_facts
from storyc.fsutil import file_sha256
from storyc.sandbox import (
    MAX_VIDEO_BYTES,
    ReferencePolicy,
    ReferenceRefused,
    policy_for,
    project_root,
    user_allowed_paths,
)

ROOT = Path(__file__).resolve().parent.parent
MARA = ROOT / "examples" / "refs" / "mara.mp4"
FAN = ROOT / "examples" / "refs" / "fan.png"


@pytest.fixture(autouse=True)
def no_user_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """The developer's own ~/.config/storyc must not change what these tests see."""
    home = tmp_path_factory.mktemp("xdg")
    monkeypatch.delenv("STORYC_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))


def write_story(folder: Path, *, cameo: str | None = None, frame: str | None = None) -> Path:
    """A sora-2 story on openai naming `cameo` (a 2-4 s video) and/or `frame` (1280x720)."""
    lines = ["title: T", "model: sora-2", "provider: openai"]
    if cameo is not None:
        lines.append(f'cameo mara: "{cameo}"')
    lines.append('scene "S":')
    lines.append(f'    shot 4s from "{frame}":' if frame is not None else "    shot 4s:")
    lines.append(
        "        action: @mara waves." if cameo is not None else "        action: a cat naps."
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "film.story"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def codes(compilation: Compilation) -> list[str]:
    return [d.code for d in compilation.diagnostics if d.is_error]


def message(compilation: Compilation, code: str) -> str:
    return next(d.message for d in compilation.diagnostics if d.code == code)


def storyc(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> Ran:
    """`storyc ARGS` in this process, through `storyc.cli.main` (see cli_support);
    `timeout` is for `storyc_process` only: nothing here can block."""
    return storyc_main(args, cwd=cwd, env={"COLUMNS": "1000", **(env or {})})


def storyc_process(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`storyc ARGS` in a subprocess, for what could hang (a FIFO): `timeout` guards it."""
    return subprocess.run(
        [sys.executable, "-m", "storyc.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "1000", **(env or {})},  # one message, one line
        timeout=timeout,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """tmp/project/refs/{mara.mp4, fan.png} and a file outside: tmp/outside/secret.mp4."""
    refs = tmp_path / "project" / "refs"
    refs.mkdir(parents=True)
    shutil.copyfile(MARA, refs / "mara.mp4")
    shutil.copyfile(FAN, refs / "fan.png")
    (tmp_path / "outside").mkdir()
    shutil.copyfile(MARA, tmp_path / "outside" / "secret.mp4")
    return tmp_path / "project"


# Inside and outside ----------------------------------------------------------------------


def test_files_inside_the_project_are_fine(project: Path) -> None:
    result = compile_file(write_story(project, cameo="refs/mara.mp4", frame="refs/fan.png"))
    assert codes(result) == []
    assert result.plan is not None
    assert result.policy == ReferencePolicy(project.resolve())


def test_cli_refuses_an_absolute_path_outside(project: Path) -> None:
    secret = project.parent / "outside" / "secret.mp4"
    story = write_story(project, cameo=str(secret))
    run = storyc(["check", str(story)], cwd=project)
    assert run.returncode == 1
    assert "P218" in run.stdout and "reference-outside-project" in run.stdout
    assert f"`{secret}` is outside the project folder {project.resolve()}" in run.stdout
    assert "--allow-path DIR" in run.stdout
    assert "Traceback" not in run.stdout + run.stderr


def test_a_dotdot_escape_is_refused(project: Path) -> None:
    result = compile_file(write_story(project / "scenes", cameo="../../outside/secret.mp4"))
    assert codes(result) == ["P218"]
    assert "resolves to " + str(project.parent.resolve() / "outside" / "secret.mp4") in message(
        result, "P218"
    )
    assert result.plan is None  # nothing planned, so nothing can be uploaded


def test_a_symlink_inside_pointing_outside_is_refused(project: Path) -> None:
    (project / "refs" / "evil.mp4").symlink_to(project.parent / "outside" / "secret.mp4")
    result = compile_file(write_story(project, cameo="refs/evil.mp4"))
    assert codes(result) == ["P218"]
    assert "`refs/evil.mp4` is a symlink to " in message(result, "P218")
    assert result.plan is None


def test_a_symlinked_folder_pointing_outside_is_refused(project: Path) -> None:
    (project / "linked").symlink_to(project.parent / "outside", target_is_directory=True)
    result = compile_file(write_story(project, cameo="linked/secret.mp4"))
    assert codes(result) == ["P218"]


def test_a_symlink_inside_pointing_inside_is_fine(project: Path) -> None:
    (project / "refs" / "alias.mp4").symlink_to(project / "refs" / "mara.mp4")
    result = compile_file(write_story(project, cameo="refs/alias.mp4"))
    assert codes(result) == []
    assert result.plan is not None


def test_a_symlink_loop_is_an_error_not_a_traceback(project: Path) -> None:
    (project / "refs" / "a.mp4").symlink_to(project / "refs" / "b.mp4")
    (project / "refs" / "b.mp4").symlink_to(project / "refs" / "a.mp4")
    story = write_story(project, cameo="refs/a.mp4")
    run = storyc(["check", str(story)], cwd=project)
    assert run.returncode == 1
    assert "Traceback" not in run.stdout + run.stderr
    assert "P218" in run.stdout and "a symlink that leads nowhere" in run.stdout


def test_files_outside_are_never_read(project: Path) -> None:
    secret = project.parent / "outside" / "secret.mp4"
    (project / "refs" / "evil.mp4").symlink_to(secret)
    read: list[Path] = []

    def reader(path: Path) -> FileFacts:
        read.append(path)
        return read_file_facts(path)

    story = write_story(project, cameo="refs/evil.mp4", frame=str(secret))
    result = analyze_source(story.read_text(), str(story), read_facts=reader)
    assert codes(result) == ["P218", "P218"]
    assert read == []


# The project root and allowed paths ------------------------------------------------------


def test_storyc_toml_above_the_story_is_the_project_root(project: Path) -> None:
    story = write_story(project / "stories", cameo="../refs/mara.mp4")
    assert codes(compile_file(story)) == ["P218"]  # no storyc.toml: the story's folder
    (project / "storyc.toml").write_text("", encoding="utf-8")
    assert project_root(story) == project.resolve()
    assert codes(compile_file(story)) == []


def test_allow_path_on_the_command_line_allows_an_outside_file(project: Path) -> None:
    story = write_story(project, cameo="../outside/secret.mp4")
    refused = storyc(["check", str(story)], cwd=project)
    assert refused.returncode == 1 and "P218" in refused.stdout
    allowed = storyc(
        ["check", "--allow-path", str(project.parent / "outside"), str(story)], project
    )
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    policy = policy_for(story, [project.parent / "outside"])
    assert codes(compile_file(story, policy=policy)) == []


def test_allow_path_must_exist(project: Path) -> None:
    with pytest.raises(UsageError, match="no such file or folder"):
        policy_for(write_story(project), [project / "nowhere"])
    run = storyc(["check", "--allow-path", "nowhere", str(write_story(project))], project)
    assert run.returncode == 2 and "Traceback" not in run.stderr


def test_the_users_config_allows_paths(project: Path, tmp_path: Path) -> None:
    outside = project.parent / "outside"
    config = tmp_path / "config.toml"
    config.write_text(f'[tool.storyc]\nallow-paths = ["{outside}"]\n', encoding="utf-8")
    story = write_story(project, cameo="../outside/secret.mp4")
    run = storyc(["check", str(story)], cwd=project, env={"STORYC_CONFIG": str(config)})
    assert run.returncode == 0, run.stdout + run.stderr
    assert user_allowed_paths(config) == (outside.resolve(),)


def test_the_project_cannot_widen_its_own_sandbox(project: Path) -> None:
    claim = f'[tool.storyc]\nallow-paths = ["{project.parent / "outside"}"]\n'
    (project / "storyc.toml").write_text(claim.replace("[tool.storyc]\n", ""), encoding="utf-8")
    (project / "pyproject.toml").write_text(claim, encoding="utf-8")
    story = write_story(project, cameo="../outside/secret.mp4")
    run = storyc(["check", str(story)], cwd=project)
    assert run.returncode == 1 and "P218" in run.stdout


def test_a_broken_user_config_is_a_clear_error(project: Path, tmp_path: Path) -> None:
    story = write_story(project)
    config = tmp_path / "config.toml"
    config.write_text("[tool.storyc\nallow-paths = 3\n", encoding="utf-8")
    run = storyc(["check", str(story)], cwd=project, env={"STORYC_CONFIG": str(config)})
    assert run.returncode == 2
    assert "is not valid TOML" in run.stderr and "Traceback" not in run.stderr
    config.write_text("[tool.storyc]\nallow-paths = 3\n", encoding="utf-8")
    with pytest.raises(StorycError, match="must be a list"):
        user_allowed_paths(config)
    missing = storyc(["check", str(story)], project, env={"STORYC_CONFIG": str(tmp_path / "no")})
    assert missing.returncode == 2 and "does not exist" in missing.stderr


# Not a file, too large, not what the name says -------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_as_a_cameo_is_refused_without_hanging(project: Path) -> None:
    os.mkfifo(project / "refs" / "pipe.mp4")
    story = write_story(project, cameo="refs/pipe.mp4")
    # A subprocess: were the FIFO opened, the run would wait for a writer until the timeout.
    run = storyc_process(["check", str(story)], cwd=project, timeout=30)
    assert run.returncode == 1
    assert "P219" in run.stdout and "is a FIFO (named pipe), not a regular file" in run.stdout


def test_a_folder_as_a_cameo_is_refused(project: Path) -> None:
    (project / "refs" / "folder.mp4").mkdir()
    run = storyc(["check", str(write_story(project, cameo="refs/folder.mp4"))], project, timeout=30)
    assert run.returncode == 1
    assert "P219" in run.stdout and "is a folder, not a file" in run.stdout


def test_a_png_that_is_text_is_not_an_image(project: Path) -> None:
    (project / "refs" / "face.png").write_text("just words, not pixels\n", encoding="utf-8")
    result = compile_file(write_story(project, frame="refs/face.png"))
    assert codes(result) == ["P219"]
    assert "`refs/face.png` is not an image" in message(result, "P219")
    facts = read_file_facts(project / "refs" / "face.png")
    assert facts.kind is None and facts.problem is not None


def test_a_cut_off_png_is_not_an_image(project: Path) -> None:
    whole = (project / "refs" / "fan.png").read_bytes()
    (project / "refs" / "cut.png").write_bytes(whole[: len(whole) // 2])
    assert read_file_facts(project / "refs" / "cut.png").kind is None


def test_the_kind_comes_from_the_content_not_the_name(project: Path) -> None:
    shutil.copyfile(MARA, project / "refs" / "really-a-video.png")
    Image.new("RGB", (64, 48)).save(project / "refs" / "really-an-image.mp4", format="PNG")
    video = read_file_facts(project / "refs" / "really-a-video.png")
    image = read_file_facts(project / "refs" / "really-an-image.mp4")
    assert video.kind == "video" and video.duration_ms
    assert (image.kind, image.width, image.height) == ("image", 64, 48)


def test_a_huge_sparse_file_is_refused_by_its_size_without_reading_it(project: Path) -> None:
    huge = project / "refs" / "huge.mp4"
    with huge.open("wb") as f:
        f.truncate(3 * 1024**3)
    with opened() as names:
        facts = read_file_facts(huge)
    assert not was_opened(names, huge)  # refused by `stat`: not one byte of 3 GB read
    assert facts.sha256 is None and facts.problem is not None
    assert facts.problem.startswith("is 3.0 GB; storyc reads a reference of at most 512.0 MB")
    result = compile_file(write_story(project, cameo="refs/huge.mp4"))
    assert codes(result) == ["P219"]


# The API the renderers use --------------------------------------------------------------


def test_policy_open_reads_inside_and_refuses_outside(project: Path) -> None:
    policy = policy_for(write_story(project))
    with policy.open(project / "refs" / "mara.mp4") as handle:
        assert file_sha256(handle) == hashlib.sha256(MARA.read_bytes()).hexdigest()
    (project / "refs" / "evil.mp4").symlink_to(project.parent / "outside" / "secret.mp4")
    assert policy.check(project / "refs" / "evil.mp4") is not None
    with pytest.raises(ReferenceRefused, match="is a symlink to"):
        policy.open(project / "refs" / "evil.mp4")
    (project / "refs" / "dir").mkdir()
    with pytest.raises(ReferenceRefused, match="is a folder"):
        policy.open(project / "refs" / "dir")
    assert policy.file_problem(project / "refs" / "mara.mp4", limit=10) is not None
    assert MAX_VIDEO_BYTES == 512 * 1024**2


def test_file_sha256_streams_paths_and_open_files(tmp_path: Path) -> None:
    data = os.urandom(3 * (1 << 20) + 7)
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    expected = hashlib.sha256(data).hexdigest()
    assert file_sha256(path) == file_sha256(str(path)) == expected
    with path.open("rb") as handle:
        assert file_sha256(handle) == expected


# Commands and the editor ------------------------------------------------------------------


@pytest.mark.parametrize(
    "command", ["check", "plan", "compile", "render", "build", "board", "watch", "lint", "pick"]
)
def test_every_compiling_command_takes_allow_path(command: str) -> None:
    from typer.testing import CliRunner

    from storyc.cli import app

    result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "--allow-path" in result.output


def test_the_editor_uses_the_project_folder_and_the_users_config(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storyc.tooling.incremental import DocumentAnalyzer

    story = write_story(project, cameo="../outside/secret.mp4")
    source = story.read_text(encoding="utf-8")
    refused = DocumentAnalyzer(str(story)).analyze(source)
    assert [d.code for d in refused.diagnostics if d.is_error] == ["P218"]
    config = tmp_path / "config.toml"
    config.write_text(
        f'[tool.storyc]\nallow-paths = ["{project.parent / "outside"}"]\n', encoding="utf-8"
    )
    monkeypatch.setenv("STORYC_CONFIG", str(config))
    allowed = DocumentAnalyzer(str(story)).analyze(source)
    assert [d.code for d in allowed.diagnostics if d.is_error] == []
    config.write_text("not toml [", encoding="utf-8")  # a broken config: project folder only
    assert DocumentAnalyzer(str(story)).policy == ReferencePolicy(project.resolve())


def _png_header(width: int, height: int) -> bytes:
    """A PNG claiming `width` x `height` pixels, with almost no pixel data after the claim."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


@pytest.mark.parametrize("side", [7_000, 20_000])
def test_an_image_with_too_many_pixels_is_refused_before_decoding(
    project: Path, side: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import ImageFile

    bomb = project / "refs" / "bomb.png"
    bomb.write_bytes(_png_header(side, side))
    decoded: list[tuple[int, int]] = []
    load = ImageFile.ImageFile.load

    def recording_load(image: ImageFile.ImageFile):  # type: ignore[no-untyped-def]
        decoded.append(image.size)
        return load(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", recording_load)
    facts = read_file_facts(bomb)
    assert decoded == []  # judged by its header: not one pixel decoded
    assert facts.kind is None and facts.problem is not None and "million pixels" in facts.problem

"""`storyc build` with nothing changed answers "up to date" before compiling (the stamp in
`storyc/cli/quick_stamp.py`), and any change to what the film depends on builds again.

One small story (two 4 s shots, a hard cut, the first from an image) is built once per
module; each test works on a copy whose files are all dated an hour back, as a story
edited long ago would be (an input changed in the last seconds is not trusted to its mtime,
so a build right after an edit takes the long way: see `quick_stamp.RACY_S`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_support import Ran, storyc_main

STORY = """\
title: Stamp
model: sora-2
size: 1280x720
clips: per-shot

scene "One":
    shot wide 4s from "still.png":
        action: a kite rises over the dunes.

    shot close-up 4s seed 3:
        action: the kite string hums in the wind.
"""

HEAVY = (
    "storyc.frontend",
    "storyc.language",
    "jinja2",
    "lark",
    "numpy",
    "moviepy",
    "httpx",
    "pydantic",
)
"""What the front end, the renderers and assembly import (and typer, to convert options:
pydantic): none of it when up to date."""


def _png(path: Path, shade: int) -> None:
    from PIL import Image

    Image.new("RGB", (1280, 720), (shade, 120, 200)).save(path)


def _age(folder: Path, seconds: float = 3600) -> None:
    """Date every file under `folder` `seconds` back, as if written long ago."""
    then = time.time() - seconds
    for path in [folder, *folder.rglob("*")]:
        os.utime(path, (then, then), follow_symlinks=False)


def _build(project: Path, *extra: str, env: dict[str, str | None] | None = None) -> Ran:
    done = storyc_main(
        ["build", "stamp.story", "-o", "out", *extra],
        cwd=project,
        env={"STORYC_CACHE_DIR": str(project / "cache"), "COLUMNS": "200", **(env or {})},
    )
    assert done.returncode == 0, done.output
    return done


def _did_work(done: Ran) -> bool:
    """The build compiled and looked at its clips (the render summary is printed)."""
    return "clip(s):" in done.stderr


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("stamp-template")
    (project / "stamp.story").write_text(STORY, encoding="utf-8")
    _png(project / "still.png", 40)
    _age(project)
    _build(project)
    return project


@pytest.fixture
def project(built: Path, tmp_path: Path) -> Path:
    """A copy of the built project whose stamp is current (one build after the copy)."""
    copy = tmp_path / "project"
    shutil.copytree(built, copy, symlinks=True)
    _age(copy)
    assert _did_work(_build(copy))  # new paths: the copied stamp does not match
    return copy


def test_an_unchanged_rebuild_says_up_to_date_without_compiling(project: Path) -> None:
    film = project / "out" / "stamp.mp4"
    before = film.stat().st_mtime_ns
    done = _build(project)
    assert not _did_work(done)
    assert done.stderr.startswith("up to date:") and "stamp.mp4" in done.stderr
    assert film.stat().st_mtime_ns == before


@pytest.mark.parametrize(
    "args",
    [["stamp.story", "-o", "out"], ["--out=out", "stamp.story", "-y", "--jobs", "2"]],
    ids=["short", "long"],
)
def test_an_unchanged_rebuild_imports_no_front_end_renderer_or_assembly(
    project: Path, args: list[str]
) -> None:
    script = (
        "import atexit, json, sys\n"
        "atexit.register(lambda: print(json.dumps(sorted(sys.modules)), file=sys.__stdout__))\n"
        "from storyc.cli.app import main\n"
        f"sys.argv = ['storyc', 'build', *{args!r}]\n"
        "main()\n"
    )
    env = {**os.environ, "STORYC_CACHE_DIR": str(project / "cache"), "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=project, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("up to date:"), done.stderr
    modules = json.loads(done.stdout.strip().splitlines()[-1])
    heavy = [m for m in modules if m.split(".")[0] in HEAVY or m.startswith(HEAVY)]
    assert heavy == []
    assert "storyc.cli.quick_stamp" in modules  # the check did run in this process


def _edit_story(project: Path) -> None:
    story = project / "stamp.story"
    story.write_text(STORY.replace("rises over", "dips over"), encoding="utf-8")


def _replace_image_same_size(project: Path) -> None:
    still = project / "still.png"
    size = still.stat().st_size
    fresh = project / "fresh.png"
    _png(fresh, 41)
    data = fresh.read_bytes()
    fresh.unlink()
    # Same size on purpose: only the mtime and inode tell the new file from the old.
    data = data[:size] if len(data) >= size else data + b"\0" * (size - len(data))
    assert len(data) == size
    still.unlink()
    still.write_bytes(data)


def _replace_image_keeping_mtime(project: Path) -> None:
    """`mv` of another file over it with the same size and mtime: only the inode differs."""
    still = project / "still.png"
    stat = still.stat()
    other = project / "other.png"
    other.write_bytes(still.read_bytes())
    os.utime(other, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(other, still)


def _delete_a_clip(project: Path) -> None:
    next((project / "out" / "clips").glob("*.mp4")).unlink()


def _delete_the_film(project: Path) -> None:
    (project / "out" / "stamp.mp4").unlink()


def _pick(project: Path) -> None:
    lock = project / "stamp.story.lock"
    lock.write_text(json.dumps({"version": 1, "picks": {}}), encoding="utf-8")


def _touch_config(project: Path) -> None:
    config = project / "config.toml"
    config.write_text(f'allow-paths = ["{project / "elsewhere"}"]\n', encoding="utf-8")


CHANGES: dict[str, Callable[[Path], None]] = {
    "story edited": _edit_story,
    "image replaced, same size": _replace_image_same_size,
    "image moved over, same size and mtime": _replace_image_keeping_mtime,
    "a clip deleted": _delete_a_clip,
    "the film deleted": _delete_the_film,
    "a pick made": _pick,
}


def test_a_removed_film_is_joined_again_from_cached_previews_without_numpy(
    project: Path,
) -> None:
    # The clips are cached: the preview's cache is looked up without its drawing code, and
    # the film is joined by stream copy with its sound spliced, so neither numpy (nor
    # moviepy) is loaded.
    film = project / "out" / "stamp.mp4"
    film.unlink()
    script = (
        "import atexit, json, sys\n"
        "atexit.register(lambda: print(json.dumps(sorted(sys.modules)), file=sys.__stdout__))\n"
        "from storyc.cli.app import main\n"
        "sys.argv = ['storyc', 'build', 'stamp.story', '-o', 'out']\n"
        "main()\n"
    )
    env = {**os.environ, "STORYC_CACHE_DIR": str(project / "cache"), "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=project, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "2 cached" in done.stderr and "lossless" in done.stderr, done.stderr
    assert film.is_file()
    modules = json.loads(done.stdout.strip().splitlines()[-1])
    assert [m for m in modules if m.split(".")[0] in ("numpy", "moviepy")] == []
    assert "storyc.providers.preview" not in modules


@pytest.mark.parametrize("change", list(CHANGES), ids=list(CHANGES))
def test_each_input_change_builds_again(project: Path, change: str) -> None:
    CHANGES[change](project)
    done = _build(project)
    assert _did_work(done), done.stderr
    assert (project / "out" / "stamp.mp4").is_file()


@pytest.mark.parametrize(
    "options",
    [["--absolute-paths"], ["--provider", "preview"], ["--allow-path", "."], ["--force"]],
    ids=lambda options: " ".join(options),
)
def test_other_options_build_again(project: Path, options: list[str]) -> None:
    assert _did_work(_build(project, *options))


def test_a_changed_user_config_builds_again(project: Path) -> None:
    config = project / "config.toml"
    config.write_text("allow-paths = []\n", encoding="utf-8")
    _age(config)
    _age(project / "cache")  # the copy's build re-probed its clips: records seconds old
    os.utime(project, (config.stat().st_atime, config.stat().st_mtime))  # the folder's mtime
    env: dict[str, str | None] = {"STORYC_CONFIG": str(config)}
    assert _did_work(_build(project, env=env))  # a new environment: builds once
    assert not _did_work(_build(project, env=env))
    _touch_config(project)
    assert _did_work(_build(project, env=env))


def test_an_api_key_is_no_input_and_leaves_no_trace(project: Path) -> None:
    key = "fal-secret-value-1234567890"
    assert not _did_work(_build(project, env={"FAL_KEY": key, "OPENAI_API_KEY": key}))
    stamps = [p for p in project.rglob(".storyc-*.json")]
    assert stamps
    for stamp in stamps:
        text = stamp.read_text(encoding="utf-8")
        assert key not in text
        assert hashlib.sha256(key.encode()).hexdigest() not in text


def test_a_story_touched_but_unchanged_is_still_up_to_date(project: Path) -> None:
    os.utime(project / "stamp.story")  # same bytes, new mtime: the hash says nothing changed
    assert not _did_work(_build(project))


def test_an_unreadable_stamp_builds_normally(project: Path) -> None:
    (project / "out" / ".storyc-inputs.json").write_text("{not json", encoding="utf-8")
    done = _build(project)
    assert _did_work(done)
    # The stamp after compiling still spares the assembly: nothing was rendered or joined.
    assert "0 rendered" in done.stderr and "up to date" in done.stderr


def test_an_input_changed_seconds_before_the_build_is_not_trusted(project: Path) -> None:
    _edit_story(project)  # written now: its mtime may share a tick with a later edit
    assert _did_work(_build(project))
    assert not (project / "out" / ".storyc-inputs.json").exists()
    assert _did_work(_build(project))  # so the next build checks it the long way


def test_the_early_reading_knows_every_option_of_build_or_leaves_it_to_typer() -> None:
    import typer.main

    from storyc.cli import build as build_module
    from storyc.cli.app import app

    group = typer.main.get_command(app)
    command = group.get_command(group.make_context("storyc", ["build"]), "build")  # type: ignore[attr-defined]
    declared = {
        opt
        for param in command.get_params(command.make_context("build", ["x"]))  # with --help
        if param.param_type_name == "option"
        for opt in (*param.opts, *param.secondary_opts)
    }
    known = set(build_module._VALUE_OPTIONS) | set(build_module._FLAG_OPTIONS)
    # Options that always mean work (or help) are deliberately left to typer.
    left_to_typer = {"--force", "--resubmit", "--resubmit-uncertain", "--help"}
    assert declared == known | left_to_typer


@pytest.mark.parametrize(
    "args",
    [
        ["--force"],
        ["--resubmit", "01"],
        ["--resubmit-uncertain"],
        ["--jobs", "0"],
        ["-j3"],
        ["--absolute-paths"],
        ["--provider", "preview"],
        ["--out", "elsewhere"],
        ["--", "stamp.story"],
        ["--max-cost", "nan"],
    ],
    ids=lambda args: " ".join(args),
)
def test_the_early_reading_answers_only_for_the_build_it_recorded(
    project: Path, args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from storyc.cli.build import up_to_date_before_parsing

    monkeypatch.chdir(project)
    monkeypatch.setenv("STORYC_CACHE_DIR", str(project / "cache"))
    assert up_to_date_before_parsing(["stamp.story", "-o", "out"])
    files = [a for a in args if a.endswith(".story")]
    rest = [a for a in args if not a.endswith(".story")]
    assert not up_to_date_before_parsing([*(files or ["stamp.story"]), "-o", "out", *rest])

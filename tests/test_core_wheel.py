"""An installed wheel works on its own: the grammar and templates ship inside it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
    )
    return next(out.glob("storyc-*.whl"))


def test_wheel_carries_grammar_templates_and_model_table(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "storyc/_shipped/grammar/story.lark" in names
    assert {
        "storyc/_shipped/templates/sora.j2",
        "storyc/_shipped/templates/veo.j2",
        "storyc/_shipped/templates/kling.j2",
    } <= set(names)
    assert "storyc/plan/models.toml" in names


def test_installed_wheel_compiles_an_example_outside_the_checkout(
    wheel: Path, tmp_path: Path
) -> None:
    # Install the wheel alone into a folder and put it first on the path, away from the
    # checkout, so nothing can be read from the source tree.
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
    )
    work = tmp_path / "work"
    shutil.copytree(ROOT / "examples", work / "examples")
    env = {**os.environ, "PYTHONPATH": str(target), "PYTHONSAFEPATH": "1"}
    script = (
        "import storyc, storyc.resources as r, sys;"
        "print(storyc.__file__); print(r.grammar_path()); print(r.templates_dir());"
        "from storyc.cli import main; sys.argv=['storyc','compile','examples/cafe.story','-o','out']; main()"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=work, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    module_file, grammar, templates = run.stdout.splitlines()[:3]
    assert module_file.startswith(str(target))
    assert grammar.startswith(str(target)) and templates.startswith(str(target))
    assert (work / "out" / "plan.json").is_file()
    assert (work / "out" / "01.prompt.txt").read_text().startswith("Style: 35mm film look")

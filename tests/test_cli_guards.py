"""Guards that must hold before anything is paid: a budget that is a number, a key that can
be one. Both are refused up front with one clear message (and the key never shown)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import Ran, cli_overrides, storyc_main

from storyc.providers.errors import RUN_WIDE, BadKey, MissingKey, read_key
from storyc.providers.fal import FalRenderer
from storyc.providers.openai import OpenAIRenderer
from storyc.providers.prodia import ProdiaRenderer

STORY = """title: Guards
model: sora-2
provider: {provider}
size: 1280x720

scene "S":
    shot one 4s:
        action: a lighthouse blinks
"""


def storyc(tmp_path: Path, *args: str, **env: str) -> Ran:
    """`storyc ARGS` in this process, through `storyc.cli.main` (see cli_support)."""
    return storyc_main(args, cwd=tmp_path, env=cli_overrides(tmp_path / "cache", **env))


def write(tmp_path: Path, provider: str) -> str:
    (tmp_path / "spot.story").write_text(STORY.format(provider=provider), encoding="utf-8")
    return "spot.story"


@pytest.mark.parametrize("command", ["render", "build"])
@pytest.mark.parametrize("budget", ["nan", "inf", "-inf", "-1", "1e999"])
def test_max_cost_must_be_a_finite_number_of_dollars(
    tmp_path: Path, command: str, budget: str
) -> None:
    story = write(tmp_path, "preview")

    run = storyc(tmp_path, command, story, f"--max-cost={budget}")

    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    assert "Invalid value for '--max-cost'" in run.stderr
    assert not (tmp_path / "build").exists()  # refused before anything ran


def test_max_cost_zero_is_a_budget_the_free_preview_keeps(tmp_path: Path) -> None:
    run = storyc(tmp_path, "render", write(tmp_path, "preview"), "--max-cost", "0")

    assert run.returncode == 0, run.stderr


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("sk-abc\ndef", "a line break"),
        ("sk-abc\r\ndef", "a line break"),
        ("sk-abc def", "a space or another blank"),
        ("sk-abc\tdef", "a space or another blank"),
        ("sk-abcdéf", "a non-ASCII character"),
        ("sk-abc\x7fdef", "a control character"),
    ],
)
def test_read_key_names_the_flaw_and_never_the_key(
    monkeypatch: pytest.MonkeyPatch, key: str, problem: str
) -> None:
    monkeypatch.setenv("SOME_KEY", key)

    with pytest.raises(BadKey) as refused:
        read_key("openai", "SOME_KEY")

    said = str(refused.value)
    assert f"has {problem} inside it" in said and "SOME_KEY" in said
    assert "abc" not in said and "def" not in said


def test_read_key_strips_the_ends_and_still_says_when_the_key_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOME_KEY", "  sk-abc\n")
    assert read_key("openai", "SOME_KEY") == "sk-abc"
    assert read_key("openai", "SOME_KEY", given="sk-given") == "sk-given"
    monkeypatch.setenv("SOME_KEY", " \n")
    with pytest.raises(MissingKey):
        read_key("openai", "SOME_KEY")
    assert BadKey in RUN_WIDE


@pytest.mark.parametrize(
    ("renderer", "variable"),
    [
        (OpenAIRenderer, "OPENAI_API_KEY"),
        (FalRenderer, "FAL_KEY"),
        (ProdiaRenderer, "PRODIA_TOKEN"),
    ],
)
def test_every_renderer_refuses_a_broken_key_up_front(
    monkeypatch: pytest.MonkeyPatch, renderer: type, variable: str
) -> None:
    monkeypatch.setenv(variable, "key-with\nnewline")

    with pytest.raises(BadKey, match=variable):
        renderer()


def test_render_with_a_broken_key_says_so_once_without_the_key(tmp_path: Path) -> None:
    story = write(tmp_path, "openai")
    key = "sk-abc\ndef-0123456789"

    run = storyc(
        tmp_path,
        "render",
        story,
        "--yes",
        OPENAI_API_KEY=key,
        OPENAI_BASE_URL="http://127.0.0.1:9/v1",  # nothing listens: nothing may be sent
    )

    assert run.returncode != 0
    assert "Traceback" not in run.stderr
    assert run.stderr.count("error:") == 1
    assert "OPENAI_API_KEY has a line break inside it" in run.stderr
    for piece in ("sk-abc", "def-0123456789"):
        assert piece not in run.stdout + run.stderr

"""docs/language.md says what storyc does: its stories check clean, its prompts are the ones
the templates write, its codes exist, and its model table is the capability table."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from storyc.check.catalog import BY_CODE
from storyc.frontend import analyze_source
from storyc.plan import capability_docs
from storyc.plan.capabilities import load_table

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "language.md"
TEXT = PAGE.read_text(encoding="utf-8")
STORY_BLOCKS = re.findall(r"```story\n(.*?)```", TEXT, flags=re.DOTALL)


def _section(title: str) -> str:
    start = TEXT.index(f"\n## {title}\n")
    end = TEXT.find("\n## ", start + 1)
    return TEXT[start : end if end > 0 else None]


@pytest.fixture
def story_dir(tmp_path: Path) -> Path:
    """A folder with the reference files the examples name (`refs/mara.mp4`, ...)."""
    shutil.copytree(ROOT / "examples" / "refs", tmp_path / "refs")
    return tmp_path


def test_the_model_table_is_generated_from_the_capability_table() -> None:
    assert capability_docs.updated(TEXT, load_table()) == TEXT, (
        "run `python -m storyc.plan.capability_docs`"
    )
    for offering in load_table().offerings:
        assert f"| `{offering.model}` | `{offering.provider}` |" in TEXT


def test_the_page_has_story_examples() -> None:
    assert len(STORY_BLOCKS) >= 4


@pytest.mark.parametrize("number", range(len(STORY_BLOCKS)))
def test_every_story_example_compiles_without_errors(number: int, story_dir: Path) -> None:
    path = story_dir / f"example-{number}.story"
    path.write_text(STORY_BLOCKS[number], encoding="utf-8")
    result = analyze_source(STORY_BLOCKS[number], str(path))
    errors = [f"{d.span.line}: {d.code} {d.message}" for d in result.diagnostics if d.is_error]
    assert not errors
    assert result.plan is not None


def test_every_code_the_page_names_exists() -> None:
    codes = set(re.findall(r"\b([EPSCT]\d{3})\b", TEXT))
    assert len(codes) > 20
    assert codes <= set(BY_CODE), sorted(codes - set(BY_CODE))


def test_the_layers_example_does_what_the_page_says(story_dir: Path) -> None:
    source = next(block for block in STORY_BLOCKS if "title: Layers" in block)
    result = analyze_source(source, str(story_dir / "layers.story"))
    assert result.story is not None
    a, b = result.story.shots

    def cues(shot: object) -> dict[str, str | None]:
        return {key: shot.cue(key) for key in ("light", "music", "sfx", "grade")}  # type: ignore[attr-defined]

    assert cues(a) == {
        "light": "a single candle",
        "music": "a slow piano",
        "sfx": "an espresso machine hisses",
        "grade": "teal and orange",
    }
    assert cues(b) == {
        "light": "warm tungsten",
        "music": None,
        "sfx": "an espresso machine hisses",
        "grade": "teal and orange",
    }


@pytest.mark.parametrize(
    ("position", "model", "provider"),
    [(0, "sora-2", "preview"), (1, "veo-3.1", "fal"), (2, "kling-3-pro", "fal")],
)
def test_the_prompt_examples_are_what_the_templates_write(
    position: int, model: str, provider: str, story_dir: Path
) -> None:
    section = _section("Prompts")
    source = re.findall(r"```story\n(.*?)```", section, flags=re.DOTALL)[0]
    shown = re.findall(r"```text\n(.*?)```", section, flags=re.DOTALL)[position]
    source = source.replace("model: sora-2\n", f"model: {model}\n")
    result = analyze_source(source, str(story_dir / "prompts.story"), provider=provider)
    assert result.plan is not None, [d.message for d in result.diagnostics]
    assert [clip.prompt for clip in result.plan.clips] == [shown.rstrip("\n")]
    assert "logo" not in shown  # the `note:` is never sent

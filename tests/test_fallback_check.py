"""`storyc check` on a provider list (issue 11): every fallback's provider rules are run, so
a story `check` passes compiles for every provider `build` may send a clip to, and one that
`build` would refuse is reported by `check` first, naming the fallback."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyc.check.provider import provider_chain
from storyc.cli.fallback_view import compile_chain
from storyc.errors import StorycError
from storyc.frontend import analyze_source, compile_file
from storyc.providers.fallback import check_chain


def story(header: str, shots: str = "") -> str:
    body = shots or (
        "    shot 4s:\n        action: a keeper climbs the stairs.\n"
        "    shot 4s:\n        action: the lamp turns.\n"
    )
    return f'title: Lamp\n{header}\n\nscene "Tower":\n{body}'


def errors(source: str) -> list[str]:
    return [d.message for d in analyze_source(source, "spot.story").diagnostics if d.is_error]


def test_a_fallbacks_p204_is_an_error_naming_the_fallback() -> None:
    # fal renders 1920x1080; prodia's Veo does not: `build` would refuse the prodia plan.
    source = story("model: veo-3.1-fast\nprovider: fal, prodia\nsize: 1920x1080")
    result = analyze_source(source, "spot.story")

    (problem,) = [d for d in result.diagnostics if d.is_error]
    assert problem.code == "P204"
    assert problem.message == (
        "on the fallback `prodia`: veo-3.1-fast on prodia does not render 1920x1080"
    )
    assert result.plan is None


def test_the_same_story_on_its_first_provider_alone_is_clean() -> None:
    assert errors(story("model: veo-3.1-fast\nprovider: fal\nsize: 1920x1080")) == []


def test_the_provider_option_list_is_checked_too() -> None:
    source = story("model: veo-3.1-fast\nprovider: fal\nsize: 1920x1080")
    found = analyze_source(source, "spot.story", provider="fal,prodia").diagnostics
    assert [d.code for d in found if d.is_error] == ["P204"]


def test_a_fallbacks_note_keeps_its_severity() -> None:
    # prodia takes the seed; OpenAI, the fallback, ignores it: a note (P206 info), no error.
    source = story("model: sora-2\nprovider: prodia, openai\nseed: 7")
    result = analyze_source(source, "spot.story")

    (note,) = [d for d in result.diagnostics if d.code == "P206"]
    assert note.severity.value == "info"
    assert note.message.startswith("on the fallback `openai`: sora-2 on openai takes no seed")
    assert result.plan is not None


def test_a_diagnostic_every_provider_gives_is_said_once(tmp_path: Path) -> None:
    # A missing first frame is the same fact on every provider: one P210, not prefixed.
    source = story(
        "model: veo-3.1-fast\nprovider: fal, runway, prodia",
        '    shot 4s from "missing.png":\n        action: a keeper climbs.\n',
    )
    found = analyze_source(source, str(tmp_path / "spot.story")).diagnostics
    missing = [d for d in found if d.code == "P210"]
    assert [d.message for d in missing] == ["first-frame image `missing.png` does not exist"]


def test_a_fallback_that_cuts_other_clips_is_p203() -> None:
    # Two seeds: OpenAI sends none, so its clip holds both shots; prodia sends seeds, so it
    # makes two clips, and a clip refused by number would be another clip there.
    source = story(
        "model: sora-2\nprovider: openai, prodia",
        "    shot 4s seed 1:\n        action: a keeper climbs.\n"
        "    shot 4s seed 2:\n        action: the lamp turns.\n",
    )
    found = [d for d in analyze_source(source, "spot.story").diagnostics if d.code == "P203"]
    assert [d.message for d in found] == [
        "`prodia` cannot take the clips `openai` refuses: the story makes 1 clip(s) on "
        "openai but 2 on prodia"
    ]
    assert found[0].is_error


def _build_refuses(path: Path) -> bool:
    """What `build` does with a provider list: compile for each provider, then
    `check_chain` (the plans must cut the story alike)."""
    chain = provider_chain(compile_file(path, provider=None).story.header.provider)  # type: ignore[union-attr]
    plans = []
    for name in chain:
        alone = compile_file(path, provider=name)
        if alone.has_errors or alone.plan is None:
            return True
        plans.append(alone.plan)
    try:
        check_chain(plans)
    except StorycError:
        return True
    return False


CASES = {
    "clean": ("model: veo-3.1-fast\nprovider: fal, runway", ""),
    "fallback size": ("model: veo-3.1-fast\nprovider: fal, prodia\nsize: 1920x1080", ""),
    "first size": ("model: veo-3.1-fast\nprovider: prodia, fal\nsize: 1920x1080", ""),
    "4k on runway": ("model: veo-3.1-fast\nprovider: fal, runway\nsize: 3840x2160", ""),
    "cut alike": ("model: sora-2\nprovider: openai, prodia", ""),
    "cut otherwise": (
        "model: sora-2\nprovider: openai, prodia",
        "    shot 4s seed 1:\n        action: a.\n    shot 4s seed 2:\n        action: b.\n",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_check_and_build_agree(tmp_path: Path, case: str) -> None:
    header, shots = CASES[case]
    path = tmp_path / "spot.story"
    path.write_text(story(header, shots), encoding="utf-8")

    checked = compile_file(path)
    refused = _build_refuses(path)

    assert checked.has_errors == refused, [str(d) for d in checked.diagnostics]
    if not checked.has_errors:  # and `build`'s own path takes it
        chain = provider_chain(checked.story.header.provider)  # type: ignore[union-attr]
        check_chain(compile_chain(path, checked, chain))


@pytest.mark.parametrize("case", ["clean", "cut alike"])
def test_the_fallback_plans_are_the_story_compiled_for_each_fallback(
    tmp_path: Path, case: str
) -> None:
    header, shots = CASES[case]
    path = tmp_path / "spot.story"
    path.write_text(story(header, shots), encoding="utf-8")
    checked = compile_file(path)
    assert checked.plan is not None and not checked.has_errors
    chain = provider_chain(checked.story.header.provider)  # type: ignore[union-attr]
    plans = compile_chain(path, checked, chain)
    assert len(plans) == len(chain) == len(checked.fallback_plans) + 1
    for name, plan in zip(chain, plans, strict=True):
        alone = compile_file(path, provider=name).plan
        assert alone is not None
        assert plan.to_json() == alone.to_json(), name


def test_a_writers_templates_word_the_fallbacks_prompts_too(tmp_path: Path) -> None:
    # One analysis for every provider: the fallback's prompts come from the same templates
    # `check` used (compiling the fallback alone once left `--templates` out).
    path = tmp_path / "spot.story"
    path.write_text(story("model: veo-3.1-fast\nprovider: fal, runway"), encoding="utf-8")
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "veo.j2").write_text("MINE: {{ shots | length }} shots", encoding="utf-8")
    source = path.read_text(encoding="utf-8")
    checked = analyze_source(source, str(path), template_dir=templates)
    assert checked.plan is not None and len(checked.fallback_plans) == 1
    for plan in (checked.plan, *checked.fallback_plans):
        assert all(clip.prompt.startswith("MINE: ") for clip in plan.clips)


def test_a_fallback_left_without_a_plan_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "spot.story"
    path.write_text(story("model: veo-3.1-fast\nprovider: fal, runway"), encoding="utf-8")
    checked = compile_file(path)
    checked.fallback_plans = []
    with pytest.raises(StorycError, match="does not compile for the fallback `runway`"):
        compile_chain(path, checked, ["fal", "runway"])

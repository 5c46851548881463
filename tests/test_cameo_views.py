"""A cameo with several images: `side:`, `back:` and `outfit:` beside its own file (the
front), checked like any reference, counted against each model's limit and sent the way each
model takes several images of one subject."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakeprovider import make_png
from test_render_runway import problems, sdk_params

from storyc.frontend import compile_file
from storyc.providers.engine import uploads_of
from storyc.providers.runway import TEXT_TO_VIDEO


def write(
    folder: Path, model: str, provider: str, cameo_body: str, *, action: str = "@mara waves."
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("mara.png", "mara-side.png", "mara-back.png", "kid.png"):
        make_png(folder / "refs" / name, 512, 512)
    make_png(folder / "dawn.png", 1920, 1080)
    text = (
        f"title: views\nmodel: {model}\nprovider: {provider}\n\n"
        f'cameo mara: "refs/mara.png"\n    look: a keeper in a yellow coat\n{cameo_body}\n'
        'cameo kid: "refs/kid.png"\n    look: a boy\n\n'
        f'scene "Harbour":\n    shot 4s from "dawn.png":\n        action: {action}\n'
    )
    path = folder / "views.story"
    path.write_text(text, encoding="utf-8")
    return path


def codes(path: Path) -> list[str]:
    return [d.code for d in compile_file(path).diagnostics]


SIDE_AND_BACK = '    side: "refs/mara-side.png"\n    back: "refs/mara-back.png"'


def test_runway_sends_every_image_of_a_cameo_as_its_references(tmp_path: Path) -> None:
    story = write(tmp_path, "seedance-2", "runway", SIDE_AND_BACK)
    story.write_text(story.read_text().replace(' from "dawn.png"', ""), encoding="utf-8")

    result = compile_file(story)

    assert result.plan is not None, [str(d) for d in result.diagnostics]
    (clip,) = result.plan.clips
    assert clip.request["references"] == [
        {"uri": "<upload of mara.png>"},
        {"uri": "<upload of mara-side.png>"},
        {"uri": "<upload of mara-back.png>"},
    ]
    assert problems(clip.request, sdk_params(TEXT_TO_VIDEO, "seedance2")) == []
    # The consent list names every file that would leave the machine.
    assert sorted(u.path.name for u in uploads_of(result.plan.clips)) == [
        "mara-back.png",
        "mara-side.png",
        "mara.png",
    ]


def test_kling_elements_take_the_views_as_their_distinct_references(tmp_path: Path) -> None:
    story = write(tmp_path, "kling-3-pro", "fal", SIDE_AND_BACK, action="@mara waves at @kid.")

    result = compile_file(story)

    assert result.plan is not None, [str(d) for d in result.diagnostics]
    (clip,) = result.plan.clips
    assert clip.request["input"]["elements"] == [
        {
            "frontal_image_url": "<upload of mara.png>",
            "reference_image_urls": ["<upload of mara-side.png>", "<upload of mara-back.png>"],
        },
        # A cameo without views sends its image again (the schema wants one reference).
        {
            "frontal_image_url": "<upload of kid.png>",
            "reference_image_urls": ["<upload of kid.png>"],
        },
    ]


def test_seedance_numbers_each_image_so_the_next_cameo_skips_the_views(tmp_path: Path) -> None:
    story = write(tmp_path, "seedance-2", "fal", SIDE_AND_BACK, action="@mara waves at @kid.")
    story.write_text(story.read_text().replace(' from "dawn.png"', ""), encoding="utf-8")

    result = compile_file(story)

    assert result.plan is not None, [str(d) for d in result.diagnostics]
    (clip,) = result.plan.clips
    assert len(clip.request["input"]["image_urls"]) == 4
    assert clip.prompt == "@Image1 (a keeper in a yellow coat) waves at @Image4 (a boy)."


def test_views_count_against_the_models_reference_limit(tmp_path: Path) -> None:
    # Veo reference-to-video on fal takes 3 images: mara's 3 and the kid's 1 are 4.
    story = write(tmp_path, "veo-3.1", "fal", SIDE_AND_BACK, action="@mara waves at @kid.")
    story.write_text(story.read_text().replace(' from "dawn.png"', ""), encoding="utf-8")
    story.write_text(story.read_text().replace("4s", "8s"), encoding="utf-8")

    result = compile_file(story)

    (problem,) = [d for d in result.diagnostics if d.code == "P212"]
    assert "sends 4 cameo images" in problem.message and "at most 3" in problem.message


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("    side: refs/mara-side.png", "must name one image file in double quotes"),
        ('    side: "refs/mara.mp4"', "must name one image file in double quotes"),
        ('    side: "refs/mara-side.png"\n    side: "refs/mara-back.png"', "gives `side:` twice"),
    ],
)
def test_a_bad_view_is_s116(tmp_path: Path, body: str, why: str) -> None:
    result = compile_file(write(tmp_path, "seedance-2", "runway", body))

    (problem,) = [d for d in result.diagnostics if d.code == "S116"]
    assert why in problem.message


def test_a_view_is_read_through_the_same_sandbox_as_any_reference(tmp_path: Path) -> None:
    outside = make_png(tmp_path / "private" / "face.png", 64, 64)
    project = tmp_path / "project"
    (project / "storyc.toml").parent.mkdir(parents=True)
    (project / "storyc.toml").write_text("", encoding="utf-8")
    link = project / "refs" / "mara-side.png"
    story = write(project, "seedance-2", "runway", '    side: "refs/mara-side.png"')
    link.unlink()
    link.symlink_to(outside)

    assert "P218" in codes(story)

    link.unlink()
    assert "P210" in codes(story)


def test_a_model_with_one_reference_a_cameo_says_the_views_are_not_sent(tmp_path: Path) -> None:
    story = write(tmp_path, "gen-4.5", "runway", SIDE_AND_BACK)

    result = compile_file(story)

    (problem,) = [d for d in result.diagnostics if d.code == "P216" and "views" in d.message]
    assert "`side:`, `back:`" in problem.message
    assert "S005" not in codes(story)  # the keys are known: no unknown-key report

"""Packed clips sent shot by shot on Runway: the multi-shot recipe
(`POST /v1/recipes/multi_shot_video`, custom mode) and Kling's `providerSettings.multiPrompt`,
planned to each target's limits and checked against Runway's own SDK types (runwayml)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fakeprovider import FakeProvider, make_png
from fakeprovider.testing import provider_env, storyc

# runwayml is a test dependency: its types are the vendor's schema.
from runwayml.types.recipe_multi_shot_video_params import RecipeMultiShotVideoParams
from test_render_runway import problems, sdk_params

from storyc.frontend import compile_file
from storyc.plan.capabilities import load_table
from storyc.plan.schema import ClipPlan
from storyc.probe import probe
from storyc.providers.runway import IMAGE_TO_VIDEO, MULTI_SHOT_RECIPE, TEXT_TO_VIDEO

# The clips the fake provider serves (width, height, seconds); see tests/conftest.py.
FAKE_MEDIA = ((1280, 720, 10), (1920, 1080, 5))

RECIPE = load_table().offering("runway", "runway-multi-shot")


def write(folder: Path, model: str, scenes: list[list[str]], header: str = "") -> Path:
    """A packed story for `model` on runway: each scene a list of shot headers (`3s`,
    `2s from "dawn.png"`), each shot with its own action."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"title: {model}", f"model: {model}", "provider: runway", header, ""]
    for number, shots in enumerate(scenes, 1):
        lines.append(f'scene "Scene {number}":')
        for shot_number, shot in enumerate(shots, 1):
            lines += [f"    shot {shot}:", f"        action: beat {number}.{shot_number}.", ""]
    path = folder / "story.story"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def plan_of(path: Path) -> ClipPlan:
    result = compile_file(path)
    assert result.plan is not None, [str(d) for d in result.diagnostics]
    return result.plan


def test_the_recipe_row_knows_the_sdks_limits() -> None:
    assert RECIPE is not None
    assert (RECIPE.min_shots, RECIPE.max_shots, RECIPE.lengths) == (3, 5, (5, 10, 15))
    assert RECIPE.api_model == "multi_shot_video" and not RECIPE.takes_seed


def test_a_packed_scene_goes_to_the_recipe_as_shots_summing_to_a_length_it_renders(
    tmp_path: Path,
) -> None:
    # Eight 2 s shots: five fill one clip (the most the recipe takes), three the next, whose
    # last shot is rounded up so the clip lasts 10 s.
    plan = plan_of(write(tmp_path, "runway-multi-shot", [["2s"] * 8]))

    bodies = [clip.request for clip in plan.clips]
    assert [[shot["duration"] for shot in body["shots"]] for body in bodies] == [
        [2, 2, 2, 2, 2],
        [2, 2, 6],
    ]
    assert [body["duration"] for body in bodies] == [10, 10]
    assert [shot["prompt"] for shot in bodies[1]["shots"]] == [
        "Beat 1.6.",
        "Beat 1.7.",
        "Beat 1.8.",
    ]
    assert {(body["mode"], body["version"]) for body in bodies} == {("custom", "2026-06")}
    assert plan.clips[1].slack == 4000  # rendered 10 s for 6 s of story: trimmed
    for body in bodies:
        assert problems(body, RecipeMultiShotVideoParams) == [], body


def test_every_recipe_body_matches_the_sdks_own_types(tmp_path: Path) -> None:
    assert RECIPE is not None
    for size in RECIPE.sizes:
        width, height = (int(n) for n in size.split("x"))
        folder = tmp_path / size
        make_png(folder / "dawn.png", width, height)
        story = write(
            folder,
            "runway-multi-shot",
            [["1s", "1s", "3s"], ['3s from "dawn.png"', "3s", "3s", "3s", "3s"]],
            header=f"size: {size}",
        )
        plan = plan_of(story)
        assert len(plan.clips) == 2
        for clip in plan.clips:
            body = clip.request
            assert problems(body, RecipeMultiShotVideoParams) == [], body
            assert sum(shot["duration"] for shot in body["shots"]) == body["duration"]
            assert body["ratio"] == size.replace("x", ":")
        assert "firstFrame" not in plan.clips[0].request
        assert plan.clips[1].request["firstFrame"] == {"uri": "<upload of dawn.png>"}


def test_the_type_reader_catches_a_recipe_drift() -> None:
    good = {"mode": "custom", "version": "2026-06", "shots": [{"prompt": "a", "duration": 5}]}
    assert problems(good, RecipeMultiShotVideoParams) == []
    assert problems({**good, "version": "2025-01"}, RecipeMultiShotVideoParams)
    assert problems({**good, "duration": 12}, RecipeMultiShotVideoParams)
    assert problems({**good, "model": "gen4.5"}, RecipeMultiShotVideoParams)


@pytest.mark.parametrize(
    ("shots", "why"),
    [
        (["4s", "4s"], "clip 1 has 2 shots (8s)"),
        (["3s"], "clip 1 has 1 shot (3s)"),
        # A 3.5 s shot can only end a clip: the shot after it starts another, alone.
        (["3s", "3s", "3.5s", "3s"], "clip 2 has 1 shot (3s)"),
    ],
)
def test_a_clip_the_recipe_cannot_take_is_p220_and_nothing_is_planned(
    tmp_path: Path, shots: list[str], why: str
) -> None:
    result = compile_file(write(tmp_path, "runway-multi-shot", [shots]))

    (problem,) = [d for d in result.diagnostics if d.code == "P220"]
    assert why in problem.message
    assert "3 to 5 shots, 5, 10 or 15 s in all" in problem.message
    assert result.plan is None


@pytest.mark.parametrize(
    ("shots", "clips"),
    [
        # Greedy packing fills a clip first: 5 + 1, and the recipe takes no clip of one shot.
        (["2s"] * 6, [[2, 2, 6], [2, 2, 6]]),
        # 4 + 2 greedily (15 s is the most a clip lasts); 3 + 3 fits.
        (["3s", "3s", "3s", "3s", "3s", "3s"], [[3, 3, 4], [3, 3, 4]]),
        # Three clips of which greedy packing leaves the last with one shot: 5 + 5 + 1.
        (["1s"] * 11, [[1, 1, 1, 1, 1], [1, 1, 3], [1, 1, 3]]),
    ],
)
def test_a_scene_the_greedy_packing_strands_is_cut_so_every_clip_fits(
    tmp_path: Path, shots: list[str], clips: list[list[int]]
) -> None:
    plan = plan_of(write(tmp_path, "runway-multi-shot", [shots]))

    assert [[shot["duration"] for shot in c.request["shots"]] for c in plan.clips] == clips
    assert [c.index for c in plan.clips] == list(range(1, len(clips) + 1))
    # Every shot once, in order.
    assert [s.index for c in plan.clips for s in c.shots] == list(range(1, len(shots) + 1))


def test_the_cut_is_the_scenes_own_and_the_next_scene_is_numbered_after_it(
    tmp_path: Path,
) -> None:
    plan = plan_of(write(tmp_path, "runway-multi-shot", [["2s"] * 6, ["2s"] * 3]))

    assert [(c.index, c.scene_index, len(c.shots)) for c in plan.clips] == [
        (1, 1, 3),
        (2, 1, 3),
        (3, 2, 3),
    ]


def test_a_from_image_still_closes_a_clip_so_no_cut_can_save_the_scene(
    tmp_path: Path,
) -> None:
    # 2 s x 6 would be 3 + 3, but the sixth shot starts from an image: it is a clip alone.
    make_png(tmp_path / "dawn.png", 1280, 720)
    path = write(tmp_path, "runway-multi-shot", [[*["2s"] * 5, '2s from "dawn.png"']])
    result = compile_file(path)

    (problem,) = [d for d in result.diagnostics if d.code == "P220"]
    assert "clip 2 has 1 shot (2s)" in problem.message
    assert problem.help is not None and "add 2 shots to this clip" in problem.help
    assert result.plan is None


@pytest.mark.parametrize(
    ("shots", "hint"),
    [
        # 5 + 5 + 5 is the only first clip; the fourth 5 s shot is left alone.
        (["5s"] * 4, "add 2 shots to this clip"),
        (["4s", "4s"], "add 1 shot to this clip"),
    ],
)
def test_where_no_cut_fits_p220_says_what_would(
    tmp_path: Path, shots: list[str], hint: str
) -> None:
    result = compile_file(write(tmp_path, "runway-multi-shot", [shots]))

    (problem,) = [d for d in result.diagnostics if d.code == "P220"]
    assert problem.help is not None and hint in problem.help


def test_rows_without_min_shots_keep_the_greedy_packing(tmp_path: Path) -> None:
    # Kling on Runway takes 1 to 6 shots of 3 s or more, 15 s at most: seven 3 s shots
    # stay 5 + 2, as greedy packing cuts them.
    plan = plan_of(write(tmp_path, "kling-3-pro", [["3s"] * 7]))

    assert [len(c.shots) for c in plan.clips] == [5, 2]


@pytest.mark.parametrize("model", ["kling-3-pro", "kling-3-standard"])
def test_a_packed_kling_clip_on_runway_goes_as_multi_prompt(tmp_path: Path, model: str) -> None:
    offering = load_table().offering("runway", model)
    assert offering is not None
    width, height = (int(n) for n in offering.sizes[0].split("x"))
    make_png(tmp_path / "dawn.png", width, height)
    story = write(
        tmp_path,
        model,
        [["3s", "4s", "4.5s"], ['3s from "dawn.png"', "3s"], ["5s"]],
        header=f"size: {offering.sizes[0]}",
    )

    plan = plan_of(story)

    text, image, single = (clip.request for clip in plan.clips)
    assert text["providerSettings"] == {
        "multiPrompt": [
            {"prompt": "Beat 1.1.", "duration": 3},
            {"prompt": "Beat 1.2.", "duration": 4},
            {"prompt": "Beat 1.3.", "duration": 5},
        ],
        "shotType": "customize",
    }
    assert text["duration"] == 12 and "promptText" not in text
    assert image["promptImage"] == "<upload of dawn.png>"
    assert [s["duration"] for s in image["providerSettings"]["multiPrompt"]] == [3, 3]
    # One shot alone is one prompt, as before.
    assert "providerSettings" not in single and single["promptText"]
    for clip, endpoint in zip(
        plan.clips, (TEXT_TO_VIDEO, IMAGE_TO_VIDEO, TEXT_TO_VIDEO), strict=True
    ):
        assert problems(clip.request, sdk_params(endpoint, offering.api_model)) == [], clip.request


def _carried(fake: FakeProvider, value: Any) -> Any:
    """A received body with each runway:// URI replaced by the bytes' name it carried."""
    if isinstance(value, dict):
        return {k: _carried(fake, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_carried(fake, v) for v in value]
    if isinstance(value, str) and value.startswith("runway://uploads/"):
        return fake.files[f"runway/{value.removeprefix('runway://uploads/')}"][0]
    return value


def test_storyc_render_sends_the_recipe_as_planned_and_gets_a_real_mp4(
    fake: FakeProvider, tmp_path: Path
) -> None:
    frame = make_png(tmp_path / "dawn.png", 1920, 1080)
    story = write(
        tmp_path,
        "runway-multi-shot",
        [['1s from "dawn.png"', "1s", "2.5s"], ["3s", "3s", "3s"]],
        header="size: 1920x1080\n",
    )
    env = provider_env(fake, tmp_path / "cache")

    run = storyc(["render", str(story), "--yes", "-o", "out"], env, tmp_path)

    assert run.returncode == 0, run.stdout + run.stderr
    plan = ClipPlan.read(tmp_path / "out" / "plan.json")
    sent = [s for s in fake.requests("submit", "runway") if s.status == 200]
    assert {s.path for s in sent} == {f"/runway{MULTI_SHOT_RECIPE}"}
    arrived = [_carried(fake, json.loads(s.body)) for s in sent]
    arrived.sort(key=lambda body: body["shots"][-1]["prompt"])  # Beat 1.3, Beat 2.3
    planned = [clip.request for clip in plan.clips]
    planned[0] = {**planned[0], "firstFrame": {"uri": frame.read_bytes()}}
    assert arrived == planned
    # The fake charges 10 credits a second ($0.01 each): 5 s and 10 s clips.
    assert "runway reports $1.50 for 2 clip(s) (estimated $6.00)" in run.stderr
    clips = sorted((tmp_path / "out" / "clips").glob("*.mp4"))
    assert [probe(path).size for path in clips] == ["1920x1080", "1920x1080"]

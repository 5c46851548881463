"""Takes belong to a clip: picks per clip, conflicts reported, `plan` counts takes, and
`render`/`build` make every take while the film uses the pick."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from cli_support import storyc_main

from storyc.errors import StorycError
from storyc.frontend import compile_file

STORY = (
    "title: T\nmodel: veo-3.1-fast\nprovider: preview\nseed: 5\ntakes: 2\n"
    'scene "S":\n'
    "    shot wide 2s:\n        camera: static\n        action: a kite rises.\n"
    "    shot 2s:\n        camera: pan left\n        action: the string snaps.\n"
)


@pytest.fixture
def story(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STORYC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("STORYC_PREVIEW_TTS", "off")
    path = tmp_path / "kite.story"
    path.write_text(STORY)
    compilation = compile_file(path)
    assert compilation.plan is not None
    assert [[s.index for s in c.shots] for c in compilation.plan.clips] == [[1, 2]]
    return path


def _lock(story: Path) -> dict[str, int]:
    return json.loads(story.with_name(story.name + ".lock").read_text())["picks"]


def test_a_pick_is_per_clip_and_replaces_the_one_made_through_another_shot(
    story: Path,
) -> None:
    first = storyc_main(["pick", str(story), "wide", "2"], cwd=story.parent)
    assert first.returncode == 0, first.stderr
    assert "clip 01 (shots #1, #2): take 2 of 2" in first.stderr
    assert _lock(story) == {"1": 2}
    second = storyc_main(["pick", str(story), "2", "1"], cwd=story.parent)
    assert second.returncode == 0, second.stderr
    assert _lock(story) == {"2": 1}  # one pick per clip: no silent conflict left behind


def test_two_picks_in_one_clip_are_an_error_that_pick_settles(story: Path) -> None:
    story.with_name(story.name + ".lock").write_text(
        json.dumps({"version": 1, "picks": {"1": 2, "2": 1}})
    )
    with pytest.raises(StorycError, match="clip 01 has two picks"):
        compile_file(story)
    ran = storyc_main(["plan", str(story)], cwd=story.parent)
    assert ran.returncode == 1 and "two picks" in ran.stderr
    settle = storyc_main(["pick", str(story), "1", "2"], cwd=story.parent)
    assert settle.returncode == 0, settle.stderr
    assert _lock(story) == {"1": 2}
    plan = compile_file(story).plan
    assert plan is not None and plan.clips[0].take == 2


def test_pick_suggests_the_shot_numbers_that_plan_shows(story: Path) -> None:
    bad = storyc_main(["pick", str(story), "9", "1"], cwd=story.parent)
    assert bad.returncode == 1
    assert "1 to 2" in bad.stderr and "#N" in bad.stderr
    shown = storyc_main(["plan", str(story)], cwd=story.parent, env={"COLUMNS": "200"})
    assert shown.returncode == 0, shown.stderr
    assert "#1 wide" in shown.stdout and "#2 (" in shown.stdout
    assert "1/2" in shown.stdout  # the take the film uses, of how many
    assert "with every take: 2 renders" in " ".join(shown.stdout.split())


def test_build_renders_every_take_and_the_film_uses_the_pick(story: Path) -> None:
    out = story.parent / "out"
    built = storyc_main(["build", str(story), "-o", str(out)], cwd=story.parent)
    assert built.returncode == 0, built.stderr
    assert "rendering all 2 takes" in " ".join(built.stderr.split())
    takes = sorted(p.name for p in (out / "takes" / "clips").glob("*.mp4"))
    assert len(takes) == 2
    plan = json.loads((out / "plan.json").read_text())
    assert [c["take"] for c in plan["clips"]] == [1]
    film = hashlib.sha256((out / "kite.mp4").read_bytes()).hexdigest()

    assert storyc_main(["pick", str(story), "wide", "2"], cwd=story.parent).returncode == 0
    again = storyc_main(["build", str(story), "-o", str(out)], cwd=story.parent)
    assert again.returncode == 0, again.stderr
    plan = json.loads((out / "plan.json").read_text())
    assert [c["take"] for c in plan["clips"]] == [2]
    assert f"{1:02d}-{plan['clips'][0]['id']}.mp4" in takes  # rendered the first time
    assert hashlib.sha256((out / "kite.mp4").read_bytes()).hexdigest() != film


def test_render_counts_every_take(story: Path) -> None:
    out = story.parent / "out"
    ran = storyc_main(["render", str(story), "-o", str(out)], cwd=story.parent)
    assert ran.returncode == 0, ran.stderr
    assert len(list((out / "takes" / "clips").glob("*.mp4"))) == 2
    assert len(list((out / "clips").glob("*.mp4"))) == 1

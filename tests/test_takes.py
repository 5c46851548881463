"""Takes: variants with their own ids and seeds, `storyc pick`, and the board's side-by-side."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cli_support import storyc_main
from typer.testing import CliRunner

from storyc.board.make import make_board
from storyc.cli import app
from storyc.frontend import compile_file
from storyc.plan.takes import all_takes, apply_picks, read_picks, take_variant
from tests.board_support import STORY, write_story

TAKES_STORY = STORY.replace("shot medium 4s:", "shot medium 4s takes 3:")


def test_take_variants_differ_in_id_and_seed(tmp_path: Path) -> None:
    story_path = write_story(tmp_path, TAKES_STORY.replace("sora-2", "sora-2\nprovider: prodia"))
    compilation = compile_file(story_path)
    assert compilation.plan is not None and compilation.story is not None
    takes = all_takes(compilation.story, compilation.plan)
    assert list(takes) == [2]  # only the clip of the shot with `takes 3`
    variants = takes[2]
    assert [v.take for v in variants] == [1, 2, 3]
    assert variants[0] == compilation.plan.clips[1]  # take 1 is the planned clip itself
    assert len({v.id for v in variants}) == 3
    seeds = [v.seed for v in variants]
    assert seeds == [7, 8, 9]  # the header's seed, then one more per take
    assert [v.request["config"]["seed"] for v in variants] == seeds
    assert take_variant(variants[0], 1) is variants[0]


def test_stories_without_takes_plan_exactly_as_before(tmp_path: Path) -> None:
    compilation = compile_file(write_story(tmp_path))
    assert compilation.plan is not None and compilation.story is not None
    assert all_takes(compilation.story, compilation.plan) == {}
    assert apply_picks(compilation.story, compilation.plan, {}) == compilation.plan


def test_pick_writes_the_lock_and_the_board_follows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORYC_CACHE_DIR", str(tmp_path / "cache"))
    story = write_story(tmp_path, TAKES_STORY)
    runner = CliRunner()
    bad = runner.invoke(app, ["pick", str(story), "medium", "4"])
    assert bad.exit_code == 1 and "has 3 takes" in str(bad.exception)
    assert runner.invoke(app, ["pick", str(story), "nope", "1"]).exit_code == 1

    result = make_board(story, tmp_path / "out")
    html = (tmp_path / "out" / "board.html").read_text(encoding="utf-8")
    figures = re.findall(r'<figure class="take( picked)?"', html)
    assert len(figures) == 3 and figures[0] == " picked"
    assert len(result.rendered) == 4  # two clips, plus takes 2 and 3 of the second

    ok = runner.invoke(app, ["pick", str(story), "medium", "2"])
    assert ok.exit_code == 0, ok.output
    lock = json.loads(story.with_name("rooms.story.lock").read_text())
    assert lock == {"version": 1, "picks": {"3": 2}}
    assert read_picks(story) == {3: 2}
    again = make_board(story, tmp_path / "out")
    assert again.rendered == []  # every take was already in the cache
    plan = again.compilation.plan
    assert plan is not None
    picked = apply_picks(again.compilation.story, plan, {3: 2})  # type: ignore[arg-type]
    html = (tmp_path / "out" / "board.html").read_text(encoding="utf-8")
    assert f'data-clip="{picked.clips[1].id}"' in html
    figures = re.findall(r'<figure class="take( picked)?"', html)
    assert figures == ["", " picked", ""]


def test_compile_render_and_build_honour_the_picked_take(tmp_path: Path) -> None:
    """`storyc pick` writes the lock; every compiling command then uses that take."""
    story = tmp_path / "t.story"
    story.write_text(
        "title: T\nmodel: veo-3.1-fast\nprovider: preview\nseed: 5\ntakes: 2\n"
        'scene "S":\n    shot 4s:\n        action: a kite rises.\n'
    )

    def compiled_clip() -> dict[str, object]:
        out = tmp_path / "out"
        run = storyc_main(["compile", str(story), "-o", str(out)], cwd=tmp_path)
        assert run.returncode == 0, run.stderr
        return json.loads((out / "plan.json").read_text())["clips"][0]

    first = compiled_clip()
    assert first["take"] == 1
    pick = storyc_main(["pick", str(story), "1", "2"], cwd=tmp_path)
    assert pick.returncode == 0, pick.stderr
    picked = compiled_clip()
    assert picked["take"] == 2
    assert picked["id"] != first["id"]
    assert picked["seed"] == 6

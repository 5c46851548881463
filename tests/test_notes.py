"""Nothing a writer writes is dropped without a word (issue 12, item 3): a scene cue after the
scene's last shot is S115, and `note:` lines reach the places a person looks: `plan.json`,
the board, the OTIO markers and `storyc plan --notes`."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from cli_support import storyc_main

from storyc.assemble.otio_export import build_otio
from storyc.assemble.timeline import build_timeline
from storyc.board.page import board_page, render_board
from storyc.check.provider import FileFacts
from storyc.frontend import analyze_source
from storyc.plan.schema import ClipPlan
from storyc.tooling.lint import fix_source, lint_source

STORY = """title: Notes
model: sora-2

scene "Dock":
    note: shoot this one last
    shot wide 4s:
        action: a ferry leaves the dock.
        note: the client wants the logo visible
    shot close-up 4s:
        action: rain on the water.
    note: check the rights to the song
"""


def no_files(_path: Path) -> FileFacts:
    return FileFacts(exists=False)


def analyze(source: str, file: str = "<story>", **kwargs: object) -> object:
    return analyze_source(source, file, read_facts=no_files, **kwargs)  # type: ignore[arg-type]


def test_a_scene_cue_after_the_last_shot_is_an_error_with_a_fix_on_request() -> None:
    source = STORY + "    music: a sad cello\n"
    found = lint_source(source, "t.story", analyze=analyze).diagnostics
    assert [(d.code, d.span.line) for d in found] == [("S115", 12)]
    assert found[0].is_error and "applies to no shot" in found[0].message
    assert fix_source(source, "t.story", analyze=analyze).source == source  # unsafe: asked for
    moved = fix_source(source, "t.story", unsafe=True, analyze=analyze).source
    assert moved.startswith(STORY.split("    note: shoot")[0] + "    music: a sad cello\n")
    result = analyze(moved)
    assert result.diagnostics == [] and result.plan is not None  # type: ignore[attr-defined]
    assert all("cello" in (s.sound or "") for c in result.plan.clips for s in c.shots)  # type: ignore[attr-defined]


def test_a_note_after_the_last_shot_is_a_scene_note() -> None:
    assert lint_source(STORY, "t.story", analyze=analyze).diagnostics == []


def test_notes_are_in_the_plan_and_never_in_a_prompt() -> None:
    plan = analyze(STORY).plan  # type: ignore[attr-defined]
    shots = [s for clip in plan.clips for s in clip.shots]
    assert [s.notes for s in shots] == [("the client wants the logo visible",), ()]
    data = ClipPlan.from_json(plan.to_json())
    assert data.clips[0].shots[0].notes == ("the client wants the logo visible",)
    assert '"notes"' not in plan.to_json().split("the client wants")[1]  # absent when empty
    assert not any("logo" in clip.prompt or "rights" in clip.prompt for clip in plan.clips)


def test_notes_are_on_the_board() -> None:
    result = analyze(STORY)
    page = board_page(result.plan, result.story, [], stem="notes", source="n.story", files={})  # type: ignore[attr-defined]
    (scene,) = page.scenes
    assert scene.notes == ("shoot this one last", "check the rights to the song")
    assert scene.cards[0].notes == ("the client wants the logo visible",)
    html = render_board(page)
    for text in ("shoot this one last", "check the rights to the song", "logo visible"):
        assert text in html


def test_notes_are_the_text_of_the_otio_markers() -> None:
    plan = analyze(STORY).plan  # type: ignore[attr-defined]
    timeline = build_timeline(plan, [Path(f"{c.stem}.mp4") for c in plan.clips], Fraction(24))
    built = build_otio(timeline, plan.story.title)
    markers = [m for clip in built.find_clips() for m in clip.markers]
    assert [m.comment for m in markers] == ["the client wants the logo visible", ""]
    assert list(markers[0].metadata["storyc"]["notes"]) == ["the client wants the logo visible"]
    assert "notes" not in markers[1].metadata["storyc"]


def test_plan_notes_lists_them(tmp_path: Path) -> None:
    path = tmp_path / "notes.story"
    path.write_text(STORY, encoding="utf-8")
    ran = storyc_main(["plan", "--notes", str(path)], cwd=tmp_path, env={"COLUMNS": "200"})
    assert ran.returncode == 0, ran.output
    for text in (
        "Scene 1 · Dock:",
        "note: shoot this one last",
        "note: check the rights to the song",
        "wide (l.6): the client wants the logo visible",
    ):
        assert text in ran.stdout
    without = storyc_main(["plan", str(path)], cwd=tmp_path, env={"COLUMNS": "200"})
    assert "shoot this one last" not in without.stdout

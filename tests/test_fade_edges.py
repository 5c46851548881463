"""A fade in from black before the story's first shot, and a fade out to black after its last.

`fade 1s` (or `cut fade 1s`) written before the first shot opens the film on black; after the
last shot it ends the film on black. Checked from the language (builder, C303/C304, fmt)
through the plan, the assembled film (real MP4s: the first frames are black and brighten,
the sound ramps), the OTIO edit through the EDL and Final Cut XML adapters, to the Fountain
importer's `FADE IN:` / `FADE OUT.`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from assemble_support import ClipSpec, make_plan
from test_assemble import assert_film, clips, rgb_frames, sound  # noqa: F401 (the fixture)

from storyc.assemble import assemble_film
from storyc.assemble.timeline import build_timeline
from storyc.frontend import analyze_source, compile_file
from storyc.plan.schema import ClipPlan, PlannedTransition
from storyc.tooling.fmt import format_checked

EDGES = """\
title: Edges
clips: per-shot

fade 1s

scene "Dock":
    shot wide 4s:
        action: a boat drifts out of the fog.

    shot close 4s:
        action: the rope slips into the water.

    fade 2s
"""

IN_SCENE = """\
title: Edges

scene "Dock":
    cut fade 0.5s

    shot wide 4s:
        action: a boat drifts out of the fog.

    cut fade 0.5s
"""


def codes(text: str) -> list[str]:
    return [d.code for d in analyze_source(text, "edges.story").diagnostics]


def test_a_fade_at_either_edge_checks_clean_and_is_kept() -> None:
    for text in (EDGES, IN_SCENE):
        analysis = analyze_source(text, "edges.story")
        assert [d.code for d in analysis.diagnostics] == []
        story = analysis.story
        assert story.opening is not None and story.opening.kind == "fade"
        assert story.scenes[-1].transitions[-1].kind == "fade"
    opening = analyze_source(EDGES, "edges.story").story.opening
    assert opening is not None and opening.duration_ms == 1000 and opening.span.line == 4


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (EDGES.replace("fade 1s", "crossfade 1s"), "C303"),  # nothing to cross from
        (EDGES.replace("    fade 2s", "    dip 2s"), "C303"),
        (EDGES.replace("    fade 2s", "    cut"), "C303"),
        (EDGES.replace("fade 1s", "fade 5s"), "C304"),  # longer than the first shot
        (EDGES.replace("    fade 2s", "    fade 4.5s"), "C304"),
        (EDGES.replace("fade 1s", "fade 0s"), "C305"),
    ],
)
def test_anything_else_at_an_edge_is_reported(text: str, code: str) -> None:
    assert codes(text) == [code]


def test_fmt_keeps_the_edges() -> None:
    for text in (EDGES, IN_SCENE):
        formatted = format_checked(text)
        assert formatted == text
        again = analyze_source(formatted, "edges.story").story
        assert again.opening is not None and again.scenes[-1].transitions[-1].kind == "fade"


def test_the_plan_opens_and_ends_on_black(tmp_path: Path) -> None:
    story = tmp_path / "edges.story"
    story.write_text(EDGES, encoding="utf-8")
    plan = compile_file(story).plan
    assert plan is not None
    assert plan.opening == PlannedTransition(kind="fade", duration=1000, line=4)
    assert plan.clips[-1].transition.kind == "fade" and plan.clips[-1].transition.duration == 2000
    assert plan.duration == 8000  # a fade at an edge does not change the length
    again = ClipPlan.from_json(plan.to_json())
    assert again.opening == plan.opening
    # A film that opens on a cut says nothing about it in plan.json.
    story.write_text(EDGES.replace("fade 1s\n", ""), encoding="utf-8")
    plain = compile_file(story).plan
    assert plain is not None and '"opening"' not in plain.to_json()


def edge_plan() -> ClipPlan:
    plan = make_plan([ClipSpec(1000), ClipSpec(1000, transition=("fade", 500))])
    return plan.model_copy(update={"opening": PlannedTransition(kind="fade", duration=500)})


def test_the_timeline_fades_the_first_clip_in_and_the_last_out(tmp_path: Path) -> None:
    from fractions import Fraction

    files = [tmp_path / "a.mp4", tmp_path / "b.mp4"]
    timeline = build_timeline(edge_plan(), files, Fraction(24))
    first, last = timeline.placements
    assert (first.fade_in, first.fade_out, last.fade_in, last.fade_out) == (12, 0, 0, 12)
    assert timeline.frames == 48


def test_the_film_really_fades_in_and_out(clips, tmp_path) -> None:  # noqa: F811
    report = assemble_film(edge_plan(), [clips["a"], clips["b"]], tmp_path / "film.mp4")
    assert report.frames == 48
    assert_film(tmp_path / "film.mp4", ms=2000)
    film = rgb_frames(tmp_path / "film.mp4")
    brightness = [float(frame.mean()) for frame in film]
    assert brightness[0] < 8  # opens on black
    assert brightness[0] < brightness[4] < brightness[8] < brightness[14]
    assert brightness[14] > 60 and brightness[33] > 60  # full picture between the fades
    assert brightness[38] > brightness[42] > brightness[47]
    assert brightness[47] < brightness[33] / 8  # ends near black (1/12 of the picture)
    audio = sound(tmp_path / "film.mp4")
    rate = len(audio) / 2  # about 2 s of sound
    head = np.abs(audio[: int(rate * 0.05)]).max()
    middle = np.abs(audio[int(rate * 0.7) : int(rate * 1.3)]).max()
    tail = np.abs(audio[-int(rate * 0.05) :]).max()
    assert middle > 0.1
    assert head < middle / 3 and tail < middle / 3  # the sound ramps with the picture


def test_the_otio_edit_fades_from_and_to_black(tmp_path, mp4) -> None:
    otio = pytest.importorskip("opentimelineio")
    pytest.importorskip("otio_cmx3600_adapter")
    pytest.importorskip("otio_fcp_adapter")
    from test_otio_adapters import EVENT, export

    story = tmp_path / "edges.story"
    story.write_text(EDGES, encoding="utf-8")
    made = export(story, tmp_path / "build", mp4)
    timeline = otio.adapters.read_from_file(str(made.path))
    assert timeline.duration().to_frames() == made.timeline.frames == 192
    kinds = [type(item).__name__ for item in timeline.video_tracks()[0]]
    assert kinds == ["Gap", "Transition", "Clip", "Clip", "Transition", "Gap"]

    edl = otio.adapters.write_to_string(timeline, "cmx_3600")
    dissolves = [
        int(e["dissolve"])
        for line in edl.splitlines()
        if (m := EVENT.match(line)) and (e := m.groupdict())["dissolve"]
    ]
    assert dissolves == [24, 48]

    timeline = otio.adapters.read_from_file(str(made.path))  # the EDL writer changes it
    root = ET.fromstring(otio.adapters.write_to_string(timeline.deepcopy(), "fcp_xml"))
    video = root.find(".//sequence/media/video/track")
    assert video is not None
    transitions = [
        (t.findtext("alignment"), int(t.findtext("end")) - int(t.findtext("start")))
        for t in video.iter("transitionitem")
    ]
    assert transitions == [("start-black", 24), ("end-black", 48)]
    back = otio.adapters.read_from_string(
        otio.adapters.write_to_string(timeline, "fcp_xml"), "fcp_xml"
    )
    assert back.duration().to_frames() == 192


def test_fountain_fade_in_and_fade_out_are_the_films_fades() -> None:
    from test_fountain import convert

    story = convert("Title: Dock\n\nFADE IN:\n\nINT. DOCK - NIGHT\n\nINES waits.\n\nFADE OUT.\n")
    assert "    cut fade 1s\n    shot 4s:\n        action: INES waits.\n    cut fade 1s\n" in story
    analysis = analyze_source(story, "dock.story")
    assert [d.code for d in analysis.diagnostics if d.is_error or d.code == "C303"] == []
    assert analysis.story.opening is not None
    assert analysis.story.scenes[-1].transitions[-1] is not None

"""The .otio edit list through OpenTimelineIO's own adapters: CMX 3600 EDL and Final Cut 7 XML.

Every example, and a story with every transition (crossfade, fade, dip), is turned into the
timeline the assembler builds from real clip files (the run's shared test MP4s, linked into
the build folder as the renderer would leave them), exported as `storyc build` exports it,
converted with `otio-cmx3600-adapter` and `otio-fcp-adapter`, and read back. Checked in each
form: no in-point before a clip file's first frame and no out-point after its last (a
transition's handles included), the film's exact length, every clip, every shot's label as
a marker. One real `storyc build --absolute-paths` of the transitions story closes the loop.
"""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest
from cli_support import storyc_main
from conftest import example_paths

from storyc.assemble import write_otio
from storyc.assemble.preflight import film_fps, inspect_source
from storyc.assemble.stamp import is_up_to_date, write_stamp
from storyc.assemble.timeline import Timeline, build_timeline
from storyc.frontend import compile_file
from storyc.plan.schema import ClipPlan

otio = pytest.importorskip("opentimelineio")
pytest.importorskip("otio_cmx3600_adapter", reason="pip install -e '.[test]' (EDL adapter)")
pytest.importorskip("otio_fcp_adapter", reason="pip install -e '.[test]' (FCP XML adapter)")

JOINS = """\
title: Every Join
model: sora-2
clips: per-shot

scene "Morning":
    shot wide 4s:
        action: a red ball rolls across an empty kitchen floor.
        note: the ball must read as red
    cut crossfade 0.5s
    shot close-up 3.5s:
        action: the ball stops against a chair leg.
    cut fade 0.375s
    shot overhead 4s:
        action: a cat jumps down beside the ball.

scene "Noon":
    cut dip 0.25s
    shot 4s:
        action: the cat sleeps in a patch of sunlight.
"""
"""Every transition, with a trimmed clip (3.5 s of 4 s) and odd frame counts: the fade is
9 frames at 24 fps (4 out, 5 in), the dip 6, the crossfade 12."""


@dataclass(frozen=True)
class Export:
    """One exported edit: the .otio file and what it must say."""

    path: Path
    plan: ClipPlan
    timeline: Timeline
    source_frames: tuple[int, ...]

    @property
    def urls(self) -> list[str]:
        return [_relative_url(p.source, self.path.parent) for p in self.timeline.placements]

    @property
    def labels(self) -> list[list[str]]:
        """Marker names per clip: each shot's label (or `shot N`)."""
        return [
            [shot.label or f"shot {shot.index}" for shot in clip.shots] for clip in self.plan.clips
        ]

    def available(self) -> dict[str, int]:
        """Clip file length in frames by the URL the edit names it with."""
        return dict(zip(self.urls, self.source_frames, strict=True))


def _relative_url(path: Path, folder: Path) -> str:
    return path.relative_to(folder).as_posix()


def export(story: Path, folder: Path, mp4: Callable[..., Path]) -> Export:
    """Compile `story`, link a real clip file of each clip's render length into
    `folder/clips` and export the assembler's timeline to `folder/<stem>.otio`."""
    compilation = compile_file(story)
    plan = compilation.plan
    assert plan is not None, [d.message for d in compilation.diagnostics if d.is_error]
    width, height = (int(n) for n in plan.story.size.split("x"))
    clips = [
        mp4(width, height, clip.render_ms // 1000, to=folder / "clips" / f"{clip.stem}.mp4")
        for clip in plan.clips
    ]
    sources = [inspect_source(clip, path) for clip, path in zip(plan.clips, clips, strict=True)]
    fps = film_fps(plan.story.fps, sources)
    assert all(facts.fps == fps for facts in sources)
    timeline = build_timeline(plan, clips, fps)
    source_frames = tuple(facts.frames for facts in sources)
    path = folder / f"{story.stem}.otio"
    write_otio(timeline, path, plan.story.title, source_frames)
    return Export(path, plan, timeline, source_frames)


def joins_story(folder: Path) -> Path:
    story = folder / "joins.story"
    story.write_text(JOINS, encoding="utf-8")
    return story


@pytest.fixture(params=[*(p.stem for p in example_paths()), "joins"])
def exported(request: pytest.FixtureRequest, tmp_path: Path, mp4: Callable[..., Path]) -> Export:
    if request.param == "joins":
        story = joins_story(tmp_path)
    else:
        story = next(p for p in example_paths() if p.stem == request.param)
    return export(story, tmp_path / "build", mp4)


# --- checks shared by every form ------------------------------------------------------------


def frames(time: Any) -> int:
    value = time.to_frames()
    assert value == time.value * 24 / time.rate  # every time is a whole frame at 24 fps
    return value


def by_url(available: dict[str, int]) -> Callable[[Any], tuple[str, int]]:
    def key(clip: Any) -> tuple[str, int]:
        url = unquote(clip.media_reference.target_url)
        return url, available[url]

    return key


def check_handles(track: Any, length_of: Callable[[Any], tuple[str, int]]) -> list[str]:
    """Every clip's media range on `track`, widened by the transitions beside it (the
    frames a dissolve shows past a cut), lies inside its file: [0, length]. `length_of`
    names a clip and gives its file's length. Returns the clips' names in order; black
    (a generator or a gap) needs no media."""
    names = []
    items = list(track)
    for n, item in enumerate(items):
        if not isinstance(item, otio.schema.Clip) or isinstance(
            item.media_reference, otio.schema.GeneratorReference
        ):
            continue
        name, length = length_of(item)
        names.append(name)
        first = frames(item.source_range.start_time)
        end = frames(item.source_range.end_time_exclusive())
        if n and isinstance(items[n - 1], otio.schema.Transition):
            first -= frames(items[n - 1].in_offset)
        if n + 1 < len(items) and isinstance(items[n + 1], otio.schema.Transition):
            end += frames(items[n + 1].out_offset)
        assert 0 <= first < end <= length, (item.name, first, end, length)
    return names


def test_the_export_needs_no_media_beyond_the_clip_files(exported: Export) -> None:
    timeline = otio.adapters.read_from_file(str(exported.path))
    assert frames(timeline.duration()) == exported.timeline.frames
    for track in timeline.tracks:
        assert frames(track.duration()) == exported.timeline.frames
        assert check_handles(track, by_url(exported.available())) == exported.urls
    video = [item for item in timeline.video_tracks()[0] if isinstance(item, otio.schema.Clip)]
    assert [[m.name for m in clip.markers] for clip in video] == exported.labels
    for clip in video:  # markers lie on the frames of the clip the film shows
        shown = clip.source_range
        for marker in clip.markers:
            marked = marker.marked_range
            assert shown.start_time <= marked.start_time, (clip.name, marker.name)
            assert marked.end_time_exclusive() <= shown.end_time_exclusive(), marker.name


# --- CMX 3600 EDL ---------------------------------------------------------------------------

EVENT = re.compile(
    r"^(?P<edit>\d{3})\s+(?P<reel>\S+)\s+V\s+(?:C|D (?P<dissolve>\d{3}))\s+"
    r"(?P<src_in>\S+) (?P<src_out>\S+) (?P<rec_in>\S+) (?P<rec_out>\S+)$"
)


def tc_frames(timecode: str, fps: int = 24) -> int:
    hours, minutes, seconds, count = (int(part) for part in timecode.split(":"))
    return ((hours * 60 + minutes) * 60 + seconds) * fps + count


def test_cmx_3600_edl(exported: Export) -> None:
    timeline = otio.adapters.read_from_file(str(exported.path))
    # The writer trims the timeline it is given in place: hand it its own copy.
    edl = otio.adapters.write_to_string(timeline.deepcopy(), "cmx_3600")
    events = [m.groupdict() for line in edl.splitlines() if (m := EVENT.match(line))]
    assert events
    record_end = 0
    for event in events:
        src_in, src_out = tc_frames(event["src_in"]), tc_frames(event["src_out"])
        rec_in, rec_out = tc_frames(event["rec_in"]), tc_frames(event["rec_out"])
        assert 0 <= src_in <= src_out and rec_in <= rec_out
        assert rec_out - rec_in == src_out - src_in
        record_end = max(record_end, rec_out)
    assert record_end == exported.timeline.frames
    # Events follow each other with no hole and no overlap.
    shown = [(tc_frames(e["rec_in"]), tc_frames(e["rec_out"])) for e in events]
    shown = [span for span in shown if span[1] > span[0]]
    assert shown[0][0] == 0
    assert all(a[1] == b[0] for a, b in itertools.pairwise(shown))

    named = re.findall(r"^\* (?:FROM|TO) CLIP: (.+)$", edl, re.MULTILINE)
    assert set(named) == set(exported.urls)
    located = re.findall(r"^\* LOC: \S+ \S+\s+(.*)$", edl, re.MULTILINE)
    for labels in exported.labels:
        assert {label.upper() for label in labels} <= set(located)

    # Media past a cut: the outgoing side of a dissolve plays on from its cut line's
    # source time for the dissolve's length; that must be in its file too.
    length_of_reel: dict[str, int] = {}
    blocks: dict[str, str] = {}  # edit number: its lines and comments
    edit = ""
    for line in edl.splitlines():
        edit = line[:3] if line[:3].isdigit() else edit
        blocks[edit] = blocks.get(edit, "") + line + "\n"
    for block in blocks.values():
        lines = [m.groupdict() for line in block.splitlines() if (m := EVENT.match(line))]
        for side, event in zip(("FROM", "TO"), lines, strict=False):
            named = re.search(rf"^\* {side} CLIP: (.+)$", block, re.MULTILINE)
            if event["reel"] != "BL":
                assert named, block
                length = exported.available()[named.group(1)]
                assert length_of_reel.setdefault(event["reel"], length) == length
    for cut, dissolve in itertools.pairwise(events):
        if dissolve["dissolve"] and cut["edit"] == dissolve["edit"] and cut["reel"] != "BL":
            played = tc_frames(cut["src_out"]) + int(dissolve["dissolve"])
            assert played <= length_of_reel[cut["reel"]], (cut, dissolve)
    for event in events:
        if event["reel"] != "BL":
            assert tc_frames(event["src_out"]) <= length_of_reel[event["reel"]], event

    # Read back (the reader names each clip well but gives some the wrong or no media:
    # it takes no `TO CLIP` comment, so clips are matched by name).
    back = otio.adapters.read_from_string(edl, "cmx_3600", rate=24)
    assert frames(back.duration()) == exported.timeline.frames
    lengths = {
        f"{placement.clip.index:02d} {placement.clip.scene}": length
        for placement, length in zip(
            exported.timeline.placements, exported.source_frames, strict=True
        )
    }
    names = check_handles(back.video_tracks()[0], lambda clip: (clip.name, lengths[clip.name]))
    assert list(dict.fromkeys(names)) == list(lengths)


def test_fades_and_dips_are_dissolves_through_black_in_the_edl(tmp_path, mp4) -> None:
    made = export(joins_story(tmp_path), tmp_path / "build", mp4)
    timeline = otio.adapters.read_from_file(str(made.path))
    edl = otio.adapters.write_to_string(timeline, "cmx_3600")
    dissolves = [
        (e["reel"], int(e["dissolve"]))
        for line in edl.splitlines()
        if (m := EVENT.match(line)) and (e := m.groupdict())["dissolve"]
    ]
    # crossfade 12 frames between clips; fade 9 = 4 to black + 5 from it; dip 6 = 3 + 3.
    assert [length for _, length in dissolves] == [12, 4, 5, 3, 3]
    assert [reel == "BL" for reel, _ in dissolves] == [False, True, False, True, False]


# --- Final Cut 7 XML ------------------------------------------------------------------------


def test_final_cut_7_xml(exported: Export) -> None:
    timeline = otio.adapters.read_from_file(str(exported.path))
    xml = otio.adapters.write_to_string(timeline.deepcopy(), "fcp_xml")
    root = ET.fromstring(xml)
    lengths = {}
    for file in root.iter("file"):
        if file.find("pathurl") is not None:
            lengths[file.get("id")] = int(file.findtext("duration"))
    items = list(root.iter("clipitem"))
    assert items and not list(root.iter("generatoritem"))
    for item in items:
        file = item.find("file")
        assert file is not None
        length = lengths[file.get("id")]
        first, end = int(item.findtext("in")), int(item.findtext("out"))
        assert 0 <= first < end <= length, (item.findtext("name"), first, end, length)
    for transition in root.iter("transitionitem"):
        assert 0 <= int(transition.findtext("start")) < int(transition.findtext("end"))
    paths = {unquote(urlparse(p.text).path) for p in root.iter("pathurl")}
    assert paths == set(exported.urls)

    back = otio.adapters.read_from_string(xml, "fcp_xml")
    assert frames(back.duration()) == exported.timeline.frames
    for track in back.tracks:
        assert frames(track.duration()) == exported.timeline.frames
    video = back.video_tracks()[0]
    clips = [item for item in video if isinstance(item, otio.schema.Clip)]
    assert [[m.name for m in clip.markers] for clip in clips] == exported.labels
    assert check_handles(video, by_url(exported.available())) == exported.urls


def test_fades_and_dips_sit_at_the_clip_edges_in_final_cut_xml(tmp_path, mp4) -> None:
    made = export(joins_story(tmp_path), tmp_path / "build", mp4)
    timeline = otio.adapters.read_from_file(str(made.path))
    root = ET.fromstring(otio.adapters.write_to_string(timeline, "fcp_xml"))
    video = root.find(".//sequence/media/video/track")
    assert video is not None
    transitions = [
        (t.findtext("alignment"), int(t.findtext("end")) - int(t.findtext("start")))
        for t in video.iter("transitionitem")
    ]
    assert transitions == [
        ("center", 12),
        ("end-black", 4),
        ("start-black", 5),
        ("end-black", 3),
        ("start-black", 3),
    ]


# --- media paths ----------------------------------------------------------------------------


def test_media_paths_are_relative_unless_absolute_ones_are_asked_for(tmp_path, mp4) -> None:
    made = export(joins_story(tmp_path), tmp_path / "build", mp4)
    relative = otio.adapters.read_from_file(str(made.path))
    urls = [c.media_reference.target_url for c in relative.find_clips()]
    assert urls and all(url.startswith("clips/") for url in urls)

    elsewhere = tmp_path / "elsewhere" / "film.otio"
    elsewhere.parent.mkdir()
    write_otio(made.timeline, elsewhere, "T", made.source_frames)
    climbing = otio.adapters.read_from_file(str(elsewhere))
    for clip in climbing.find_clips():
        url = clip.media_reference.target_url
        assert url.startswith("../build/clips/")
        assert (elsewhere.parent / unquote(url)).resolve().is_file()

    write_otio(made.timeline, made.path, "T", made.source_frames, absolute_paths=True)
    absolute = otio.adapters.read_from_file(str(made.path))
    for clip in absolute.find_clips():
        url = clip.media_reference.target_url
        assert url.startswith("file:///")
        assert Path(unquote(urlparse(url).path)).is_file()


def test_the_build_stamp_remembers_absolute_paths(tmp_path) -> None:
    plan = compile_file(joins_story(tmp_path)).plan
    assert plan is not None
    output = tmp_path / "film.otio"
    output.write_text("{}", encoding="utf-8")
    write_stamp(tmp_path, plan, [], [output])
    assert is_up_to_date(tmp_path, plan, [], [output])
    assert not is_up_to_date(tmp_path, plan, [], [output], {"absolute_paths": True})
    write_stamp(tmp_path, plan, [], [output], {"absolute_paths": True})
    assert is_up_to_date(tmp_path, plan, [], [output], {"absolute_paths": True})
    assert not is_up_to_date(tmp_path, plan, [], [output])


def test_storyc_build_absolute_paths_writes_an_edit_the_adapters_take(tmp_path) -> None:
    story = joins_story(tmp_path)
    out = tmp_path / "out"
    done = storyc_main(
        ["build", str(story), "-o", str(out), "--absolute-paths"],
        cwd=tmp_path,
        env={"STORYC_CACHE_DIR": str(tmp_path / "cache"), "COLUMNS": "200"},
    )
    assert done.returncode == 0, done.stderr
    plan = ClipPlan.read(out / "plan.json")
    timeline = otio.adapters.read_from_file(str(out / "joins.otio"))
    assert frames(timeline.duration()) == plan.duration * 24 // 1000 == 360
    available = {}
    for clip, placed in zip(plan.clips, timeline.video_tracks()[0].find_clips(), strict=True):
        url = placed.media_reference.target_url
        assert url.startswith("file:///")
        path = Path(unquote(urlparse(url).path))
        assert path.parent == (out / "clips").resolve()
        assert path.name.startswith(f"{clip.index:02d}-")
        available[unquote(url)] = frames(placed.media_reference.available_range.duration)
    assert len(available) == len(plan.clips)
    check_handles(timeline.video_tracks()[0], by_url(available))
    edl = otio.adapters.write_to_string(timeline.deepcopy(), "cmx_3600")
    assert frames(otio.adapters.read_from_string(edl, "cmx_3600").duration()) == 360
    xml = otio.adapters.write_to_string(timeline.deepcopy(), "fcp_xml")
    assert frames(otio.adapters.read_from_string(xml, "fcp_xml").duration()) == 360

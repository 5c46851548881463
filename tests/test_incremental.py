"""The editor's analysis: only changed blocks are parsed again, and a block that does not
parse right now does not take the diagnostics of the rest away."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import storyc.tooling.incremental as incremental
from storyc.check.provider import FileFacts
from storyc.tooling.incremental import DocumentAnalyzer
from storyc.tooling.lint import lint_source

STORY = """\
title: T
model: sora-2

character mara:
    look: a barista

scene "One":
    shot wide 4s:
        camera: slow dolly in
        action: @mara opens the door.

    shot 4s:
        action: @ghost waves.

scene "Two":
    shot 4s:
        action: @mara leaves.
"""


def analyzer() -> DocumentAnalyzer:
    return DocumentAnalyzer("/tmp/t.story", read_facts=lambda _p: FileFacts(exists=False))


def found(analysis: incremental.Analysis) -> list[tuple[str, int]]:
    return [(d.code, d.span.line) for d in analysis.diagnostics]


def test_an_edit_parses_only_the_block_it_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = incremental.parse_block

    def counting(start: int, text: str, file: str = "<story>", source: str | None = None):  # type: ignore[no-untyped-def]
        calls.append(start)
        return real(start, text, file, source)

    monkeypatch.setattr(incremental, "parse_block", counting)
    a = analyzer()
    a.analyze(STORY, 1)
    assert len(calls) == 5  # title, model, character and the two scenes
    calls.clear()
    result = a.analyze(STORY.replace("@mara leaves.", "@mara runs."), 2)
    assert calls == [15]
    assert found(result) == [("S101", 13)]


def test_a_broken_cue_line_keeps_the_rest_of_its_scene() -> None:
    a = analyzer()
    a.analyze(STORY, 1)
    result = a.analyze(STORY.replace("camera: slow", "camera slow"), 2)
    assert found(result) == [("E006", 9), ("S101", 13)]


def lint_found(text: str) -> list[tuple[str, int]]:
    result = lint_source(text, "/tmp/t.story", analyze=_no_files)
    return [(d.code, d.span.line) for d in result.diagnostics]


def _no_files(*args: object, **kwargs: object) -> incremental.Compilation:
    return incremental.analyze_source(
        *args,  # type: ignore[arg-type]
        read_facts=lambda _p: FileFacts(exists=False),
        **kwargs,  # type: ignore[arg-type]
    )


def test_a_broken_shot_header_keeps_the_rest_of_its_scene_as_lint_does() -> None:
    a = analyzer()
    a.analyze(STORY, 1)
    broken = STORY.replace("shot wide 4s:", "shot wide 4:")
    result = a.analyze(broken, 2)
    assert found(result) == lint_found(broken) == [("E008", 8), ("S101", 13)]


def test_what_the_editor_shows_does_not_depend_on_the_order_of_edits() -> None:
    # The sequence: a broken duration, then a typo in the next shot's key.
    duration = ("shot wide 4s:", "shot wide 4x:")
    key = ("        action: @ghost waves.", "        actoin: @ghost waves.")
    both = STORY.replace(*duration).replace(*key)
    for first, second in ((duration, key), (key, duration)):
        a = analyzer()
        a.analyze(STORY, 1)
        a.analyze(STORY.replace(*first), 2)
        result = a.analyze(both, 3)
        assert found(result) == lint_found(both), (first, second)
    assert ("E008", 8) in lint_found(both) and any(c == "S107" for c, _ in lint_found(both))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 15), st.sampled_from(["", "x", ":", "4x", "camrea", "@"])),
        min_size=1,
        max_size=5,
    )
)
def test_any_edit_history_shows_what_lint_shows(edits: list[tuple[int, str]]) -> None:
    a = analyzer()
    text = STORY
    a.analyze(text, 1)
    for version, (line, insert) in enumerate(edits, start=2):
        lines = text.split("\n")
        index = line % len(lines)
        lines[index] = (
            lines[index][: len(lines[index]) // 2] + insert + lines[index][len(lines[index]) // 2 :]
        )
        text = "\n".join(lines)
        assert found(a.analyze(text, version)) == lint_found(text)


def test_no_unused_suppression_while_a_block_does_not_parse() -> None:
    source = STORY.replace("@ghost waves.", "@ghost waves.  # storyc: ignore[S101]")
    a = analyzer()
    assert found(a.analyze(source, 1)) == []
    assert found(a.analyze(source.replace("camera: slow", "camera slow"), 2)) == [("E006", 9)]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.text(alphabet=' \n\t:@#"()sceneshot4ms', max_size=40), max_size=6))
def test_any_sequence_of_texts_is_analysed_without_raising(texts: list[str]) -> None:
    a = analyzer()
    for version, text in enumerate([STORY, *texts, STORY], start=1):
        result = a.analyze(text, version)
        assert result.version == version
    assert found(result) == [("S101", 13)]


def test_the_plan_is_made_on_demand_for_timecodes() -> None:
    result = analyzer().analyze(STORY, 1)
    plan = result.plan()
    assert plan is not None
    assert [s.film_start for c in plan.clips for s in c.shots] == [0, 4000, 8000]


def test_reference_facts_are_read_again_only_when_the_file_changes(tmp_path: Path) -> None:
    reads: list[Path] = []

    def reader(path: Path) -> FileFacts:
        reads.append(path)
        return FileFacts(exists=path.exists())

    facts = incremental.CachedFacts(reader)
    ref = tmp_path / "a.png"
    ref.write_bytes(b"1")
    facts(ref)
    facts(ref)
    assert len(reads) == 1
    ref.write_bytes(b"22")
    facts(ref)
    assert len(reads) == 2

"""Properties: generated stories always compile; any text at all never raises."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storyc.check.provider import FileFacts
from storyc.frontend import analyze_source
from tests.conftest import example_paths

# CI runs more examples than a developer's quick loop (STORYC_HYPOTHESIS_EXAMPLES).
EXAMPLES = int(os.environ.get("STORYC_HYPOTHESIS_EXAMPLES", "300"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def no_files(_path: Path) -> FileFacts:
    return FileFacts(exists=False)


names = st.from_regex(r"[a-z][a-z0-9_]{0,7}", fullmatch=True).filter(
    lambda n: (
        n
        not in {
            "cut",
            "scene",
            "shot",
            "cameo",
            "character",
            "location",
            "preset",
            "at",
            "with",
            "from",
            "seed",
            "takes",
            "crossfade",
            "fade",
            "dip",
        }
    )
)
free_text = (
    st.text(
        alphabet=st.characters(
            blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters='\n\r\t@#"'
        ),
        min_size=1,
        max_size=40,
    )
    .map(str.strip)
    .filter(bool)
)
cue_keys = st.sampled_from(["camera", "lens", "light", "ambient", "sfx", "music", "grade", "note"])
durations = st.sampled_from(["1s", "2s", "2.5s", "3s", "4s", "1500ms", "0:03", "0:04"])
transitions = st.sampled_from(["", "cut", "cut crossfade 0.5s", "cut fade 0.5s", "cut dip 0.5s"])


@st.composite
def stories(draw: st.DrawFn) -> str:
    people = draw(st.lists(names, min_size=0, max_size=3, unique=True))
    lines = [f"title: {draw(free_text)}"]
    if draw(st.booleans()):
        lines.append(f"style: {draw(free_text)}")
    lines.append(f"clips: {draw(st.sampled_from(['packed', 'per-shot']))}")
    for person in people:
        lines += [f"character {person}:", f"    look: {draw(free_text)}"]
    presets = draw(st.lists(names.filter(lambda n: n not in people), max_size=2, unique=True))
    for preset in presets:
        lines += [f"preset {preset}:", f"    light: {draw(free_text)}"]
    used = set()
    for scene in range(draw(st.integers(1, 3))):
        lines.append(f'scene "Scene {scene}":')
        shot_count = draw(st.integers(1, 4))
        for number in range(shot_count):
            preset = draw(st.sampled_from([None, *presets]))
            lines.append(
                f"    shot {draw(names)} {draw(durations)}{f' with {preset}' if preset else ''}:"
            )
            for _ in range(draw(st.integers(0, 3))):
                lines.append(f"        {draw(cue_keys)}: {draw(free_text)}")
            actor = draw(st.sampled_from([None, *people]))
            action = draw(free_text)
            if actor:
                used.add(actor)
                action = f"@{actor} {action}"
            lines.append(f"        action: {action}")
            if actor and draw(st.booleans()):
                lines.append(f'        @{actor} (softly): "{draw(free_text)}"')
            if number < shot_count - 1 and (t := draw(transitions)):
                lines.append(f"    {t}")
    # Every declared character is named somewhere, so the story is clean, not just valid.
    for person in set(people) - used:
        lines += ['scene "Extra":', "    shot 2s:", f"        action: @{person} waits."]
    return "\n".join(lines) + "\n"


@SETTINGS
@given(stories())
def test_any_generated_story_parses_checks_and_compiles(source: str) -> None:
    result = analyze_source(source, "gen.story", read_facts=no_files)
    errors = [f"{d.code} {d.span.line}: {d.message}" for d in result.diagnostics if d.is_error]
    assert errors == [], source
    assert result.plan is not None
    assert sum(len(c.shots) for c in result.plan.clips) == source.count("    shot ")


EXAMPLE_TEXTS = [p.read_text() for p in example_paths()]


@st.composite
def mutated_examples(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(EXAMPLE_TEXTS))
    for _ in range(draw(st.integers(1, 6))):
        position = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["delete", "insert", "duplicate-line"]))
        if action == "delete":
            text = text[:position] + text[position + draw(st.integers(1, 20)) :]
        elif action == "insert":
            text = (
                text[:position]
                + draw(
                    st.sampled_from(
                        [
                            "\t",
                            " ",
                            ":",
                            '"',
                            "@",
                            "#",
                            "\n",
                            "shot",
                            "    ",
                            "(",
                            ")",
                            "cut",
                            "0:",
                            "ms",
                            "\x00",
                            "é",
                        ]
                    )
                )
                + text[position:]
            )
        else:
            lines = text.split("\n")
            index = min(position, len(lines) - 1)
            lines.insert(index, lines[index])
            text = "\n".join(lines)
    return text


def _never_raises(source: str) -> None:
    result = analyze_source(source, "any.story", read_facts=no_files)
    for diagnostic in result.diagnostics:
        assert diagnostic.message
        assert diagnostic.span.line >= 1 and diagnostic.span.column >= 1


@SETTINGS
@given(st.text(max_size=400))
def test_any_text_gives_diagnostics_or_success(source: str) -> None:
    _never_raises(source)


@SETTINGS
@given(mutated_examples())
def test_mutated_examples_never_raise(source: str) -> None:
    _never_raises(source)


@SETTINGS
@given(st.binary(max_size=300))
def test_binary_never_raises(data: bytes) -> None:
    _never_raises(data.decode("utf-8", errors="replace"))

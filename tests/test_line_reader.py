"""The line reader builds exactly Lark's trees, or gives up and leaves the text to Lark.

Every text here goes through both paths (`verify_reader`): where the reader gives a tree,
it must be Lark's, token for token and position for position; where Lark fails, the reader
must have given up. The stories storyc ships and the bench's must take the fast path, and
for them `analyze_source` says the same either way.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lark import Token, Tree

from storyc.check.catalog import RULES
from storyc.frontend import analyze_source
from storyc.fsutil import normalise_newlines
from storyc.language import line_reader
from storyc.language import parse as parse_module
from storyc.language.line_reader import (
    TERMINALS,
    VERIFY_VARIABLE,
    first_difference,
    read_story,
)
from storyc.language.parse import parse_story, split_blocks, story_parser, verify_reader
from tests.conftest import example_paths
from tests.test_catalog_examples import example_story
from tests.test_core_properties import EXAMPLES, mutated_examples, no_files, stories

ROOT = Path(__file__).resolve().parent.parent
_BENCH = importlib.util.spec_from_file_location("bench_compile", ROOT / "bench" / "compile.py")
assert _BENCH is not None and _BENCH.loader is not None
bench_compile = importlib.util.module_from_spec(_BENCH)
_BENCH.loader.exec_module(bench_compile)
generate_story = bench_compile.generate_story

SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

SPEC_EXAMPLES = sorted((ROOT.parent / "shared" / "spec").glob("**/*.story"))
EDITOR_STORIES = sorted((ROOT / "editors").glob("**/*.story"))
SHIPPED = [*example_paths(), *SPEC_EXAMPLES, *EDITOR_STORIES]


def parse_text(source: str) -> str:
    """What `parse_story` gives the parser for `source`."""
    return normalise_newlines(source) + "\n"


def both_agree(source: str) -> Tree | None:
    """Check the whole text and each of its blocks (as `parse_block` pads them) through
    both paths; the reader's tree for the whole text."""
    text = parse_text(source)
    tree = verify_reader(text)
    for start_line, block in split_blocks(normalise_newlines(source)):
        verify_reader("\n" * (start_line - 1) + block + "\n")
    return tree


def lark_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse_module, "read_story", lambda text: None)


# --- the reader mirrors the grammar ------------------------------------------------------


def test_the_reader_was_written_for_this_grammar() -> None:
    # A changed grammar may accept or reject lines differently: update the reader (or
    # make it give up on what changed), then its digest.
    assert parse_module._grammar_digest() == line_reader.GRAMMAR_DIGEST


def test_the_token_patterns_are_the_grammars() -> None:
    parser = story_parser()
    # Lark stores `\n` in a pattern as the character itself; the reader spells it `\n`.
    escapes = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    for name, pattern in TERMINALS.items():
        lark = parser.get_terminal(name).pattern.value
        assert "".join(escapes.get(c, c) for c in lark) == pattern, name


def test_a_shot_reads_into_lark_tokens_with_positions() -> None:
    tree = read_story('scene "A":\n    shot wide 4s:\n        camera: slow  # why\n')
    assert tree is not None
    camera = tree.children[0].children[2].children[2].children[1]
    assert isinstance(camera, Token)
    assert (camera.type, camera.value) == ("TEXT", "slow")
    positions = [getattr(camera, f) for f in line_reader.POSITION_FIELDS]
    assert positions == [45, 3, 17, 3, 21, 49]


# --- the corpus ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_stories_take_the_fast_path_and_agree(path: Path) -> None:
    assert both_agree(path.read_text(encoding="utf-8")) is not None


@pytest.mark.parametrize("shots", [1, 37, 1_000])
def test_bench_stories_take_the_fast_path_and_agree(shots: int) -> None:
    assert both_agree(generate_story(shots)) is not None


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
@pytest.mark.parametrize("which", ["bad", "good"])
def test_the_rule_examples_agree(rule: object, which: str, monkeypatch: pytest.MonkeyPatch) -> None:
    setting = rule.setting  # type: ignore[attr-defined]
    example = getattr(setting, f"{which}_run") or getattr(rule, which)
    source = example_story("" if setting.example_file else example, setting)
    if both_agree(source) is not None:
        _same_analysis(source, monkeypatch)


def _same_analysis(source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = analyze_source(source, "same.story", read_facts=no_files)
    with monkeypatch.context() as patched:
        lark_only(patched)
        slow = analyze_source(source, "same.story", read_facts=no_files)
    assert fast.diagnostics == slow.diagnostics
    assert (fast.plan is None) == (slow.plan is None)
    if fast.plan is not None and slow.plan is not None:
        assert fast.plan.model_dump() == slow.plan.model_dump()


@pytest.mark.parametrize("path", example_paths(), ids=lambda p: p.name)
def test_examples_analyse_the_same_either_way(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _same_analysis(path.read_text(encoding="utf-8"), monkeypatch)


def test_a_bench_story_analyses_the_same_either_way(monkeypatch: pytest.MonkeyPatch) -> None:
    _same_analysis(generate_story(120), monkeypatch)


# --- what the reader must give up on -----------------------------------------------------

# Each is text where Lark either fails or reads tokens the reader's patterns do not:
# the reader must give up (and `verify_reader` shows Lark agrees where it reads).
GIVE_UP = {
    "a keyword as a key after a cue": 'scene "A":\n    shot 4s:\n        camera: x\n        cut: y\n',
    "a keyword as a key after an indent": 'scene "A":\n    shot 4s:\n        cut: y\n',
    "a tab in the indentation": 'scene "A":\n\tshot 4s:\n\t\tcamera: x\n',
    "a dedent to no level": 'scene "A":\n    shot 4s:\n        camera: x\n      action: y\n',
    "an indent nothing opened": "title: x\n    model: sora-2\n",
    "an indented first line": "  title: x\n",
    "a glued option": 'scene "A":\n    shot 4s withgolden:\n        camera: x\n',
    "a glued scene at": "scene atcafe:\n",
    "a delivery that starts with a space": 'scene "A":\n    shot 4s:\n        @a ( q): "x"\n',
    "a delivery that starts with a comment": 'scene "A":\n    shot 4s:\n        @a (# q): "x"\n',
    "a shot outside a scene": "shot 4s:\n    camera: x\n",
    "a scene inside a scene": 'scene "A":\n    scene "B":\n',
    "dialogue in a scene": 'scene "A":\n    @a: "x"\n',
    "a transition in a shot": 'scene "A":\n    shot 4s:\n        cut\n',
    "a string after a character": 'character kid: "x"\n',
    "a shot with no duration": 'scene "A":\n    shot wide:\n',
    "text after a string": 'cameo m: "a" b\n',
    "a glued hash at the start": "#!x\n",
    "a non-ASCII key": "café: x\n",
    "a form feed": "title: x\n\x0c\n",
}


@pytest.mark.parametrize("source", GIVE_UP.values(), ids=GIVE_UP.keys())
def test_gives_up_where_unsure(source: str) -> None:
    assert read_story(parse_text(source)) is None
    both_agree(source)


def test_gives_up_on_a_carriage_return() -> None:
    # `parse_story` normalises newlines; a `\r` left in the text is Lark's to read.
    assert read_story("title: x\r\n") is None


# Lines the reader reads although they look odd; Lark reads them the same way.
ODD_BUT_READ = {
    "a key named like a mid-line keyword": "seed: 3\nat: x\nwith: y\ntakes: 2\nfrom: z\n",
    "a capitalised keyword as a key": "Scene: x\nCut: y\n",
    "a keyword-like name": "cut-x: y\ncutaway: z\n",
    "an empty cue": "title:\nstyle:   # nothing yet\n",
    "a glued hash in text": "title: C# minor #7 #\nstyle: a  #b\n",
    "a quoted hash in text": 'title: "a # b" c   # note\n',
    "an unclosed quote in text": 'title: "open\n',
    "a colon in text": "title:: x:y\n",
    "a comment glued to a colon": 'scene "A":# why\n    shot 4s:#\n        camera: x\n',
    "every shot option": (
        'scene "A" at cafe:\n    shot over-the-shoulder 0:04.5 with p from "f.png" seed 3 '
        'takes 2 with q:\n        @m-x (very quietly ): "hi # there"\n        @m:"x"\n'
    ),
    "a bare scene": "scene:\nscene at x:\n",
    "transitions": 'fade 1s\ncut\nscene "A":\n    shot 4s:\n    cut dip 0.5s\n    dip 2s# x\n',
    "declarations without bodies": 'character kid:\ncameo m: "a"  # c\ncameo n:\n',
    "blank and comment lines anywhere": (
        '# top\n\nscene "A":\n  # in\n\t# tabbed\n    shot 4s:\n\n        # deep\n'
        "          camera: x\n  \n"
    ),
    "a label like a keyword": 'scene "A":\n    shot with 4s:\n    shot cut 2s:\n',
    "names like keywords": 'cameo scene: "x"\nscene at cut:\n',
    "an empty story": "",
    "comments only": "# a\n   # b\n",
}


@pytest.mark.parametrize("source", ODD_BUT_READ.values(), ids=ODD_BUT_READ.keys())
def test_reads_odd_but_valid_lines_as_lark_does(source: str) -> None:
    assert both_agree(source) is not None


# --- properties ------------------------------------------------------------------------------

# Keys spelled like keywords make the reader give up; they are here, but rarer.
KEYS = st.sampled_from(
    ["camera", "action", "title", "Scene", "cut-x", "seed", "at", "with"] * 4
    + sorted(line_reader.LINE_KEYWORDS)
)
WORDS = st.sampled_from(
    ["x", "C#", "#", "# c", '"q # r"', '"open', "0:04", "a  b", "é", "(", ")", ":", "\t"]
)
SHAPES = st.one_of(
    st.builds(lambda k, w: f"{k}: {w}", KEYS, WORDS),
    st.builds(lambda k: f"{k}:", KEYS),
    st.sampled_from(
        [
            'scene "A":',
            "scene at cafe:",
            "shot 4s:",
            "shot wide 1500ms with p seed 2:",
            'shot 0:04 from "f.png":',
            "shot 4s withp:",
            "shot 4.s:",
            "shot 1.5ms:",
            "shot 0:4:",
            "shot 10:00.5 takes 3:",
            "shot 4sx:",
            "shot 4s2:",
            "shot a.b/c' 2s:",
            "shot _a 2s:",
            "shot 2s seed 4.5:",
            'shot 2s from "a"with b:',
            'scene "A # b" at c-d:',
            "title:\xa0x\u2028y",
            "shot wide:",
            "cut",
            "cut fade 0.5s",
            "crossfade 1s  # c",
            "fade",
            '@mara (softly): "hi"',
            '@mara: "hi"',
            "@mara: hi",
            '@mara ( softly): "hi"',
            'cameo m: "refs/m.mp4"',
            "character kid:",
            "preset p:",
            "location l:",
            "# comment",
            "#glued",
            "",
        ]
    ),
)
INDENTS = st.sampled_from(["", "", "    ", "    ", "        ", "  ", "\t", "      "])


@st.composite
def line_soup(draw: st.DrawFn) -> str:
    """Lines of every shape at plausible indentations: mostly broken, sometimes not."""
    lines = draw(st.lists(st.tuples(INDENTS, SHAPES), max_size=12))
    return "\n".join(indent + shape for indent, shape in lines)


HEADERS = st.sampled_from(
    [
        'scene "A":',
        "scene at cafe:",
        "shot 4s:",
        "shot wide 1500ms with p seed 2:",
        'cameo m: "refs/m.mp4"',
        "character kid:",
        "preset p:",
    ]
)


@st.composite
def nested_soup(draw: st.DrawFn, depth: int = 0) -> list[str]:
    """Blocks nested two deep at varied widths, each line of any shape: a fair share of
    them is valid, and the rest is wrong in one place."""
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        opens = depth < 2 and draw(st.booleans())
        lines.append(draw(HEADERS) if opens else draw(SHAPES))
        if opens and draw(st.integers(0, 4)):
            width = draw(st.sampled_from([2, 4, 4, 4, 8]))
            lines += [" " * width + line for line in draw(nested_soup(depth + 1))]
    return lines


@st.composite
def edited_stories(draw: st.DrawFn) -> str:
    """A valid generated story with a few lines swapped for lines of any shape."""
    lines = draw(stories()).split("\n")
    for _ in range(draw(st.integers(1, 3))):
        index = draw(st.integers(0, len(lines) - 1))
        indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
        lines[index] = draw(st.sampled_from([indent, draw(INDENTS)])) + draw(SHAPES)
    return "\n".join(lines)


@SETTINGS
@given(stories())
def test_generated_stories_take_the_fast_path_and_agree(source: str) -> None:
    assert both_agree(source) is not None


@SETTINGS
@given(edited_stories())
def test_edited_stories_agree(source: str) -> None:
    both_agree(source)


@settings(SETTINGS, max_examples=min(EXAMPLES, 100))
@given(edited_stories())
def test_edited_stories_analyse_the_same_either_way(source: str) -> None:
    # Only where the reader reads the text does the builder see its tokens.
    with pytest.MonkeyPatch.context() as monkeypatch:
        _same_analysis(source, monkeypatch)


@SETTINGS
@given(line_soup())
def test_line_soup_agrees(source: str) -> None:
    both_agree(source)


@SETTINGS
@given(nested_soup())
def test_nested_soup_agrees(lines: list[str]) -> None:
    both_agree("\n".join(lines))


@SETTINGS
@given(mutated_examples())
def test_mutated_examples_agree(source: str) -> None:
    both_agree(source)


@SETTINGS
@given(st.text(alphabet=' \t\n#:@"()acdeftuhsw04.', max_size=80))
def test_any_small_text_agrees(source: str) -> None:
    both_agree(source)


# --- the verify mode -------------------------------------------------------------------------


def test_first_difference_sees_a_moved_token() -> None:
    text = "title: x\n"
    ours = read_story(text)
    assert ours is not None
    assert first_difference(ours, story_parser().parse(text)) is None
    token = ours.children[0].children[1]
    assert isinstance(token, Token)
    token.column = 9
    assert "TEXT 'x' column 9 vs 8" in (first_difference(ours, story_parser().parse(text)) or "")


def test_verify_mode_fails_loudly_when_the_paths_disagree(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wrong = Tree("start", [Tree("pair", [Token("NAME", "title", 0, 1, 1, 1, 6, 5)])])
    monkeypatch.setattr(parse_module, "read_story", lambda text: wrong)
    monkeypatch.setenv(VERIFY_VARIABLE, "1")
    with pytest.raises(AssertionError, match="disagree"):
        parse_story("title: x\n")


def test_verify_mode_fails_when_the_reader_reads_what_lark_rejects(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(parse_module, "read_story", lambda text: Tree("start", []))
    monkeypatch.setenv(VERIFY_VARIABLE, "1")
    with pytest.raises(AssertionError, match="Lark rejects"):
        parse_story("shot: x\n  y\n")


def test_verify_mode_passes_on_the_examples(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VERIFY_VARIABLE, "1")
    for path in example_paths():
        assert not parse_story(path.read_text(encoding="utf-8")).diagnostics

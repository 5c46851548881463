"""`storyc lint`: fixes (a table of failing input and fixed output per code), suppressions,
rule selection and config, output formats, and the command's exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import storyc_main

from storyc.check.diagnostics import Diagnostic, Edit, Fix, Severity
from storyc.check.provider import FileFacts
from storyc.frontend import analyze_source
from storyc.language.model import Span
from storyc.tooling.lint import RuleSelection, fix_source, lint_source, selection_for

HEAD = "title: T\nmodel: sora-2\n\ncharacter mara:\n    look: a barista\n\n"
BARE = "title: T\nmodel: sora-2\n\n"


def story(shots: str, head: str = HEAD) -> str:
    return head + 'scene "S":\n' + shots


def no_files(_path: Path) -> FileFacts:
    return FileFacts(exists=False)


def analyze(source: str, file: str = "<story>", **kwargs: object) -> object:
    return analyze_source(source, file, read_facts=no_files, **kwargs)  # type: ignore[arg-type]


def codes(source: str, selection: RuleSelection | None = None) -> list[str]:
    return [d.code for d in lint_source(source, "t.story", selection, analyze=analyze).diagnostics]


# (code, failing input, output of `lint --fix`) -- sqlfluff's fail_str / fix_str
SAFE_FIXES: list[tuple[str, str, str]] = [
    (
        "E002",
        story("\tshot 4s:\n\t\taction: @mara waves.\n"),
        story("    shot 4s:\n        action: @mara waves.\n"),
    ),
    (
        "E003",
        story("    shot 4s:\n        @mara: \"First one's for me.\n"),
        story('    shot 4s:\n        @mara: "First one\'s for me."\n'),
    ),
    (
        "E006",
        story("    shot 4s:\n        camera slow dolly in\n        action: @mara waves.\n"),
        story("    shot 4s:\n        camera: slow dolly in\n        action: @mara waves.\n"),
    ),
    (
        "E007",
        story("    shoot wide 4s:\n        action: @mara waves.\n"),
        story("    shot wide 4s:\n        action: @mara waves.\n"),
    ),
    (
        "E009",
        story("    shot 4s:\n        action: @mara waves.\n        @mara: hello there\n"),
        story('    shot 4s:\n        action: @mara waves.\n        @mara: "hello there"\n'),
    ),
    (
        "S101",
        story("    shot 4s:\n        action: @mra waves.\n"),
        story("    shot 4s:\n        action: @mara waves.\n"),
    ),
    (
        "S107",
        story("    shot 4s:\n        camra: slow dolly in\n        action: @mara waves.\n"),
        story("    shot 4s:\n        camera: slow dolly in\n        action: @mara waves.\n"),
    ),
    (
        "S109",
        'model: sora-2\n\nscene "S":\n    shot 4s:\n        action: a cat sleeps.\n',
        'title: Untitled\nmodel: sora-2\n\nscene "S":\n    shot 4s:\n        action: a cat sleeps.\n',
    ),
    (
        "S110",
        story(
            "    shot 4s with goldn:\n        action: @mara waves.\n",
            HEAD + "preset golden:\n    light: low sun\n\n",
        ),
        story(
            "    shot 4s with golden:\n        action: @mara waves.\n",
            HEAD + "preset golden:\n    light: low sun\n\n",
        ),
    ),
    (
        "P201",
        story("    shot 4s:\n        action: @mara waves.\n", HEAD.replace("sora-2", "sora-3")),
        story("    shot 4s:\n        action: @mara waves.\n"),
    ),
    (
        "S190",
        story("    shot 4s:\n        action: @mara waves.  # storyc: ignore[S101]\n"),
        story("    shot 4s:\n        action: @mara waves.\n"),
    ),
    (
        "S190",
        story("    # storyc: ignore[S112]\n    shot 4s:\n        action: @mara waves.\n"),
        story("    shot 4s:\n        action: @mara waves.\n"),
    ),
    (
        "S190",
        story("    shot 4s:\n        action: @ghost waves.  # storyc: ignore[S101, C302]\n"),
        story("    shot 4s:\n        action: @ghost waves.  # storyc: ignore[S101]\n"),
    ),
]

# Fixes that change what the film says: only with --unsafe-fixes.
UNSAFE_FIXES: list[tuple[str, str, str]] = [
    (
        "S101",
        story("    shot 4s:\n        action: @mara meets @zed.\n"),
        story(
            "    shot 4s:\n        action: @mara meets @zed.\n",
            HEAD + "character zed:\n    look:\n\n",
        ),
    ),
    (
        "P205",
        story("    shot wide 20s:\n        action: @mara waves.\n"),
        story(
            "    shot wide 10s:\n        action: @mara waves.\n\n"
            "    shot wide 10s:\n        action: @mara waves.\n"
        ),
    ),
]


@pytest.mark.parametrize(("code", "failing", "fixed"), SAFE_FIXES, ids=[c[0] for c in SAFE_FIXES])
def test_safe_fix(code: str, failing: str, fixed: str) -> None:
    assert code in codes(failing)
    outcome = fix_source(failing, "t.story", analyze=analyze)
    assert outcome.source == fixed
    assert code in [d.code for d in outcome.applied]
    assert code not in codes(outcome.source)


@pytest.mark.parametrize(
    ("code", "failing", "fixed"), UNSAFE_FIXES, ids=[c[0] for c in UNSAFE_FIXES]
)
def test_unsafe_fix_only_when_asked(code: str, failing: str, fixed: str) -> None:
    assert code in codes(failing)
    assert fix_source(failing, "t.story", analyze=analyze).source == failing
    outcome = fix_source(failing, "t.story", unsafe=True, analyze=analyze)
    assert outcome.source == fixed
    assert code not in codes(outcome.source)


def test_fixes_converge_over_several_passes() -> None:
    # The colon fix must come first: until the shot parses, its other problems are unseen.
    failing = story(
        "    shot 4s:\n        camera slow\n        lihgt: warm\n        action: @mra.\n"
    )
    outcome = fix_source(failing, "t.story", analyze=analyze)
    assert outcome.source == story(
        "    shot 4s:\n        camera: slow\n        light: warm\n        action: @mara.\n"
    )
    assert codes(outcome.source) == []


def test_a_fix_that_breaks_the_parse_is_dropped() -> None:
    source = story("    shot 4s:\n        action: @mara waves.\n")

    def with_a_bad_fix(text: str, file: str = "<story>", **kwargs: object) -> object:
        result = analyze(text, file, **kwargs)
        breaking = Fix(title="break it", edits=(Edit(span=Span.point(8, 1, 0), text="shot\n"),))
        bad = Diagnostic(
            code="S112",
            name="empty-shot",
            severity=Severity.WARNING,
            message="m",
            span=Span.point(8, 1),
            fix=breaking,
        )
        result.diagnostics = [*result.diagnostics, bad]  # type: ignore[attr-defined]
        return result

    outcome = fix_source(source, "t.story", analyze=with_a_bad_fix)
    assert outcome.source == source
    assert [d.code for d in outcome.dropped] == ["S112"]


# (code, failing input, the input fixed by hand): rules without an automatic fix
BY_HAND: list[tuple[str, str, str]] = [
    (
        "S112",
        story("    shot 4s:\n        camera: static\n        action: @mara waves.\n    shot 2s:\n"),
        story("    shot 4s:\n        camera: static\n        action: @mara waves.\n"),
    ),
    (
        "S103",
        story("    shot 4s:\n        action: a cat sleeps.\n"),
        story("    shot 4s:\n        action: @mara watches a cat sleep.\n"),
    ),
    (
        "C301",
        story('    shot 2s:\n        @mara: "I have been waiting all morning for you to come."\n'),
        story('    shot 4s:\n        @mara: "Waited all morning."\n'),
    ),
    (
        "C302",
        story(
            "    shot 4s:\n        camera: wide\n        camera: close\n        action: @mara.\n"
        ),
        story("    shot 4s:\n        camera: wide\n        action: @mara.\n"),
    ),
]


@pytest.mark.parametrize(("code", "failing", "fixed"), BY_HAND, ids=[c[0] for c in BY_HAND])
def test_rule_without_fix(code: str, failing: str, fixed: str) -> None:
    assert code in codes(failing)
    assert code not in codes(fixed)


# -- suppressions ------------------------------------------------------------------------------


def test_a_line_suppression_silences_that_code_on_that_line_only() -> None:
    source = story(
        "    shot 4s:\n        action: @ghost waves.  # storyc: ignore[S101]\n"
        "    shot 4s:\n        action: @ghost runs.\n",
        BARE,
    )
    found = lint_source(source, "t.story", analyze=analyze).diagnostics
    assert [(d.code, d.span.line) for d in found] == [("S101", 8)]


def test_a_suppression_alone_on_its_line_silences_the_next_line() -> None:
    source = story("    # storyc: ignore[empty-shot]\n    shot 4s:\n        camera: static\n", BARE)
    assert codes(source) == []


def test_a_file_suppression_silences_the_code_everywhere() -> None:
    source = "# storyc: ignore-file[S101]\n" + story(
        "    shot 4s:\n        action: @ghost waves.\n    shot 4s:\n        action: @imp runs.\n",
        BARE,
    )
    assert codes(source) == []


def test_a_directive_inside_free_text_is_not_a_comment() -> None:
    source = story("    shot 4s:\n        action: @ghost waves.#storyc: ignore[S101]\n")
    assert "S101" in codes(source)


def test_bad_suppressions_are_reported() -> None:
    source = story(
        "    shot 4s:\n        action: @mara waves.  # storyc: ignore[S999]\n"
        "    shot 4s:\n        action: @mara runs.  # storyc: ignore[E006]\n"
        "    shot 4s:\n        action: @mara sits.  # storyc: ignor[S101]\n"
    )
    found = lint_source(source, "t.story", analyze=analyze).diagnostics
    assert [(d.code, d.span.line) for d in found] == [("S191", 9), ("S191", 11), ("S191", 13)]


def test_unused_suppressions_wait_until_the_file_parses() -> None:
    # The S101 it silences is in a block that does not parse: not "unused".
    source = story(
        "    shot 4s:\n        camera slow\n        action: @ghost waves.  # storyc: ignore[S101]\n",
        BARE,
    )
    assert "E006" in codes(source)
    assert "S190" not in codes(source)


# -- selection and config ----------------------------------------------------------------------


def test_select_and_ignore_by_code_name_and_prefix() -> None:
    source = story("    shot 4s:\n        camra: x\n        action: @ghost waves.\n", BARE)
    assert codes(source) == ["S107", "S101"]
    assert codes(source, RuleSelection.from_lists(["undeclared-name"])) == ["S101"]
    assert codes(source, RuleSelection.from_lists(None, ["S1"])) == []
    assert codes(source, RuleSelection.from_lists(["S"], ["S107"])) == ["S101"]


def test_syntax_errors_cannot_be_deselected() -> None:
    source = story("    shot 4s:\n        camera slow\n", BARE)
    assert codes(source, RuleSelection.from_lists(["C3"])) == ["E006"]


def test_config_is_found_by_walking_up(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.storyc]\nignore = ["S101"]\n')
    (tmp_path / "a" / "b").mkdir(parents=True)
    deep = tmp_path / "a" / "b" / "x.story"
    assert not selection_for(deep).is_enabled("S101")
    (tmp_path / "a" / "storyc.toml").write_text('select = ["S101"]\n')
    nearer = tmp_path / "a" / "y.story"
    assert selection_for(nearer).is_enabled("S101")
    assert not selection_for(nearer).is_enabled("S107")
    # The command line's select replaces the config's.
    assert selection_for(nearer, ["S107"]).is_enabled("S107")


def run(*args: str) -> tuple[int, str]:
    """The command's exit status and output (stdout, then stderr), run in this process
    through `storyc.cli.main` (see cli_support)."""
    result = storyc_main(args, cwd=Path.cwd())
    return result.returncode, result.output


def test_a_bad_config_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "storyc.toml").write_text('selct = ["S101"]\n')
    path = tmp_path / "x.story"
    path.write_text(story("    shot 4s:\n        action: @mara waves.\n"))
    code, output = run("lint", str(path))
    assert code == 2
    assert "unknown key `selct`" in output


# -- the command -------------------------------------------------------------------------------


@pytest.fixture
def bad_story(tmp_path: Path) -> Path:
    path = tmp_path / "bad.story"
    path.write_text(story("    shot 4s:\n        camera slow\n        action: @mra waves.\n", BARE))
    return path


def test_lint_exit_codes(tmp_path: Path, bad_story: Path) -> None:
    good = tmp_path / "good.story"
    good.write_text(story("    shot 4s:\n        action: @mara waves.\n"))
    assert run("lint", str(good))[0] == 0
    assert run("lint", str(bad_story))[0] == 1
    assert run("lint", str(bad_story), "--exit-zero")[0] == 0
    assert run("lint", str(bad_story), "--select", "NOPE")[0] == 2
    assert run("lint", str(tmp_path / "missing.story"))[0] == 2


def test_lint_fix_writes_the_fixed_file(bad_story: Path) -> None:
    code, output = run("lint", str(bad_story), "--fix")
    assert code == 1  # `@mra` has no near name to become, so S101 stays
    assert "S101" in output
    assert bad_story.read_text() == story(
        "    shot 4s:\n        camera: slow\n        action: @mra waves.\n", BARE
    )


def test_lint_diff_writes_nothing(bad_story: Path) -> None:
    before = bad_story.read_text()
    code, output = run("lint", str(bad_story), "--diff")
    assert code == 1
    assert "-        camera slow\n" in output and "+        camera: slow\n" in output
    assert bad_story.read_text() == before


def test_github_format(bad_story: Path) -> None:
    _, output = run("lint", str(bad_story), "--format", "github")
    assert f"::error file={bad_story},line=6,col=15,endLine=6,endColumn=16," in output
    assert "title=E006 missing-colon::expected `:` after `camera`" in output


def test_sarif_format(bad_story: Path) -> None:
    _, output = run("lint", str(bad_story), "--format", "sarif")
    log = json.loads(output)
    assert log["version"] == "2.1.0"
    run_ = log["runs"][0]
    [result] = [r for r in run_["results"] if r["ruleId"] == "E006"]
    assert result["ruleId"] == "E006" and result["level"] == "error"
    region = result["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (6, 15)
    rule = run_["tool"]["driver"]["rules"][result["ruleIndex"]]
    assert rule["id"] == "E006" and rule["name"] == "missing-colon"
    assert result["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"] == {
        "text": ":"
    }


def test_json_format(bad_story: Path) -> None:
    _, output = run("lint", str(bad_story), "--format", "json")
    found = json.loads(output)
    assert "E006" in [d["code"] for d in found]
    assert all({"code", "line", "column", "message", "fix"} <= set(d) for d in found)

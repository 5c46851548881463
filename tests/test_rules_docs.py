"""docs/rules.md and `storyc rule` agree with the rule catalog, and every diagnostic storyc
makes comes from a catalog rule (`catalog.S108.diagnostic(...)`), so no code can drift from
its name and docs. (That every rule's bad example raises it, and so every rule is emitted
somewhere, is tests/test_catalog_examples.py.)"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storyc.check import catalog, docs
from storyc.check.catalog import BY_CODE, BY_NAME, RULES, Rule
from storyc.cli import app

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "storyc"


def _sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name != "catalog.py")


def test_docs_rules_md_is_up_to_date() -> None:
    written = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert written == docs.render(), "docs/rules.md is stale: run `python -m storyc.check.docs`"


def test_docs_check_flag_reports_a_stale_file(tmp_path: Path) -> None:
    path = tmp_path / "rules.md"
    assert docs.main(["-o", str(path)]) == 0
    assert docs.main(["--check", "-o", str(path)]) == 0
    path.write_text(path.read_text(encoding="utf-8").replace("S101", "S1O1"), encoding="utf-8")
    assert docs.main(["--check", "-o", str(path)]) == 1
    assert docs.main(["--check", "-o", str(tmp_path / "missing.md")]) == 1


def test_every_rule_has_a_section_in_rules_md() -> None:
    text = docs.render()
    for rule in RULES:
        assert f"\n## {rule.code} {rule.name} ({rule.severity})\n" in text
        assert rule.summary in text


def test_catalog_codes_and_names_are_unique_and_well_formed() -> None:
    assert len(BY_CODE) == len(RULES)
    assert len(BY_NAME) == len(RULES)
    for rule in RULES:
        assert re.fullmatch(r"[EPSCT]\d{3}", rule.code), rule.code
        assert re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", rule.name), rule.name
        assert rule.summary.strip() and rule.good.strip()


def test_every_rule_is_a_catalog_attribute_named_by_its_code() -> None:
    # `catalog.S108` is the rule S108: a mistyped code is an AttributeError, not a string.
    for rule in RULES:
        assert getattr(catalog, rule.code) is rule


def test_diagnostics_are_made_only_from_catalog_rules() -> None:
    # No `Diagnostic(code=...)` outside the catalog, and no rule looked up by a code literal
    # (`BY_CODE["S101"]`): `BY_CODE` is for codes a user types.
    problems = []
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        where = path.relative_to(ROOT)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "Diagnostic"
            ):
                problems.append(f"{where}:{node.lineno}: Diagnostic(...) outside the catalog")
            if (
                isinstance(node, ast.Subscript)
                and isinstance(node.value, ast.Name)
                and isinstance(node.slice, ast.Constant)
                and isinstance(node.slice.value, str)
                and node.slice.value in BY_CODE
            ):
                problems.append(f"{where}:{node.lineno}: {node.slice.value} looked up by string")
    assert not problems, problems


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_storyc_rule_prints_the_entry(rule: Rule) -> None:
    runner = CliRunner()
    by_code = runner.invoke(app, ["rule", rule.code])
    assert by_code.exit_code == 0, by_code.output
    # rich expands tabs (E002's example has one) as a terminal would
    assert by_code.output.rstrip("\n") == rule.document().expandtabs(8).rstrip("\n")
    by_name = runner.invoke(app, ["rule", rule.name])
    assert by_name.exit_code == 0
    assert by_name.output == by_code.output


def test_storyc_rule_without_a_code_lists_every_rule() -> None:
    result = CliRunner().invoke(app, ["rule"])
    assert result.exit_code == 0
    # one line a rule (a long summary may wrap onto the next line)
    listed = re.findall(r"^([EPSCT]\d{3})  ", result.output, flags=re.MULTILINE)
    assert listed == [rule.code for rule in RULES]


def test_storyc_rule_with_an_unknown_code_exits_2() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "storyc.cli", "rule", "X999"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert run.returncode == 2
    assert "no rule is called `X999`" in run.stderr
    assert "Traceback" not in run.stderr
    assert run.stdout == ""

"""docs/rules.md and `storyc rule` agree with the rule catalog, and every code storyc emits
has an entry there."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storyc.check import docs
from storyc.check.catalog import BY_CODE, BY_NAME, RULES, Rule
from storyc.cli import app

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "storyc"

# R["S101"], BY_CODE["T001"]: how rules are looked up in the checker.
LOOKUP = re.compile(r"""\b(?:R|BY_CODE)\[\s*["']([A-Z]\d{3})["']\s*\]""")
# Any code literal, with the name literal that follows it where there is one
# (`_syntax(file, "E001", "syntax-error", ...)`, `self.error("S108", "duplicate-header-key", ...)`).
LITERAL = re.compile(r"""["']([EPSCT]\d{3})["'](?:\s*,\s*["']([a-z][a-z0-9-]*)["'])?""")


def _sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name != "catalog.py")


def _occurrences(pattern: re.Pattern[str]) -> list[tuple[str, int, re.Match[str]]]:
    found = []
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        for match in pattern.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append((str(path.relative_to(ROOT)), line, match))
    return found


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


def test_every_looked_up_code_is_in_the_catalog() -> None:
    found = _occurrences(LOOKUP)
    assert len(found) > 20, "the lookup pattern no longer finds the checker's rules"
    missing = [
        f"{file}:{line}: {m.group(1)}" for file, line, m in found if m.group(1) not in BY_CODE
    ]
    assert not missing, missing


def test_every_code_literal_is_in_the_catalog_with_its_name() -> None:
    # Diagnostics made without the catalog (the parser's syntax errors, the builder's
    # header errors) must still use catalogued codes and the catalog's names.
    found = _occurrences(LITERAL)
    assert any(m.group(2) for _, _, m in found), "no code/name pairs found: pattern broken"
    problems = []
    for file, line, match in found:
        code, name = match.group(1), match.group(2)
        if code not in BY_CODE:
            problems.append(f"{file}:{line}: {code} is not in the catalog")
        elif name is not None and name != BY_CODE[code].name:
            problems.append(f"{file}:{line}: {code} is `{BY_CODE[code].name}`, not `{name}`")
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

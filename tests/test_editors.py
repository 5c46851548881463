"""The editor support files: valid JSON, the extension starts `storyc lsp`, and the TextMate
grammar colours comments the way the parser reads them (Python's `re` stands in for
Oniguruma: the grammar only uses what both understand)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

VSCODE = Path(__file__).resolve().parent.parent / "editors" / "vscode"


def test_the_extension_starts_storyc_lsp_for_story_files() -> None:
    package = json.loads((VSCODE / "package.json").read_text())
    settings = package["contributes"]["configuration"]["properties"]
    assert settings["storyc.server.command"]["default"] == ["storyc", "lsp"]
    [language] = package["contributes"]["languages"]
    assert language["extensions"] == [".story"]
    assert (VSCODE / language["configuration"]).is_file()
    [grammar] = package["contributes"]["grammars"]
    assert grammar["scopeName"] == "source.story"
    assert (VSCODE / grammar["path"]).is_file()
    assert "vscode-languageclient" in package["dependencies"]
    assert (VSCODE / package["main"]).is_file()


def test_language_configuration_comments_with_hash() -> None:
    config = json.loads((VSCODE / "language-configuration.json").read_text())
    assert config["comments"]["lineComment"] == "#"
    assert config["folding"]["offSide"] is True


def _patterns(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [v for k, v in node.items() if k in ("match", "begin", "end")]
        return found + [p for v in node.values() for p in _patterns(v)]
    if isinstance(node, list):
        return [p for v in node for p in _patterns(v)]
    return []


GRAMMAR = json.loads((VSCODE / "syntaxes" / "story.tmLanguage.json").read_text())


def test_every_grammar_pattern_compiles() -> None:
    patterns = _patterns(GRAMMAR)
    assert len(patterns) > 10
    for pattern in patterns:
        re.compile(pattern)


@pytest.mark.parametrize(
    ("line", "comment"),
    [
        ("# a comment line", "# a comment line"),
        ("        action: she waves.  # a note", "# a note"),
        ("        action: take#2 of the scene", None),
        ("        action: x#  y", None),
        ("    shot 4s:# right after the colon", "# right after the colon"),
    ],
)
def test_comments_are_coloured_where_the_parser_sees_them(line: str, comment: str | None) -> None:
    found = re.search(GRAMMAR["repository"]["comment"]["match"], line)
    assert (found.group(0) if found else None) == comment

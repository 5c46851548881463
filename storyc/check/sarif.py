"""Diagnostics as SARIF 2.1.0, the format code-scanning services (GitHub, Azure) read.

Kept apart from `storyc.check.diagnostics` because it describes every rule from the catalog, and
the catalog itself is built on `storyc.check.diagnostics`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from storyc import __version__
from storyc.check.catalog import RULES
from storyc.check.diagnostics import Diagnostic, Severity
from storyc.language.model import Span
from storyc.terminal import json_visible

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _uri(file: str) -> str:
    path = Path(file)
    return path.as_uri() if path.is_absolute() else path.as_posix()


def _region(span: Span) -> dict[str, int]:
    return {
        "startLine": span.line,
        "startColumn": span.column,
        "endLine": span.end_line,
        "endColumn": span.end_column,
    }


def _rule_descriptor(rule_index: int) -> dict[str, Any]:
    r = RULES[rule_index]
    return {
        "id": r.code,
        "name": r.name,
        "shortDescription": {"text": r.summary.split(". ")[0].rstrip(".") + "."},
        "fullDescription": {"text": r.summary},
        "help": {"text": r.document()},
        "defaultConfiguration": {"level": _LEVEL[r.severity]},
    }


def _result(d: Diagnostic, rule_index: dict[str, int]) -> dict[str, Any]:
    location = {"artifactLocation": {"uri": _uri(d.file)}, "region": _region(d.span)}
    result: dict[str, Any] = {
        "ruleId": d.code,
        "level": _LEVEL[d.severity],
        "message": {"text": d.message + (f"\nhelp: {d.help}" if d.help else "")},
        "locations": [{"physicalLocation": location}],
    }
    if d.code in rule_index:
        result["ruleIndex"] = rule_index[d.code]
    if d.fix is not None:
        result["fixes"] = [
            {
                "description": {"text": d.fix.title},
                "artifactChanges": [
                    {
                        "artifactLocation": {"uri": _uri(d.file)},
                        "replacements": [
                            {
                                "deletedRegion": _region(edit.span),
                                "insertedContent": {"text": edit.text},
                            }
                            for edit in d.fix.edits
                        ],
                    }
                ],
            }
        ]
    return result


def render_sarif(diagnostics: Sequence[Diagnostic]) -> str:
    """One SARIF run: storyc as the tool (every rule described), one result per diagnostic."""
    rule_index = {r.code: i for i, r in enumerate(RULES)}
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "storyc",
                        "version": __version__,
                        "rules": [_rule_descriptor(i) for i in range(len(RULES))],
                    }
                },
                # Our columns count code points, not UTF-16 units (SARIF's default).
                "columnKind": "unicodeCodePoints",
                "results": [_result(d, rule_index) for d in diagnostics],
            }
        ],
    }
    return json_visible(json.dumps(log, indent=2, ensure_ascii=False))

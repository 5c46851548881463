"""Golden files: the compiled plan and prompts of every example, byte for byte.

Regenerate after an intended change with `STORYC_UPDATE_GOLDEN=1 pytest tests/test_core_golden.py`
and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from storyc.frontend import compile_file
from tests.conftest import ROOT, example_paths

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("STORYC_UPDATE_GOLDEN") == "1"


def _outputs(story: Path) -> dict[str, str]:
    compilation = compile_file(story.relative_to(ROOT))
    assert compilation.plan is not None, compilation.diagnostics
    files = {"plan.json": compilation.plan.to_json().replace(str(ROOT), "<root>")}
    for clip in compilation.plan.clips:
        files[f"{clip.index:02d}.prompt.txt"] = clip.prompt + "\n"
    return files


@pytest.mark.parametrize("story", example_paths(), ids=lambda p: p.stem)
def test_compiled_outputs_match_golden_files(story: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    folder = GOLDEN / story.stem
    outputs = _outputs(story)
    if UPDATE:
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.iterdir():
            stale.unlink()
        for name, text in outputs.items():
            (folder / name).write_text(text, encoding="utf-8")
    expected = {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir())}
    assert sorted(outputs) == sorted(expected)
    for name, text in outputs.items():
        assert text == expected[name], f"{story.stem}/{name} differs from its golden file"

"""`storyc providers`: every row of the model table, readable at 80 columns, and as JSON."""

from __future__ import annotations

import json
from pathlib import Path

from cli_support import storyc_main

from storyc.plan.capabilities import load_table


def test_every_row_is_listed_within_80_columns(tmp_path: Path) -> None:
    result = storyc_main(["providers"], cwd=tmp_path, env={"COLUMNS": "80"})
    assert result.returncode == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    for o in load_table().offerings:
        assert f"{o.provider} / {o.model}  ({o.api_model})" in lines
    assert "  avoid        as negative_prompt" in result.output
    assert "  checked      2026-11-30" in result.output
    assert "  cameos       up to 9 (images, as image_urls)" in result.output


def test_json_has_every_fact_a_writer_chooses_by(tmp_path: Path) -> None:
    result = storyc_main(["providers", "--json", "--provider", "runway"], cwd=tmp_path)
    assert result.returncode == 0, result.output
    rows = json.loads(result.output)
    table = [o for o in load_table().offerings if o.provider == "runway"]
    assert [(r["provider"], r["model"]) for r in rows] == [(o.provider, o.model) for o in table]
    veo = next(r for r in rows if r["model"] == "veo-3.1")
    assert veo["negative_prompt"] == "negativePrompt"
    assert veo["sizes"] == ["1280x720", "720x1280", "1920x1080", "1080x1920"]
    assert veo["usd_per_second_silent"] == 0.20
    assert veo["source"].startswith("runwayml 5.24.0") and veo["checked"] == "2026-11-30"
    assert veo["status"] and veo["first_frame"] == "promptImage"


def test_unknown_provider_or_model_is_a_message(tmp_path: Path) -> None:
    result = storyc_main(["providers", "--provider", "sora"], cwd=tmp_path)
    assert result.returncode == 2
    assert "`sora` is not a provider" in result.output
    result = storyc_main(["providers", "--model", "veo-9"], cwd=tmp_path)
    assert result.returncode == 2
    assert "`veo-9` is not a model storyc knows" in result.output
    assert "Traceback" not in result.output

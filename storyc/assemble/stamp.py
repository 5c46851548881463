"""A build stamp: what the last assembly was made from, so an unchanged rebuild skips it.

The stamp records the plan's hash and, for every input clip and every output, its size and
modification time (like make, without reading the video bytes again), and the build options
that change an output (only when one is not the default, so older stamps still match). If
all of them are as recorded, the film on disk is the film this build would make.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path
from typing import Any

from storyc.fsutil import write_atomic
from storyc.plan.schema import ClipPlan

STAMP_NAME = ".storyc-build.json"
STAMP_VERSION = 1


def _file_state(path: Path) -> list[Any] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return [path.name, stat.st_size, stat.st_mtime_ns]


def build_state(
    plan: ClipPlan,
    clips: list[Path],
    outputs: list[Path],
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    state: dict[str, Any] = {
        "version": STAMP_VERSION,
        "plan": hashlib.sha256(plan.to_json().encode("utf-8")).hexdigest(),
        "clips": [_file_state(path) for path in clips],
        "outputs": [_file_state(path) for path in outputs],
    }
    if options:
        state["options"] = options
    return state


def is_up_to_date(
    folder: Path,
    plan: ClipPlan,
    clips: list[Path],
    outputs: list[Path],
    options: dict[str, Any] | None = None,
) -> bool:
    """True when the outputs exist and were made from exactly these clips and this plan
    (and these non-default `options`)."""
    try:
        recorded = json.loads((folder / STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    current = build_state(plan, clips, outputs, options)
    return None not in current["outputs"] and recorded == current


def write_stamp(
    folder: Path,
    plan: ClipPlan,
    clips: list[Path],
    outputs: list[Path],
    options: dict[str, Any] | None = None,
) -> None:
    path = folder / STAMP_NAME
    write_atomic(path, json.dumps(build_state(plan, clips, outputs, options)))


def clear_stamp(folder: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        (folder / STAMP_NAME).unlink()

"""Rendering benchmarks: the preview's speed, and the scheduler against a fake provider.

    .venv/bin/python bench/render.py            # both parts
    .venv/bin/python bench/render.py preview    # preview only
    .venv/bin/python bench/render.py fake       # fake provider only

Part 1 (preview): time per clip of the offline animatic at 1280x720 (4, 8 and 12 s clips,
rendered one at a time, then the same clips with --jobs 4 through the scheduler), and the
four shared examples end to end.

Part 2 (fake provider): 50 clips against the fake server with jobs taking 1 s, --jobs 8:
wall time against the ideal ceil(50/8) s (goal within 1.2x). Written by the HTTP renderers'
author in `bench_fake_provider` below.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # render_clips: hand-made clips and plans

from render_clips import make_clip, make_plan  # noqa: E402

from storyc.compiler import compile_file  # noqa: E402
from storyc.probe import probe  # noqa: E402
from storyc.render.cache import ClipCache  # noqa: E402
from storyc.render.journal import Journal  # noqa: E402
from storyc.render.preview import PreviewRenderer, render_clip  # noqa: E402
from storyc.render.scheduler import render_plan  # noqa: E402

# --- part 1: the preview renderer -------------------------------------------------------


def bench_preview(repeats: int = 3) -> dict[str, float]:
    """Print and return the preview's figures (seconds)."""
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="storyc-bench-") as tmp:
        folder = Path(tmp)
        for seconds in (4, 8, 12):
            shots = tuple((n * 2000, (n + 1) * 2000) for n in range(seconds // 2))
            clip = make_clip(1, render_ms=seconds * 1000, shots=shots, dialogue=True)
            times = []
            for n in range(repeats):
                output = folder / f"{seconds}-{n}.mp4"
                started = time.perf_counter()
                asyncio.run(render_clip(clip, output))
                times.append(time.perf_counter() - started)
            assert probe(output).video_frames == seconds * 24
            best = min(times)
            figures[f"clip_{seconds}s"] = best
            print(
                f"preview 1280x720 {seconds:>2} s clip ({len(shots)} shots): "
                f"{best:.2f} s (median {statistics.median(times):.2f} s, "
                f"{seconds / best:.1f}x real time)"
            )

        clips = [
            make_clip(i, render_ms=8000, shots=((0, 4000), (4000, 8000)), film_start=i * 8000)
            for i in range(1, 9)
        ]
        cache = folder / "cache"
        started = time.perf_counter()
        with Journal.in_folder(cache) as journal:
            report = asyncio.run(
                render_plan(
                    make_plan(clips), PreviewRenderer(), cache=ClipCache(cache), journal=journal
                )
            )
        elapsed = time.perf_counter() - started
        assert report.ok
        figures["scheduler_8x8s_jobs4"] = elapsed
        print(
            f"preview via the scheduler, 8 clips of 8 s, --jobs 4: {elapsed:.2f} s "
            f"({elapsed / len(clips):.2f} s per clip)"
        )

        examples = sorted((ROOT / "examples").glob("*.story"))
        plan_clips = []
        for story in examples:
            compilation = compile_file(story, provider="preview")
            if compilation.plan is not None:
                plan_clips += compilation.plan.clips
        cache = folder / "examples-cache"
        started = time.perf_counter()
        with Journal.in_folder(cache) as journal:
            report = asyncio.run(
                render_plan(
                    make_plan(plan_clips),
                    PreviewRenderer(),
                    cache=ClipCache(cache),
                    journal=journal,
                )
            )
        elapsed = time.perf_counter() - started
        assert report.ok
        figures["examples"] = elapsed
        seconds = sum(c.render_ms for c in plan_clips) / 1000
        print(
            f"the {len(examples)} shared examples: {len(plan_clips)} clips, {seconds:g} s of "
            f"video, in {elapsed:.2f} s"
        )
    return figures


# --- part 2: the fake provider (owned by the HTTP renderers' author) --------------------


def bench_fake_provider() -> dict[str, float]:
    """50 clips, 1 s jobs, --jobs 8 against the fake server: wall time vs ceil(50/8) s."""
    print("fake provider benchmark: not written yet (see bench_fake_provider)")
    return {}


def main(argv: list[str]) -> None:
    parts = argv or ["preview", "fake"]
    if "preview" in parts:
        bench_preview()
    if "fake" in parts:
        bench_fake_provider()


if __name__ == "__main__":
    main(sys.argv[1:])

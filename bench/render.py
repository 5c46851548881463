"""Rendering benchmarks: the preview's speed, and the scheduler against a fake provider.

    .venv/bin/python bench/render.py            # both parts
    .venv/bin/python bench/render.py preview    # preview only
    .venv/bin/python bench/render.py fake       # fake provider only

Part 1 (preview): time per clip of the offline animatic at 1280x720 (4, 8 and 12 s clips,
rendered one at a time, then the same clips with --jobs 4 through the scheduler), and the
four shared examples end to end.

Part 2 (fake provider): 50 clips against the fake server with jobs taking 1 s, --jobs 8:
wall time against the ideal ceil(50/8) s (goal within 1.1x, issue 15). Written by the HTTP renderers'
author in `bench_fake_provider` below.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # render_clips: hand-made clips and plans

from render_clips import make_clip, make_plan  # noqa: E402

from storyc.frontend import compile_file  # noqa: E402
from storyc.probe import probe  # noqa: E402
from storyc.providers.cache import ClipCache  # noqa: E402
from storyc.providers.engine import render_plan  # noqa: E402
from storyc.providers.journal import Journal  # noqa: E402
from storyc.providers.preview import PreviewRenderer, render_clip  # noqa: E402

if TYPE_CHECKING:
    from storyc.plan.schema import ClipPlan
    from storyc.providers.base import Renderer
    from storyc.providers.engine import RenderReport

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


def bench_fake_provider(
    count: int = 50, jobs: int = 8, job_seconds: float = 1.0, poll_s: float = 0.1
) -> dict[str, float]:
    """50 clips, 1 s jobs, --jobs 8 against the fake server: wall time vs ceil(50/8) s.

    The fake server runs in its own process (as a real provider would: it does not share
    this process's interpreter), on 127.0.0.1, and answers in each provider's protocol with
    real MP4 files. Polling every `poll_s` (OpenAI: the `openai-poll-after-ms` header the
    fake sends; fal, Prodia: `STORYC_POLL_INTERVAL_S`) is to these 1 s jobs what a 5 s poll
    is to a 50 s job. Every clip is submitted, followed, downloaded, checked and cached.
    """
    import json
    import math
    import os
    import subprocess
    import urllib.request

    from fakeprovider import DEFAULT_KEYS, make_mp4
    from fakeprovider.testing import make_clip as provider_clip
    from fakeprovider.testing import make_plan as provider_plan

    from storyc.providers.registry import create_renderer

    ideal = math.ceil(count / jobs) * job_seconds
    figures: dict[str, float] = {}
    models = {"openai": "sora-2", "fal": "veo-3.1-fast", "prodia": "sora-2"}
    with tempfile.TemporaryDirectory(prefix="storyc-bench-fake-") as tmp:
        folder = Path(tmp)
        make_mp4(folder / "media", 1280, 720, 4)  # made once, before the clock starts
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "fakeprovider",
                "--media",
                str(folder / "media"),
                "--job-seconds",
                str(job_seconds),
            ],
            cwd=ROOT / "tests",
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            port = int(server.stdout.readline().split()[1])
            root = f"http://127.0.0.1:{port}"

            def control(path: str, payload: dict[str, object] | None = None) -> dict:
                data = json.dumps(payload).encode() if payload is not None else None
                with urllib.request.urlopen(f"{root}/_fake/{path}", data=data) as answer:
                    return json.loads(answer.read())

            os.environ.update(
                {
                    "OPENAI_BASE_URL": f"{root}/v1",
                    "OPENAI_API_KEY": DEFAULT_KEYS["openai"],
                    "FAL_QUEUE_URL": f"{root}/fal",
                    "FAL_REST_URL": f"{root}/fal-rest",
                    "FAL_CDN_URL": f"{root}/fal-cdn",
                    "FAL_KEY": DEFAULT_KEYS["fal"],
                    "PRODIA_URL": f"{root}/prodia",
                    "PRODIA_TOKEN": DEFAULT_KEYS["prodia"],
                    "STORYC_POLL_INTERVAL_S": str(poll_s),
                }
            )
            for provider, model in models.items():
                control("reset", {})
                control("faults", {"job_seconds": job_seconds, "poll_after_ms": int(poll_s * 1000)})
                clips = [
                    provider_clip(provider, model, i, f"{provider} bench clip {i}")
                    for i in range(1, count + 1)
                ]
                cache = folder / f"cache-{provider}"
                renderer = create_renderer(provider, cache_dir=cache)
                started = time.perf_counter()
                report = asyncio.run(_render_all(provider_plan(clips), renderer, cache, jobs))
                elapsed = time.perf_counter() - started
                stats = control("stats")
                assert report.ok, [str(f) for f in report.failures]
                assert stats["total_submits"] == count, stats
                figures[provider] = elapsed
                print(
                    f"fake {provider:<6} {count} clips, {job_seconds:g} s jobs, --jobs {jobs}: "
                    f"{elapsed:.2f} s against the ideal {ideal:g} s ({elapsed / ideal:.2f}x; "
                    f"goal 1.1x), {stats['requests']} requests, "
                    f"{stats['total_submits']} submits"
                )
        finally:
            server.terminate()
            server.wait(timeout=10)
    return figures


async def _render_all(plan: ClipPlan, renderer: Renderer, cache: Path, jobs: int) -> RenderReport:
    try:
        with Journal.in_folder(cache) as journal:
            return await render_plan(
                plan, renderer, cache=ClipCache(cache), journal=journal, jobs=jobs
            )
    finally:
        await renderer.aclose()


def main(argv: list[str]) -> None:
    parts = argv or ["preview", "fake"]
    if "preview" in parts:
        bench_preview()
    if "fake" in parts:
        bench_fake_provider()


if __name__ == "__main__":
    main(sys.argv[1:])

"""Front-end benchmark: parse, check and compile generated stories of 100 to 10,000 shots.

    .venv/bin/python bench/compile.py                  # 100, 1,000 and 10,000 shots
    .venv/bin/python bench/compile.py --sizes 10000    # one size
    .venv/bin/python bench/compile.py --profile        # also cProfile one warm 10,000-shot run
    .venv/bin/python bench/compile.py --write DIR      # also write the generated stories

The stories are varied: scenes of about ten shots, presets, locations, characters, two
cameos (pointing at `refs/mara.mp4`, a copy of `examples/refs` beside the stories), first-frame images,
dialogue, comments, free text with `#`, quotes and unicode, seeds and transitions. They
check with warnings at most, so every run goes all the way to a clip plan.

Figures, all measured here:
- warm: in this process, after one warm-up run; the median of `--repeats` runs of
  `parse` (`parse_story`), `build+check` (`build_story`, the story rules, the provider
  rules with the reference files' facts), `plan+prompt` (grouping, prompts, prompt limits,
  `finish_plan`), and `total`: one `analyze_source` call, which is what `storyc check` and
  `storyc compile` run (it parses again itself, so it is not the sum of the stages);
  `total cpu` is the process CPU time of those same calls (steadier on a busy machine).
- parse paths: the CPU time (median of `--repeats`) of the line reader and of Lark alone
  (`story_parser().parse`) on the same text; `parse` above is the reader when it reads the
  whole story (`fast path: yes`). `total cpu` is also given as a ratio to Lark alone: the
  issue 15 goal is 0.6x.
- cold: a new `python -c` process that imports `storyc.frontend` and runs `analyze_source`
  once; `import` and `first run` are timed inside it, `process` is its wall time from here.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import pstats
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storyc.check.provider import check_prompts, check_story_against, resolve_offering  # noqa: E402
from storyc.check.structure import (  # noqa: E402
    check_content,
    check_header,
    check_keys,
    check_names,
)
from storyc.frontend import _referenced_files, analyze_source, read_file_facts  # noqa: E402
from storyc.language.builder import build_story  # noqa: E402
from storyc.language.line_reader import read_story  # noqa: E402
from storyc.language.parse import (  # noqa: E402
    _tab_diagnostics,
    parse_story,
    split_blocks,
    story_parser,
)
from storyc.plan.capabilities import load_table  # noqa: E402
from storyc.plan.planner import finish_plan, group_clips, shot_mentions  # noqa: E402
from storyc.plan.prompt import render_prompt  # noqa: E402

REFS = ROOT / "examples" / "refs"
SIZES = (100, 1_000, 10_000)
SHOTS_PER_SCENE = 10

# Durations as writers spell them, each within Sora 2's 12 s; long enough for the
# transitions below (at most 0.5 s) and short enough that clips pack several shots.
DURATIONS = ("2s", "3s", "3.5s", "4s", "1500ms", "0:04", "2.5s", "5s", "6s", "0:03.5")
LABELS = ("wide", "close-up", "medium", "pov", "over-the-shoulder", "insert", None, None)
CAMERAS = (
    "slow dolly in from the street window",
    "locked-off close-up, rack focus to the cup",
    "handheld, gentle sway, 35mm, f/2.8",
    "low angle, static; the bike rushes past the camera",
    "crane up to reveal the skyline — golden hour",
    'over the shoulder of @kid, "the map" in frame',
)
ACTIONS = (
    "@mara unlocks the door and flips the sign to OPEN.",
    "@mara pours a latte; steam curls past flower #7 on the counter.",
    "@kid presses his nose against the glass and grins 😀",
    "@chef plays a C# on the old upright piano, then laughs.",
    "@theo and @mara trade a look across the bar.",
    "rain runs down the glass; neon signs smear into colour.",
    "@kid's kite tugs at its string, then soars.",
    "the cup slides toward camera, 0:04 on the clock above.",
)
SOUNDS = (
    ("ambient", "light street traffic, distant birdsong"),
    ("sfx", "a brass bell chimes as the door opens"),
    ("music", "soft jazz piano, low in the mix"),
    ("sfx", "steam hisses, the pitcher clinks against the bar"),
)
LINES = (
    "First one's always for me.",
    "Morning!",
    "You're late again.",
    "Look — it's flying!",
    "One more, please.",
    "We open at seven.",
)
TRANSITIONS = ("cut", "cut crossfade 0.5s", "cut fade 0.25s", "cut dip 0.5s", "crossfade 0.5s")


def generate_story(shots: int, *, seed: int = 7) -> str:
    """A clean story of exactly `shots` shots (warnings allowed, no errors) for Sora 2."""
    rng = random.Random(seed)
    # Relative: the stories are written beside a copy of examples/refs (references must
    # live inside the story's project folder).
    mara = Path("refs") / "mara.mp4"
    fan = Path("refs") / "fan.png"
    out = [
        f"# generated by bench/compile.py: {shots} shots",
        f"title: Bench {shots}",
        "model: sora-2",
        "size: 1280x720",
        "style: 35mm film look, warm grade, shallow depth of field   # the house look",
        "seed: 42",
        "",
        f'cameo mara: "{mara}"',
        "    look: barista in her 30s, green apron, short black hair",
        "    voice: warm alto, a slight lilt",
        f'cameo theo: "{mara}"',
        "    look: a tall regular in a grey coat",
        "",
        "character kid:",
        "    look: a boy of eight in a yellow raincoat",
        "character chef:",
        "    look: a cook with flour on her sleeves",
        "    voice: husky, amused",
        "",
        "location cafe:",
        "    look: narrow corner cafe, brick walls, brass fixtures",
        "    light: warm tungsten practicals",
        "location street:",
        "    look: a wet cobbled street at dusk",
        "    ambient: distant traffic, rain on awnings",
        "location roof:",
        "    look: a flat roof above the city",
        "    light: hard noon sun",
        "",
        "preset golden:",
        "    light: low golden-hour sun, long shadows",
        "    camera: handheld, gentle sway",
        "preset storm:",
        "    light: dark overcast, rain streaks catching the light",
        "    ambient: the sound of the storm, rain on leaves",
        "preset quiet:",
        "    grade: muted teal and orange",
        "    note: keep it calm",
        "",
    ]
    speakers = ("mara", "kid", "chef", "theo")
    written = 0
    scene = 0
    while written < shots:
        scene += 1
        in_scene = min(shots - written, SHOTS_PER_SCENE + rng.randint(-2, 2))
        location = rng.choice(("cafe", "street", "roof", None))
        at = f" at {location}" if location else ""
        if scene > 1 and rng.random() < 0.3:
            out += ["fade 0.5s   # between scenes", ""]
        out.append(f'scene "Scene {scene}"{at}:')
        if rng.random() < 0.5:
            out.append("    grade: soft contrast, lifted blacks")
        for position in range(in_scene):
            written += 1
            duration = rng.choice(DURATIONS)
            ms = _ms(duration)
            parts = ["shot"]
            label = rng.choice(LABELS)
            if label:
                parts.append(label)
            parts.append(duration)
            if rng.random() < 0.3:
                parts.append(f"with {rng.choice(('golden', 'storm', 'quiet'))}")
            if rng.random() < 0.04:
                parts.append(f'from "{fan}"')
            if rng.random() < 0.05:
                parts.append(f"seed {rng.randint(1, 99)}")
            out.append("    " + " ".join(parts) + ":")
            out.append(f"        camera: {rng.choice(CAMERAS)}")
            if rng.random() < 0.4:
                out.append("        lens: 35mm, f/2.8")
            out.append(f"        action: {rng.choice(ACTIONS)}")
            if rng.random() < 0.6:
                key, text = rng.choice(SOUNDS)
                out.append(f"        {key}: {text}")
            if rng.random() < 0.1:
                out.append("        note: check continuity with the last scene  # for the editor")
            if rng.random() < 0.35:
                line = rng.choice(LINES)
                # Within natural speech (2.5 words a second) so C301 stays quiet.
                words = line.split()[: max(1, int(ms / 1000 * 2.5))]
                delivery = rng.choice((" (quietly)", " (laughing)", ""))
                out.append(f'        @{rng.choice(speakers)}{delivery}: "{" ".join(words)}"')
            if position < in_scene - 1 and rng.random() < 0.15:
                out.append(f"    {rng.choice(TRANSITIONS)}")
            out.append("")
    return "\n".join(out) + "\n"


def _ms(duration: str) -> int:
    if ":" in duration:
        minutes, seconds = duration.split(":")
        return int((int(minutes) * 60 + float(seconds)) * 1000)
    if duration.endswith("ms"):
        return int(duration[:-2])
    return int(float(duration[:-1]) * 1000)


# --- warm: stages in this process -------------------------------------------------------


def run_stages(source: str, file: str) -> dict[str, float]:
    """One pass through the stages `analyze_source` runs, each timed (seconds).

    The cyclic collector is paused as `analyze_source` pauses it, so the stages and the
    total are measured alike.
    """
    times: dict[str, float] = {}
    gc.disable()
    try:
        started = time.perf_counter()
        parsed = parse_story(source, file)
        times["parse"] = time.perf_counter() - started

        started = time.perf_counter()
        story, diagnostics = build_story(parsed.items, parsed.source, file)
        for rule in (check_header, check_keys, check_names, check_content):
            diagnostics += rule(story, file)
        offering, problems = resolve_offering(story, load_table(), story.header.provider, file)
        assert offering is not None, problems
        facts = {path: read_file_facts(path) for path in set(_referenced_files(story))}
        mentions = shot_mentions(story)  # as `analyze_source`: found once, used twice
        diagnostics += check_story_against(story, offering, facts, file, mentions)
        times["build+check"] = time.perf_counter() - started

        started = time.perf_counter()
        drafts = group_clips(story, offering, None, mentions)
        prompts = [render_prompt(d, story, offering) for d in drafts]
        diagnostics += check_prompts(story, offering, drafts, prompts, file)
        hashes = {path: fact.sha256 for path, fact in facts.items()}
        finish_plan(story, offering, drafts, prompts, hashes)
        times["plan+prompt"] = time.perf_counter() - started
    finally:
        gc.enable()
    errors = [d for d in diagnostics if d.is_error]
    assert not errors, errors[:3]
    return times


def run_total(source: str, file: str) -> tuple[float, float]:
    """One `analyze_source` call: (wall, CPU) seconds."""
    started, cpu = time.perf_counter(), time.process_time()
    result = analyze_source(source, file)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert result.plan is not None and not result.has_errors, result.diagnostics[:3]
    return elapsed, cpu


def warm(source: str, file: str, repeats: int) -> dict[str, float]:
    run_stages(source, file)
    run_total(source, file)
    stage_runs = [run_stages(source, file) for _ in range(repeats)]
    figures = {key: statistics.median(run[key] for run in stage_runs) for key in stage_runs[0]}
    totals = [run_total(source, file) for _ in range(repeats)]
    figures["total"] = statistics.median(wall for wall, _ in totals)
    figures["total cpu"] = statistics.median(cpu for _, cpu in totals)
    return figures


def _cpu_median(run: Callable[[], object], repeats: int) -> float:
    """CPU seconds (median of `repeats`, after one warm-up) of `run`, the collector paused
    and what it returns freed after the clock stops."""
    run()
    runs = []
    for _ in range(repeats):
        gc.disable()
        try:
            cpu = time.process_time()
            result = run()
            runs.append(time.process_time() - cpu)
            del result  # freed outside the timing: freeing is not building
        finally:
            gc.enable()
    return statistics.median(runs)


def build_and_glue(source: str, repeats: int) -> dict[str, float]:
    """CPU seconds (median): `build_story` on the parsed text, and the glue every parse runs
    besides the reader (`split_blocks` and the tab scan; the editor runs them per keystroke)."""
    parsed = parse_story(source)
    return {
        "build": _cpu_median(lambda: build_story(parsed.items, parsed.source), repeats),
        "glue": _cpu_median(
            lambda: (split_blocks(parsed.source), _tab_diagnostics(parsed.source, "b")), repeats
        ),
    }


def parse_paths(source: str, repeats: int) -> dict[str, float]:
    """CPU seconds (median) to parse the same text with the line reader and with Lark alone,
    the collector paused as in `run_stages`; `fast path` is 1.0 if the reader read it all."""
    text = source + "\n"
    figures: dict[str, float] = {"fast path": float(read_story(text) is not None)}
    for name, parse in (("reader", read_story), ("lark", story_parser().parse)):
        parse(text)
        runs = []
        for _ in range(repeats):
            gc.disable()
            try:
                cpu = time.process_time()
                parse(text)
                runs.append(time.process_time() - cpu)
            finally:
                gc.enable()
        figures[name] = statistics.median(runs)
    return figures


# --- cold: a new process ----------------------------------------------------------------

_COLD = """
import json, sys, time
started = time.perf_counter()
from storyc.frontend import analyze_source
imported = time.perf_counter()
path = sys.argv[1]
source = open(path, encoding="utf-8").read()
result = analyze_source(source, path)
done = time.perf_counter()
assert result.plan is not None and not result.has_errors
print(json.dumps({"import": imported - started, "first run": done - imported}))
"""


def cold(path: Path) -> dict[str, float]:
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-c", _COLD, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    figures: dict[str, float] = json.loads(completed.stdout)
    figures["process"] = time.perf_counter() - started
    return figures


# --- report -----------------------------------------------------------------------------


def _ms_text(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def profile(source: str, file: str, top: int = 15) -> str:
    """cProfile one warm `analyze_source` run: the top entries by cumulative, then own time."""
    run_total(source, file)
    profiler = cProfile.Profile()
    profiler.enable()
    analyze_source(source, file)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default=",".join(str(n) for n in SIZES))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="cProfile the largest size")
    parser.add_argument("--write", type=Path, help="also write the generated stories here")
    args = parser.parse_args(argv)
    sizes = [int(n) for n in args.sizes.split(",")]

    print(f"python {sys.version.split()[0]}, {_cpus()} CPUs; warm = median of {args.repeats}")
    with tempfile.TemporaryDirectory(prefix="storyc-bench-") as tmp:
        folder = args.write or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copytree(REFS, folder / "refs", dirs_exist_ok=True)
        for shots in sizes:
            source = generate_story(shots)
            path = folder / f"bench-{shots}.story"
            path.write_text(source, encoding="utf-8")
            lines = source.count("\n")
            figures = warm(source, str(path), args.repeats)
            paths = parse_paths(source, args.repeats)
            starting = cold(path)
            total = figures["total"]
            print(f"\n{shots:,} shots ({lines:,} lines, {len(source) / 1024:,.0f} KiB)")
            for key in ("parse", "build+check", "plan+prompt", "total", "total cpu"):
                rate = shots / figures[key]
                print(f"  warm {key:<12} {_ms_text(figures[key])}  {rate:>12,.0f} shots/s")
            lark = paths["lark"]
            print(
                f"  parse cpu    reader {_ms_text(paths['reader'])}, Lark alone "
                f"{_ms_text(lark)}: {paths['reader'] / lark:.2f}x; fast path: "
                + ("yes" if paths["fast path"] else "NO (Lark read it)")
            )
            print(f"  total cpu / Lark alone on the same text: {figures['total cpu'] / lark:.2f}x")
            front = build_and_glue(source, args.repeats)
            print(
                f"  build_story cpu {_ms_text(front['build'])}; parse glue cpu (split_blocks, "
                f"tab scan) {_ms_text(front['glue'])}"
            )
            for key in ("import", "first run", "process"):
                print(f"  cold {key:<12} {_ms_text(starting[key])}")
            if shots >= 10_000:
                verdict = "under" if total < 1.0 else "OVER"
                print(f"  goal: 10,000 shots checked and compiled warm in < 1 s: {verdict}")
        if args.profile:
            shots = max(sizes)
            source = generate_story(shots)
            path = folder / f"bench-{shots}.story"
            print(f"\ncProfile of one warm analyze_source, {shots:,} shots:")
            print(profile(source, str(path)))
    return 0


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Memory benchmark: peak resident memory of compiling a story of 10,000 and 100,000 shots.

    .venv/bin/python bench/memory.py                   # 10,000 and 100,000 shots
    .venv/bin/python bench/memory.py --sizes 10000     # one size

Each size runs in a fresh process (peak resident memory only ever grows, so sizes cannot
share one): it imports `storyc.frontend`, notes its peak resident set (`VmHWM`: the
interpreter and storyc's imports), then compiles the story as `storyc compile` does (parse,
build, check, plan, prompts) and notes the peak again. Printed: the peak, the growth over the
import, that growth per shot, and the growth as a multiple of the source's size. The stories
are `bench/compile.py`'s (varied scenes, cameos, first frames, dialogue, comments).

`--breakdown` also measures, in another fresh process under `tracemalloc` (slower), what the
syntax trees (`parse_story`) and the built model (`build_story`) hold on their own: the two
live together while the model is built (the front end drops the trees right after, unless
its caller handed them in, as the language server does).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from compile import REFS, generate_story  # noqa: E402

SIZES = (10_000, 100_000)

_CHILD = """
import json, sys, time
from pathlib import Path

def peak_mb():
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent through fork and
    # exec, so a child of a process that held a 100k-shot story would start "at" its peak.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise SystemExit("no VmHWM in /proc/self/status (Linux only)")

from storyc.frontend import analyze_source
imported = peak_mb()
path = Path(sys.argv[1])
source = path.read_text(encoding="utf-8")
started = time.perf_counter()
result = analyze_source(source, str(path))
elapsed = time.perf_counter() - started
assert result.plan is not None, [d.code for d in result.diagnostics if d.is_error][:5]
print(json.dumps({
    "import_mb": imported,
    "peak_mb": peak_mb(),
    "seconds": elapsed,
    "clips": len(result.plan.clips),
}))
"""


_BREAKDOWN = """
import json, sys, tracemalloc
from pathlib import Path
from storyc.language.builder import build_story
from storyc.language.parse import parse_story

source = Path(sys.argv[1]).read_text(encoding="utf-8")
tracemalloc.start()
before = tracemalloc.get_traced_memory()[0]
parsed = parse_story(source, sys.argv[1])
parsed_at = tracemalloc.get_traced_memory()[0]
story, _ = build_story(parsed.items, parsed.source, sys.argv[1])
built_at = tracemalloc.get_traced_memory()[0]
print(json.dumps({
    "trees_mb": (parsed_at - before) / 2**20,
    "model_mb": (built_at - parsed_at) / 2**20,
}))
"""


def breakdown(shots: int, folder: Path) -> dict[str, float]:
    """The trees' and the model's own sizes (MB, traced) for the story `measure` wrote."""
    path = folder / f"bench-{shots}.story"
    done = subprocess.run(
        [sys.executable, "-c", _BREAKDOWN, str(path)], capture_output=True, text=True, cwd=ROOT
    )
    if done.returncode != 0:
        raise SystemExit(f"the {shots}-shot breakdown failed:\n{done.stderr}")
    figures: dict[str, float] = json.loads(done.stdout)
    return figures


def measure(shots: int, folder: Path) -> dict[str, float]:
    path = folder / f"bench-{shots}.story"
    path.write_text(generate_story(shots), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise SystemExit(f"the {shots}-shot compile failed:\n{done.stderr}")
    figures: dict[str, float] = json.loads(done.stdout)
    figures["source_mb"] = path.stat().st_size / 2**20
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument(
        "--breakdown", action="store_true", help="also the trees' and the model's own sizes"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="storyc-memory-") as tmp:
        folder = Path(tmp)
        shutil.copytree(REFS, folder / "refs")
        print(
            f"{'shots':>8} {'source':>9} {'import':>9} {'peak':>9} {'growth':>9} "
            f"{'per shot':>9} {'x source':>9} {'compile':>8}"
        )
        for shots in args.sizes:
            f = measure(shots, folder)
            growth = f["peak_mb"] - f["import_mb"]
            print(
                f"{shots:>8,} {f['source_mb']:>7.1f}MB {f['import_mb']:>7.0f}MB "
                f"{f['peak_mb']:>7.0f}MB {growth:>7.0f}MB "
                f"{growth * 1024 / shots:>7.1f}KB {growth / f['source_mb']:>8.0f}x "
                f"{f['seconds']:>7.2f}s"
            )
            if args.breakdown:
                parts = breakdown(shots, folder)
                print(
                    f"{'':>8} of which, traced: syntax trees {parts['trees_mb']:.0f}MB, "
                    f"model {parts['model_mb']:.0f}MB "
                    f"({parts['model_mb'] * 1024 / shots:.1f}KB a shot)"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

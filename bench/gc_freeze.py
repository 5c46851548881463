"""`gc.freeze()` after analysis: what it saves on a 10,000-shot story.

    .venv/bin/python bench/gc_freeze.py [--repeats 5] [--shots 10000]

`analyze_source` pauses the cyclic collector; on the way out it freezes what it made
(`storyc.frontend._no_cyclic_gc`). This times, in CPU seconds (process_time, steadier than
wall time on a busy machine), one analysis plus the full collection the re-enabled collector
runs sooner or later, with the freeze and with it turned off, alternating, medians.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from compile import generate_story  # noqa: E402

import storyc.frontend as frontend  # noqa: E402

REAL_FREEZE = gc.freeze


def once(source: str, *, freeze: bool) -> float:
    gc.freeze = REAL_FREEZE if freeze else (lambda: None)  # type: ignore[assignment]
    try:
        gc.unfreeze()
        gc.collect()
        started = time.process_time()
        result = frontend.analyze_source(source, "/tmp/bench.story")
        gc.collect()  # the full pass the collector makes once it is back on
        spent = time.process_time() - started
        del result
        return spent
    finally:
        gc.freeze = REAL_FREEZE  # type: ignore[assignment]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--shots", type=int, default=10_000)
    options = parser.parse_args()
    source = generate_story(options.shots)
    once(source, freeze=True)
    once(source, freeze=False)
    on, off = [], []
    for _ in range(options.repeats):
        off.append(once(source, freeze=False))
        on.append(once(source, freeze=True))
    with_freeze, without = statistics.median(on), statistics.median(off)
    print(
        f"{options.shots:,} shots, analysis + next full collection, CPU medians of "
        f"{options.repeats}: without freeze {without:.3f} s, with freeze {with_freeze:.3f} s "
        f"({with_freeze / without:.2f}x)"
    )


if __name__ == "__main__":
    main()

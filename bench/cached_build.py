"""Cached-build benchmark: `storyc build` of an unchanged 30-clip hard-cut story, in a fresh
process, against `ffmpeg -f concat -safe 0 -i list -c copy` on the same clips.

    .venv/bin/python bench/cached_build.py [--clips 30] [--repeats 7] [--keep DIR]

Writes a story of `--clips` 4 s shots (`clips: per-shot`, plain cuts, 1280x720), builds it
once with the free preview (this renders every clip: about a second a clip), then times:
- `ffmpeg concat -c copy` of the built clips (the floor);
- `storyc build` in a new process with nothing changed (the stamp checked before compiling,
  `storyc/cli/quick_stamp.py`, says up to date);
- the same after touching the story (same text, new mtime: the story is hashed again and
  found unchanged, so it still does not compile);
- the same after editing the story (a comment added: it compiles, the plan is unchanged, the
  stamp after compiling says the film is up to date);
- the same after removing the film (the clips are cached: it re-assembles by stream copy);
- `python -c pass` and `python -c "import storyc.cli.app"` for scale.
Each figure is the median wall of `--repeats` runs and the median CPU time (user + system,
the child processes included), which is steadier on a busy machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def story(clips: int) -> str:
    lines = ["title: Cached bench", "model: sora-2", "size: 1280x720", "clips: per-shot", ""]
    for scene in range(clips // 5):
        lines.append(f'scene "Scene {scene + 1}":')
        for k in range(5):
            n = scene * 5 + k + 1
            lines += [
                f"    shot wide 4s seed {n}:",
                f"        action: a cyclist crosses frame {n} from left to right.",
                "",
            ]
    return "\n".join(lines)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(action: Callable[[], object], repeats: int) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(repeats):
        cpu = children_cpu()
        started = time.perf_counter()
        action()
        walls.append(time.perf_counter() - started)
        cpus.append(children_cpu() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--keep", type=Path, default=None, help="work folder to keep/reuse")
    options = parser.parse_args()
    folder = options.keep or Path(tempfile.mkdtemp(prefix="storyc-bench-build-"))
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "bench.story"
    if not source.exists() or source.read_text(encoding="utf-8") != story(options.clips):
        source.write_text(story(options.clips), encoding="utf-8")
    out = folder / "build"
    env = {**os.environ, "STORYC_CACHE_DIR": str(folder / "cache")}
    build = [PY, "-m", "storyc.cli", "build", str(source), "--out", str(out),
             "--provider", "preview"]  # fmt: skip

    def run(command: list[str]) -> None:
        done = subprocess.run(command, env=env, cwd=folder, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)  # fmt: skip
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")

    started = time.perf_counter()
    run(build)
    print(f"first build (renders {options.clips} preview clips): "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    clips = sorted((out / "clips").glob("*.mp4"))
    assert len(clips) == options.clips, clips
    # The first build's files are too new to trust their mtimes (`quick_stamp.RACY_S`), so
    # it leaves no inputs stamp; a writer's next build comes seconds later and records one.
    from storyc.cli.quick_stamp import RACY_S

    time.sleep(RACY_S + 0.2)
    run(build)
    listing = folder / "list.txt"
    listing.write_text("".join(f"file '{p}'\n" for p in clips), encoding="utf-8")
    from storyc.probe import ffmpeg_exe

    concat = [ffmpeg_exe(), "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i",
              str(listing), "-c", "copy", str(folder / "concat.mp4")]  # fmt: skip
    repeats = options.repeats
    rows = []
    rows.append(("ffmpeg concat -c copy (floor)", *timed(lambda: run(concat), repeats)))
    rows.append(("python -c pass", *timed(lambda: run([PY, "-c", "pass"]), repeats)))
    rows.append(("import storyc.cli.app",
                 *timed(lambda: run([PY, "-c", "import storyc.cli.app"]), repeats)))  # fmt: skip
    rows.append(("storyc build, nothing changed", *timed(lambda: run(build), repeats)))

    def touched() -> None:
        os.utime(source)
        run(build)

    rows.append(("storyc build, story touched", *timed(touched, repeats)))
    text = source.read_text(encoding="utf-8")

    def edited() -> None:
        source.write_text(text + f"# edited {time.perf_counter_ns()}\n", encoding="utf-8")
        run(build)

    rows.append(("storyc build, story edited", *timed(edited, repeats)))
    source.write_text(text, encoding="utf-8")

    def reassemble() -> None:
        (out / "bench.mp4").unlink()
        run(build)

    rows.append(("storyc build, film removed", *timed(reassemble, repeats)))
    floor = rows[0][1]
    print(f"\n{options.clips} clips of 4 s, 1280x720, medians of {repeats} (wall, CPU incl. "
          "children):")  # fmt: skip
    for name, wall, cpu in rows:
        print(f"  {name:<34} {wall:6.3f} s  {wall / floor:5.2f}x   cpu {cpu:6.3f} s")
    if options.keep is None:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

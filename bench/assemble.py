"""Assembly benchmark: storyc's lossless path against ffmpeg's own concat demuxer.

    .venv/bin/python bench/assemble.py            # everything (about 2-3 minutes on 2 cores)
    .venv/bin/python bench/assemble.py --quick    # the cut films only

Makes 30 clips of 4 s at 1280x720 (24 fps, H.264 + AAC 48 kHz) with the bundled ffmpeg, then:

1. cuts, quiet joins (the clips' sound fades out and in at their edges): `assemble_film`
   (all clips stream-copied, the sound spliced: the clips' AAC packets copied but for a few
   re-encoded around each cut, `storyc.assemble.splice`) against
   `ffmpeg -f concat -safe 0 -i list -c copy` on the same clips, both walls including every
   process they start, and the ratio. Also the same assembly in a fresh Python process
   (interpreter start and imports included).
2. cuts, loud joins (a tone running up to every cut; issue 15's goal: within 2x of the copy):
   the same, wall and CPU; then, in CPU seconds, what the whole-track mix costs (the path for
   clips whose sound cannot be spliced, and the only path before the splice): decoding every
   clip, mixing, encoding the whole track, and, for scale, encoding 3 AAC frames a cut.
3. one crossfade in the middle of the 30 clips: the two clips around it re-encoded, the rest
   copied (partial copy).
4. a film of 6 clips all joined by crossfades (nothing copyable: the moviepy path), reported
   as seconds of work per second of film.

Every figure is the median of `--repeats` runs (default 3).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # assemble_support: real clips and hand-made plans

from assemble_support import ClipSpec, make_clip, make_plan  # noqa: E402

from storyc.assemble import assemble_film  # noqa: E402
from storyc.assemble.mp4 import read_mp4  # noqa: E402
from storyc.plan.schema import ClipPlan  # noqa: E402
from storyc.probe import ffmpeg_exe  # noqa: E402

CLIPS = 30
CLIP_MS = 4000
SIZE = "1280x720"


def median_wall(action: Callable[[], object], repeats: int) -> float:
    walls = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        walls.append(time.perf_counter() - started)
    return statistics.median(walls)


def make_clips(folder: Path, *, quiet: bool, count: int = CLIPS) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [
        make_clip(
            folder / f"{n:02d}.mp4",
            size=SIZE,
            ms=CLIP_MS,
            tone_hz=220 + 20 * n,
            preset="veryfast",
            quiet_edges=quiet,
        )
        for n in range(1, count + 1)
    ]


def ffmpeg_concat(clips: list[Path], listing: Path, out: Path) -> None:
    listing.write_text("".join(f"file '{path}'\n" for path in clips), encoding="utf-8")
    concat = ["-f", "concat", "-safe", "0", "-i", str(listing)]
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *concat, "-c", "copy", str(out)], check=True)


def fresh_process(plan_json: Path, clips: list[Path], out: Path) -> None:
    script = (
        "import sys; from pathlib import Path; from storyc.plan.schema import ClipPlan; "
        "from storyc.assemble import assemble_film; "
        "assemble_film(ClipPlan.read(Path(sys.argv[1])), [Path(p) for p in sys.argv[3:]], "
        "Path(sys.argv[2]))"
    )
    subprocess.run(
        [sys.executable, "-c", script, str(plan_json), str(out), *map(str, clips)], check=True
    )


def median_cpu(action: Callable[[], object], repeats: int) -> float:
    """Median CPU seconds (this process and its children): steadier than wall on a busy
    machine."""
    import resource

    def used() -> float:
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    cpus = []
    for _ in range(repeats):
        before = used()
        action()
        cpus.append(used() - before)
    return statistics.median(cpus)


def loud_breakdown(plan: ClipPlan, clips: list[Path], folder: Path, repeats: int) -> None:
    """The loud-cut assembly's CPU, against what the whole-track mix (for clips that cannot
    be spliced) spends: decoding every clip's sound, mixing it, encoding the whole track as
    AAC, and the same encoder on 3 AAC frames a cut."""
    from storyc.assemble.preflight import film_fps, inspect_source
    from storyc.assemble.soundtrack import (
        decode_clip_audio,
        film_audio_format,
        mix_soundtrack,
        pcm_chunks,
    )
    from storyc.assemble.timeline import build_timeline

    sources = [inspect_source(c, p) for c, p in zip(plan.clips, clips, strict=True)]
    fps = film_fps(plan.story.fps, sources)
    timeline = build_timeline(plan, [f.path for f in sources], fps)
    audio = film_audio_format([f.audio for f in sources])
    has_audio = [f.audio is not None for f in sources]
    decoded: list[object] = []
    decode_s = median_cpu(
        lambda: decoded.append(decode_clip_audio(timeline, has_audio, audio)), repeats
    )
    mixed: list[object] = []
    mix_s = median_cpu(
        lambda: mixed.append(mix_soundtrack(timeline, decoded[-1], audio)),  # type: ignore[arg-type]
        repeats,
    )
    track = mixed[-1]
    pcm = b"".join(pcm_chunks(track))  # type: ignore[arg-type]
    stretch = b"".join(pcm_chunks(track[: 3 * 1024 * (len(clips) - 1)]))  # type: ignore[index]

    def encode(data: bytes, *coder: str) -> None:
        subprocess.run(
            [ffmpeg_exe(), "-v", "error", "-f", "f32le", "-ar", str(audio.rate), "-ac",
             str(audio.channels), "-i", "pipe:0", "-c:a", "aac", "-b:a", "160k", *coder,
             "-f", "null", "-"], input=data, check=True,
        )  # fmt: skip

    encode_s = median_cpu(lambda: encode(pcm), repeats)
    fast_s = median_cpu(lambda: encode(pcm, "-aac_coder", "fast"), repeats)
    stretch_s = median_cpu(lambda: encode(stretch), repeats)
    copy_cpu = median_cpu(
        lambda: ffmpeg_concat(clips, folder / "list.txt", folder / "ffmpeg.mp4"), repeats
    )
    whole_cpu = median_cpu(lambda: assemble_film(plan, clips, folder / "loud.mp4"), repeats)
    print("   CPU seconds (this process and its children, medians), against the concat copy:")
    rows = [
        ("ffmpeg concat -c copy", copy_cpu),
        ("storyc assemble_film, loud", whole_cpu),
        ("whole-track mix: decode all", decode_s),
        ("  mix (numpy)", mix_s),
        ("  AAC-encode the whole track", encode_s),
        ("  same, -aac_coder fast", fast_s),
        ("AAC-encode 3 frames a cut", stretch_s),
    ]
    for name, cpu in rows:
        print(f"     {name:<30} {cpu:6.3f} s   {cpu / copy_cpu:5.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="only the cut films")
    options = parser.parse_args()
    repeats = options.repeats

    with tempfile.TemporaryDirectory(prefix="storyc-bench-assemble-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        quiet = make_clips(folder / "quiet", quiet=True)
        loud = make_clips(folder / "loud", quiet=False)
        print(f"made 2 x {CLIPS} clips of {CLIP_MS / 1000:g} s at {SIZE} in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        film_s = CLIPS * CLIP_MS / 1000
        cuts = make_plan([ClipSpec(CLIP_MS) for _ in range(CLIPS)], size=SIZE)
        plan_json = folder / "plan.json"
        plan_json.write_text(cuts.to_json(), encoding="utf-8")

        # 1. cuts with quiet joins: everything copied
        ffmpeg_s = median_wall(
            lambda: ffmpeg_concat(quiet, folder / "list.txt", folder / "ffmpeg.mp4"), repeats
        )
        ours_s = median_wall(lambda: assemble_film(cuts, quiet, folder / "ours.mp4"), repeats)
        report = assemble_film(cuts, quiet, folder / "ours.mp4")
        fresh_s = median_wall(lambda: fresh_process(plan_json, quiet, folder / "f.mp4"), repeats)
        print(f"\n1. {CLIPS} cuts, quiet joins ({film_s:g} s of film): {report.describe()}")
        print(f"   ffmpeg concat -c copy       {ffmpeg_s:6.3f} s")
        print(f"   storyc assemble_film        {ours_s:6.3f} s   ratio {ours_s / ffmpeg_s:.2f}x")
        print(f"   same, fresh python process  {fresh_s:6.3f} s   ratio {fresh_s / ffmpeg_s:.2f}x")

        # 2. cuts with loud joins: video copied, sound spliced
        ffmpeg_loud = median_wall(
            lambda: ffmpeg_concat(loud, folder / "list.txt", folder / "ffmpeg.mp4"), repeats
        )
        loud_s = median_wall(lambda: assemble_film(cuts, loud, folder / "loud.mp4"), repeats)
        report = assemble_film(cuts, loud, folder / "loud.mp4")
        print(f"\n2. {CLIPS} cuts, loud joins: {report.describe()}")
        print(f"   ffmpeg concat -c copy       {ffmpeg_loud:6.3f} s")
        print(f"   storyc assemble_film        {loud_s:6.3f} s   ratio {loud_s / ffmpeg_loud:.2f}x")
        loud_breakdown(cuts, loud, folder, repeats)
        if options.quick:
            return

        # 3. one crossfade in the middle: two clips re-encoded, 28 copied
        specs = [ClipSpec(CLIP_MS) for _ in range(CLIPS)]
        specs[CLIPS // 2 - 1] = ClipSpec(CLIP_MS, transition=("crossfade", 500))
        partial = make_plan(specs, size=SIZE)
        partial_s = median_wall(lambda: assemble_film(partial, loud, folder / "p.mp4"), 1)
        report = assemble_film(partial, loud, folder / "p.mp4")
        out_s = partial.duration / 1000
        print(f"\n3. {CLIPS} clips, one crossfade ({out_s:g} s of film): {report.describe()}")
        print(f"   {partial_s:.2f} s, {partial_s / out_s:.3f} s per second of film")

        # 4. every join a crossfade: nothing can be copied, moviepy re-encodes the film
        count = 6
        specs = [ClipSpec(CLIP_MS, transition=("crossfade", 500)) for _ in range(count)]
        crossfades = make_plan(specs, size=SIZE)
        out_s = crossfades.duration / 1000
        moviepy_s = median_wall(
            lambda: assemble_film(crossfades, loud[:count], folder / "x.mp4"), 1
        )
        report = assemble_film(crossfades, loud[:count], folder / "x.mp4")
        frames = read_mp4(folder / "x.mp4").video_frames
        print(f"\n4. {count} clips, all crossfades ({out_s:g} s, {frames} frames): "
              f"{report.describe()}")  # fmt: skip
        print(f"   {moviepy_s:.2f} s, {moviepy_s / out_s:.3f} s per second of film")


if __name__ == "__main__":
    main()

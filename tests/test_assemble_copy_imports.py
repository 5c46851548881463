"""Joining clips by stream copy imports neither numpy nor moviepy: they are loaded where
the whole sound track is mixed or frames are drawn, and a film of cuts does neither.

Each assembly runs in a fresh interpreter (a module imported by an earlier test would hide
the import), on real clips, and the film is read back.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from assemble_support import ClipSpec, make_clip, make_plan

from storyc.assemble.mp4 import read_mp4

SCRIPT = """
import json, sys
from pathlib import Path
from storyc.assemble import assemble_film
from storyc.plan.schema import ClipPlan

plan = ClipPlan.read(Path(sys.argv[1]))
report = assemble_film(plan, [Path(p) for p in sys.argv[3:]], Path(sys.argv[2]))
loaded = [name for name in ("numpy", "moviepy") if name in sys.modules]
print(json.dumps({"audio": report.audio, "path": report.path, "loaded": loaded}))
"""


def _assemble(
    tmp_path: Path, *, quiet: bool, rates: tuple[int, ...] = (48000, 48000, 48000)
) -> dict[str, object]:
    clips = [
        make_clip(
            tmp_path / f"{n}.mp4",
            ms=1000,
            tone_hz=300 + 40 * n,
            quiet_edges=quiet,
            rate=rate,
        )
        for n, rate in enumerate(rates)
    ]
    plan = make_plan([ClipSpec(1000) for _ in clips])
    plan_json = tmp_path / "plan.json"
    plan_json.write_text(plan.to_json(), encoding="utf-8")
    film = tmp_path / "film.mp4"
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(plan_json), str(film), *map(str, clips)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    facts = read_mp4(film)
    assert facts.video is not None and facts.video.sample_count == 72  # 3 s at 24 fps
    assert facts.audio is not None
    assert abs(facts.audio.duration_samples - 3 * 48000) <= 1024
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_cut_films_are_spliced_without_numpy_or_moviepy(tmp_path: Path) -> None:
    # Quiet or loud, the sound at the cuts is mixed and encoded with the standard library
    # alone (`splice`): only the whole-track mix, for clips that cannot be spliced, needs numpy.
    for quiet in (True, False):
        folder = tmp_path / ("quiet" if quiet else "loud")
        folder.mkdir()
        result = _assemble(folder, quiet=quiet)
        assert (result["path"], result["audio"]) == ("lossless", "spliced")
        assert result["loaded"] == []


def test_clips_that_cannot_be_spliced_are_mixed_with_numpy(tmp_path: Path) -> None:
    # The other side of the switch: clips whose sound differs in rate are not spliced; the
    # whole track is mixed (resampled), which needs numpy, and still not moviepy.
    result = _assemble(tmp_path, quiet=False, rates=(48000, 44100, 48000))
    assert (result["path"], result["audio"]) == ("lossless", "mixed")
    assert result["loaded"] == ["numpy"]

"""Joining clips by stream copy imports neither numpy nor moviepy: they are loaded where
sound is mixed or frames are drawn, and a cached film re-assembled by copy does neither.

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


def _assemble(tmp_path: Path, *, quiet: bool) -> dict[str, object]:
    clips = [
        make_clip(tmp_path / f"{n}.mp4", ms=1000, tone_hz=300 + 40 * n, quiet_edges=quiet)
        for n in range(3)
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


def test_quiet_cuts_are_copied_without_numpy_or_moviepy(tmp_path: Path) -> None:
    result = _assemble(tmp_path, quiet=True)
    assert (result["path"], result["audio"]) == ("lossless", "copied")
    assert result["loaded"] == []


def test_loud_cuts_mix_the_sound_with_numpy(tmp_path: Path) -> None:
    # The other side of the same switch: mixing does need numpy, and still no moviepy.
    result = _assemble(tmp_path, quiet=False)
    assert (result["path"], result["audio"]) == ("lossless", "mixed")
    assert result["loaded"] == ["numpy"]

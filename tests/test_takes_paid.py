"""`takes 2` on a paid provider (the loopback fal): every take of every clip is submitted,
with seeds `seed + k - 1`; `plan` and the consent count them all; a pick changes the film."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from cli_support import storyc_main
from fakeprovider import FakeProvider, make_mp4
from fakeprovider.testing import provider_env

FAKE_MEDIA: list[tuple[int, int, int]] = []

STORY = (
    "title: Kite\nprovider: fal\nmodel: veo-3.1-fast\nseed: 5\ntakes: 2\nclips: per-shot\n"
    'scene "Hill":\n'
    "    shot wide 4s:\n        camera: static\n        action: a kite rises.\n"
    "    shot 4s:\n        camera: pan left\n        action: the string snaps.\n"
)


def _seeded_mp4(folder: Path, seed: int, width: int, height: int, seconds: int) -> bytes:
    """A real MP4 whose picture (one colour) depends on the seed, so two takes really differ."""
    colour = ("red", "blue", "green", "yellow")[seed % 4]
    return make_mp4(folder, width, height, seconds, colour=colour).read_bytes()


@pytest.fixture
def seeded(fake: FakeProvider, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeProvider:
    folder = tmp_path / "media"
    folder.mkdir()

    def video_bytes(job: object) -> bytes:
        body = job.extra["input"]  # type: ignore[attr-defined]
        return _seeded_mp4(folder, int(body["seed"]), job.width, job.height, job.seconds)  # type: ignore[attr-defined]

    monkeypatch.setattr(fake, "video_bytes", video_bytes)
    return fake


def test_takes_on_fal_submit_every_take_and_a_pick_changes_the_film(
    seeded: FakeProvider, tmp_path: Path
) -> None:
    fake = seeded
    story = tmp_path / "kite.story"
    story.write_text(STORY, encoding="utf-8")
    env = provider_env(fake, tmp_path / "cache")

    shown = storyc_main(["plan", story.name], cwd=tmp_path, env=env)
    assert shown.returncode == 0, shown.stderr
    plan_text = " ".join(shown.stdout.split())
    assert "with every take: 4 renders" in plan_text

    # The consent (refused off a terminal) counts every take: 2 clips x 2 takes.
    refused = storyc_main(["build", story.name, "-o", "out"], cwd=tmp_path, env=env)
    assert refused.returncode == 1
    assert "rendering 4 clip(s)" in " ".join(refused.stderr.split())
    assert fake.total_submits() == 0

    built = storyc_main(["build", story.name, "-o", "out", "--yes"], cwd=tmp_path, env=env)
    assert built.returncode == 0, built.stderr
    plan = json.loads((tmp_path / "out" / "plan.json").read_text())
    per_clip = plan["clips"][0]["cost_usd"]
    assert per_clip > 0
    said = " ".join(built.stderr.split())
    every = f"${4 * per_clip:.2f}"
    assert f"Estimated cost: {every} for 4 clip(s)" in said  # the consent counted them all
    assert f"with every take: 4 renders, estimated cost {every}" in plan_text
    submits = [json.loads(s.body) for s in fake.requests("submit", "fal")]
    assert len(submits) == 4  # two jobs per clip
    by_prompt: dict[str, list[int]] = {}
    for body in submits:
        by_prompt.setdefault(body["prompt"], []).append(body["seed"])
    assert len(by_prompt) == 2
    assert all(sorted(seeds) == [5, 6] for seeds in by_prompt.values())
    film = hashlib.sha256((tmp_path / "out" / "kite.mp4").read_bytes()).hexdigest()

    picked = storyc_main(["pick", story.name, "wide", "2"], cwd=tmp_path, env=env)
    assert picked.returncode == 0, picked.stderr
    again = storyc_main(["build", story.name, "-o", "out", "--yes"], cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stderr
    assert fake.total_submits() == 4  # every take was made already: nothing paid again
    plan = json.loads((tmp_path / "out" / "plan.json").read_text())
    assert [c["take"] for c in plan["clips"]] == [2, 1]
    assert plan["clips"][0]["seed"] == 6
    assert hashlib.sha256((tmp_path / "out" / "kite.mp4").read_bytes()).hexdigest() != film

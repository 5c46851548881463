"""Fallbacks (issue 11, item 6): `provider: fal, runway` sends a clip fal refuses to runway.

The real `storyc render` / `build` in subprocesses against the loopback fakes; the fake
refuses `REJECT-JOB` prompts only on the providers in `faults.reject_on`.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from fakeprovider import FakeProvider
from fakeprovider.testing import (
    StoryShot,
    make_clip,
    make_plan,
    provider_env,
    storyc,
    write_story,
)

from storyc.check.provider import provider_chain
from storyc.errors import StorycError
from storyc.frontend import analyze_source
from storyc.providers.fallback import check_chain
from storyc.providers.journal import JOURNAL_NAME

FAKE_MEDIA = ((1280, 720, 4),)
MODEL = "veo-3.1-fast"


def _story(folder: Path, provider: str = "fal, runway", marked: int = 2) -> None:
    shots = [
        StoryShot(
            f"a lighthouse keeper climbs the stairs, take {n}"
            + (" REJECT-JOB" if n == marked else ""),
            4,
        )
        for n in (1, 2, 3)
    ]
    write_story(folder / "spot.story", provider=provider, model=MODEL, shots=shots)


def _submits(fake: FakeProvider, provider: str) -> int:
    """Create requests that reached `provider` (a refused one too: it is no job)."""
    return len(fake.requests("submit", provider))


def _jobs(fake: FakeProvider, provider: str) -> int:
    """Jobs `provider` accepted."""
    with fake.lock:
        return sum(n for (p, _), n in fake.submits.items() if p == provider)


def _journal(cache: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(f"file:{cache / JOURNAL_NAME}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT clip_id, provider, status FROM jobs WHERE job_id != ''")
        return [tuple(row) for row in rows]


def test_a_clip_fal_refuses_is_rendered_by_runway(fake: FakeProvider, tmp_path: Path) -> None:
    _story(tmp_path)
    cache = tmp_path / "cache"
    env = provider_env(fake, cache)
    fake.faults.reject_on = ["fal"]

    done = storyc(["build", "spot.story", "--yes", "-o", "out"], env, tmp_path)

    assert done.returncode == 0, done.stderr
    assert (_submits(fake, "fal"), _submits(fake, "runway")) == (3, 1)
    assert (_jobs(fake, "fal"), _jobs(fake, "runway")) == (2, 1)
    # The cost up front is the range: fal alone .. every clip on both.
    assert "With fallbacks: $" in done.stderr and "goes to runway" in done.stderr
    assert "clip 02: fal refused it" in done.stderr and "runway rendered it" in done.stderr
    assert (tmp_path / "out" / "spot.mp4").is_file()
    clips = sorted(p.name for p in (tmp_path / "out" / "clips").glob("*.mp4"))
    assert [name[:2] for name in clips] == ["01", "02", "03"]
    assert (tmp_path / "out" / "plan.runway.json").is_file()
    assert not list((tmp_path / "out").glob(".fallback-*"))
    # The journal names the provider of every job: clip 2's done job is runway's.
    done_rows = {(provider, status) for _, provider, status in _journal(cache)}
    assert ("runway", "done") in done_rows and ("fal", "done") in done_rows

    # Again: everything is cached (clip 2 on runway), nothing is asked of fal again.
    again = storyc(["build", "spot.story", "--yes", "-o", "out"], env, tmp_path)
    assert again.returncode == 0, again.stderr
    assert (_submits(fake, "fal"), _submits(fake, "runway")) == (3, 1)


def test_the_provider_option_takes_a_list(fake: FakeProvider, tmp_path: Path) -> None:
    _story(tmp_path, provider="fal")
    env = provider_env(fake, tmp_path / "cache")
    fake.faults.reject_on = ["fal"]

    done = storyc(["render", "spot.story", "--yes", "-p", "fal,runway", "-o", "out"], env, tmp_path)

    assert done.returncode == 0, done.stderr
    assert (_submits(fake, "fal"), _submits(fake, "runway")) == (3, 1)
    assert len(list((tmp_path / "out" / "clips").glob("*.mp4"))) == 3


def test_a_clip_every_provider_refuses_fails(fake: FakeProvider, tmp_path: Path) -> None:
    _story(tmp_path)
    env = provider_env(fake, tmp_path / "cache")  # both refuse REJECT-JOB

    done = storyc(["render", "spot.story", "--yes", "-o", "out"], env, tmp_path)

    assert done.returncode == 1
    assert (_submits(fake, "fal"), _submits(fake, "runway")) == (3, 1)
    assert (_jobs(fake, "fal"), _jobs(fake, "runway")) == (2, 0)
    assert "1 clip failed" in done.stderr
    assert "clip 02: fal refused it" in done.stderr
    assert "no other provider rendered it" in done.stderr
    assert len(list((tmp_path / "out" / "clips").glob("*.mp4"))) == 2
    assert "Traceback" not in done.stderr


def test_a_refused_key_stops_the_run_without_a_fallback(fake: FakeProvider, tmp_path: Path) -> None:
    _story(tmp_path)
    env = provider_env(fake, tmp_path / "cache", FAL_KEY="fal-wrong-key:nope")
    fake.faults.reject_on = ["fal"]

    done = storyc(["render", "spot.story", "--yes", "-o", "out"], env, tmp_path)

    assert done.returncode != 0
    assert "refused the API key" in done.stderr
    assert _submits(fake, "runway") == 0 and not fake.requests(provider="runway")
    assert "Traceback" not in done.stderr


def test_an_uncertain_create_is_not_sent_elsewhere(fake: FakeProvider, tmp_path: Path) -> None:
    _story(tmp_path, marked=0)
    env = provider_env(fake, tmp_path / "cache")
    fake.faults.after = {"submit": [504]}  # fal took clip 1; the gateway answered 504

    done = storyc(["render", "spot.story", "--yes", "--jobs", "1", "-o", "out"], env, tmp_path)

    assert done.returncode == 1
    assert "may have reached fal" in done.stderr and "--resubmit" in done.stderr
    assert (_submits(fake, "fal"), _submits(fake, "runway")) == (3, 0)
    assert "Traceback" not in done.stderr


def test_a_budget_stop_stops_the_run_before_the_fallback(
    fake: FakeProvider, tmp_path: Path
) -> None:
    _story(tmp_path)
    env = provider_env(fake, tmp_path / "cache")
    fake.faults.reject_on = ["fal"]

    # $1.20 on fal; clip 2 again on runway would be $0.40 more.
    command = ["render", "spot.story", "--yes", "--max-cost", "1.3", "-o", "out"]
    done = storyc(command, env, tmp_path)

    assert done.returncode == 1
    assert "clip(s) 02 that fal refused were not sent to runway" in done.stderr
    assert "--max-cost" in done.stderr
    assert (_submits(fake, "fal"), _submits(fake, "runway")) == (3, 0)
    assert len(list((tmp_path / "out" / "clips").glob("*.mp4"))) == 2
    assert "Traceback" not in done.stderr


def test_plans_that_cut_the_story_otherwise_are_refused() -> None:
    one = [make_clip("fal", MODEL, n, f"shot {n}") for n in (1, 2)]
    fewer = [make_clip("runway", MODEL, 1, "shot 1")]
    longer = [
        make_clip("runway", MODEL, 1, "shot 1"),
        make_clip("runway", MODEL, 2, "x", seconds=6),
    ]
    alike = [make_clip("runway", MODEL, n, f"shot {n}") for n in (1, 2)]

    with pytest.raises(StorycError, match="makes 2 clip\\(s\\) on fal but 1 on runway"):
        check_chain([make_plan(one), make_plan(fewer)])
    with pytest.raises(StorycError, match="`runway` cannot take the clips `fal` refuses: clip 02"):
        check_chain([make_plan(one), make_plan(longer)])
    check_chain([make_plan(one), make_plan(alike)])


@pytest.mark.parametrize(
    ("provider", "code"),
    [
        ("runway, fal", None),
        ("runway, pika", "P202"),
        ("runway, openai", "P203"),
        ("fal, fal", "P202"),
        ("fal, preview", "P202"),
        ("runway,", "P202"),
    ],
)
def test_the_checker_reads_a_provider_list(provider: str, code: str | None) -> None:
    source = (
        f"title: t\nmodel: {MODEL}\nprovider: {provider}\nsize: 1280x720\n\n"
        'scene "A":\n    shot 4s:\n        action: a cat.\n'
    )
    result = analyze_source(source, "spot.story")
    errors = [d.code for d in result.diagnostics if d.is_error]
    assert errors == ([code] if code else []), result.diagnostics
    if code is None:
        assert result.plan is not None and result.plan.story.provider == "runway"


def test_provider_chain_splits_on_commas() -> None:
    assert provider_chain("runway, fal") == ["runway", "fal"]
    assert provider_chain("fal") == ["fal"]


def test_a_fallbacks_missing_key_stops_the_run_before_anything_is_paid(
    fake: FakeProvider, tmp_path: Path
) -> None:
    _story(tmp_path)
    env = provider_env(fake, tmp_path / "cache")
    env.pop("RUNWAYML_API_SECRET")

    done = storyc(["render", "spot.story", "--yes", "-o", "out"], env, tmp_path)

    assert done.returncode != 0
    assert "RUNWAYML_API_SECRET" in done.stderr and "fallback" in done.stderr
    assert not fake.requests(provider="fal") and not fake.requests(provider="runway")
    assert "Traceback" not in done.stderr


def test_a_fallbacks_key_is_not_needed_when_nothing_is_paid(
    fake: FakeProvider, tmp_path: Path
) -> None:
    _story(tmp_path, marked=0)
    env = provider_env(fake, tmp_path / "cache")
    first = storyc(["render", "spot.story", "--yes", "-o", "out"], env, tmp_path)
    assert first.returncode == 0, first.stderr
    env.pop("RUNWAYML_API_SECRET")

    again = storyc(["render", "spot.story", "--yes", "-o", "out"], env, tmp_path)

    assert again.returncode == 0, again.stderr
    assert _submits(fake, "fal") == 3 and _submits(fake, "runway") == 0

"""A plan whose clips are all in the cache is laid out without creating its renderer: no
HTTP client, no key read. A clip that does need the provider still asks for the key, and
its absence is the usual one-sentence error."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from render_clips import make_clip, make_plan

import storyc.providers.registry as registry
from storyc.plan.schema import ClipPlan
from storyc.providers.cache import ClipCache
from storyc.providers.engine import render_to_dir
from storyc.providers.errors import MissingKey
from storyc.providers.preview import render_clip


@pytest.fixture(scope="module")
def real_mp4(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("media") / "clip.mp4"
    asyncio.run(render_clip(make_clip(), path))
    return path.read_bytes()


def _paid_plan_cached(cache_dir: Path, real_mp4: bytes, cached: int) -> ClipPlan:
    """Three paid clips, the first `cached` of them already in the cache."""
    clips = [
        make_clip(n, provider="openai", cost_usd=0.4, film_start=(n - 1) * 4000) for n in (1, 2, 3)
    ]
    cache = ClipCache(cache_dir)
    cache.ensure()
    for clip in clips[:cached]:
        temp = cache.new_temp(clip.id)
        temp.write_bytes(real_mp4)
        cache.store(clip.id, temp)
    return make_plan(clips, provider="openai")


def test_a_fully_cached_paid_plan_needs_no_renderer_and_no_key(
    tmp_path: Path, real_mp4: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    plan = _paid_plan_cached(tmp_path / "cache", real_mp4, cached=3)

    def no_renderer(*args: object, **kwargs: object) -> None:
        raise AssertionError("a renderer was created for a fully cached plan")

    monkeypatch.setattr(registry, "create_renderer", no_renderer)
    seen: list[tuple[int, str]] = []
    report = render_to_dir(
        plan,
        tmp_path / "out",
        cache_dir=tmp_path / "cache",
        progress=lambda clip, phase, _percent: seen.append((clip.index, phase)),
    )
    assert report.ok and report.cached == 3 and report.submitted == 0
    assert [r.path.name for r in report.rendered] == [f"{c.stem}.mp4" for c in plan.clips]
    assert all(r.path.read_bytes() == real_mp4 for r in report.rendered)
    assert sorted(seen) == sorted((n, phase) for n in (1, 2, 3) for phase in ("queued", "cached"))


def test_one_clip_to_render_still_needs_the_key(
    tmp_path: Path, real_mp4: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    plan = _paid_plan_cached(tmp_path / "cache", real_mp4, cached=2)
    with pytest.raises(MissingKey) as caught:
        render_to_dir(
            plan, tmp_path / "out", cache_dir=tmp_path / "cache", approve=lambda run: None
        )
    assert "OPENAI_API_KEY" in caught.value.message
    assert not (tmp_path / "out" / "clips").exists() or not any(
        (tmp_path / "out" / "clips").iterdir()
    )

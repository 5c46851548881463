"""The preview's drawings are cached under a key with its drawing version (issue 13, item 5):
a storyc that draws previews differently redraws them without `--force`; paid clips keep
the key they were paid under."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyc.frontend import compile_file
from storyc.providers import preview_cache
from storyc.providers.cache import ClipCache
from storyc.providers.engine import clip_cache, render_to_dir
from tests.board_support import write_story

ONE_SHOT = """\
title: One
model: sora-2
size: 1280x720

scene "Here":
    shot wide 4s:
        camera: static
        action: a kettle boils.
"""


def _render(story: Path, cache: Path) -> tuple[str, bool]:
    plan = compile_file(story).plan
    assert plan is not None
    report = render_to_dir(plan, story.parent / "out", cache_dir=cache)
    (done,) = report.rendered
    return done.clip.id, done.cached


def test_a_new_drawing_version_redraws_the_preview(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    story = write_story(tmp_path, ONE_SHOT)
    cache = tmp_path / "cache"
    clip_id, cached = _render(story, cache)
    assert not cached
    drawn = cache / f"{clip_id}.draw{preview_cache.DRAWING_VERSION}.mp4"
    assert drawn.is_file() and not (cache / f"{clip_id}.mp4").exists()
    assert _render(story, cache) == (clip_id, True)  # same storyc: taken from the cache

    # An upgraded storyc (the next drawing version): same story, same clip id, drawn again.
    monkeypatch.setattr(
        preview_cache.PreviewCache, "suffix", f".draw{preview_cache.DRAWING_VERSION + 1}.mp4"
    )
    assert _render(story, cache) == (clip_id, False)
    assert (cache / f"{clip_id}.draw{preview_cache.DRAWING_VERSION + 1}.mp4").is_file()
    assert _render(story, cache) == (clip_id, True)


def test_paid_clips_keep_their_key(tmp_path: Path) -> None:
    for provider in ("openai", "fal", "runway", "prodia"):
        cache = clip_cache(provider, tmp_path)
        assert type(cache) is ClipCache
        assert cache.path_for("abc123") == tmp_path / "abc123.mp4"
    assert clip_cache("preview", tmp_path).path_for("abc123") == (
        tmp_path / f"abc123.draw{preview_cache.DRAWING_VERSION}.mp4"
    )

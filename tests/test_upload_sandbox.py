"""The renderers read a file the moment before it leaves, through the story's sandbox: a
file swapped for a symlink after `storyc check` is refused and nothing is sent."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fakeprovider import FakeProvider, make_png
from fakeprovider.testing import make_clip

from storyc.providers.errors import JobRejected
from storyc.providers.fal import FalRenderer
from storyc.providers.openai import OpenAIRenderer
from storyc.providers.prodia import ProdiaRenderer
from storyc.providers.runway import RunwayRenderer
from storyc.sandbox import ReferencePolicy

FAKE_MEDIA = ((1280, 720, 4),)
RENDERERS = {
    "openai": (OpenAIRenderer, "sora-2"),
    "fal": (FalRenderer, "veo-3.1-fast"),
    "prodia": (ProdiaRenderer, "sora-2"),
    "runway": (RunwayRenderer, "veo-3.1-fast"),
}


@pytest.mark.parametrize("provider", RENDERERS)
def test_a_first_frame_swapped_for_a_symlink_out_is_not_sent(
    fake: FakeProvider, env: dict[str, str], tmp_path: Path, provider: str
) -> None:
    project = tmp_path / "film"
    secret = make_png(tmp_path / "private" / "secret.png", 1280, 720)
    frame = project / "frames" / "dawn.png"
    frame.parent.mkdir(parents=True)
    frame.symlink_to(secret)  # what `check` saw was a file; now it leads out
    cls, model = RENDERERS[provider]
    clip = make_clip(provider, model, 1, "dawn", input_reference=frame)
    policy = ReferencePolicy.for_story(project / "spot.story")
    renderer = cls(references=policy)

    async def submit() -> None:
        try:
            await renderer.submit(clip)
        finally:
            await renderer.aclose()

    with pytest.raises(JobRejected) as refused:
        asyncio.run(submit())

    assert "outside" in refused.value.provider_message
    assert "nothing was sent" in refused.value.provider_message
    assert fake.total_submits() == 0
    assert not fake.requests("upload")


@pytest.mark.parametrize("provider", RENDERERS)
def test_a_first_frame_inside_the_project_is_sent(
    fake: FakeProvider, env: dict[str, str], tmp_path: Path, provider: str
) -> None:
    project = tmp_path / "film"
    frame = make_png(project / "frames" / "dawn.png", 1280, 720)
    cls, model = RENDERERS[provider]
    clip = make_clip(provider, model, 1, "dawn inside", input_reference=frame)
    renderer = cls(references=ReferencePolicy.for_story(project / "spot.story"))

    async def submit() -> None:
        try:
            await renderer.submit(clip)
        finally:
            await renderer.aclose()

    asyncio.run(submit())

    assert fake.submit_count("dawn inside") == 1

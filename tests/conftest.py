from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from fakeprovider import FakeProvider

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture
def examples_dir() -> Path:
    return EXAMPLES


def example_paths() -> list[Path]:
    return sorted(EXAMPLES.glob("*.story"))


@pytest.fixture(scope="module")
def fake_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FakeProvider]:
    """The fake provider on 127.0.0.1, one per test module, serving the real MP4s the
    module lists in `FAKE_MEDIA` as (width, height, seconds)."""
    from fakeprovider import FakeProvider, make_mp4

    media = tmp_path_factory.getbasetemp() / "fake-media"
    for width, height, seconds in request.module.FAKE_MEDIA:
        make_mp4(media, width, height, seconds)
    with FakeProvider(media_dir=media) as server:
        yield server


@pytest.fixture
def fake(fake_server: FakeProvider) -> FakeProvider:
    """The module's fake provider with its counters and faults reset for this test."""
    fake_server.reset()
    return fake_server


@pytest.fixture
def env(fake: FakeProvider, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment that points every renderer at the fake provider, applied here too."""
    from fakeprovider.testing import apply_env, provider_env

    values = provider_env(fake, tmp_path / "cache")
    apply_env(monkeypatch, values)
    return values

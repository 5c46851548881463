from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
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


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder of test media for the whole run: each MP4 in it is encoded once (by
    `fakeprovider.make_mp4`, which caches by size and length). Shared by every test, so
    read-only: a test that changes a file works on its own copy or link (see `mp4`)."""
    return tmp_path_factory.mktemp("fake-media", numbered=False)


@pytest.fixture(scope="session")
def mp4(media_dir: Path) -> Callable[..., Path]:
    """`mp4(width, height, seconds)`: a real H.264 + AAC file, made once per run.

    `mp4(..., to=path)` hard-links (or copies) it to `path` for a test that wants the file
    in its own folder; never write to the shared file itself."""
    from fakeprovider import make_mp4

    def made(
        width: int = 1280, height: int = 720, seconds: int = 4, *, to: Path | None = None
    ) -> Path:
        shared = make_mp4(media_dir, width, height, seconds)
        return shared if to is None else private_copy(shared, to)

    return made


def private_copy(shared: Path, to: Path) -> Path:
    """`shared` at `to`: a hard link when the file system allows one, else a copy."""
    to.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(shared, to)
    except OSError:
        shutil.copyfile(shared, to)
    return to


@pytest.fixture(scope="module")
def fake_server(request: pytest.FixtureRequest, media_dir: Path) -> Iterator[FakeProvider]:
    """The fake provider on 127.0.0.1, one per test module, serving the real MP4s the
    module lists in `FAKE_MEDIA` as (width, height, seconds), from the run's `media_dir`
    (made once per run, whichever module asks first)."""
    from fakeprovider import FakeProvider, make_mp4

    for width, height, seconds in request.module.FAKE_MEDIA:
        make_mp4(media_dir, width, height, seconds)
    with FakeProvider(media_dir=media_dir) as server:
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

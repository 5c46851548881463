"""The one interface every renderer implements: submit a clip, follow it, fetch the file.

The scheduler (cache, journal, concurrency, progress) drives any `Renderer`; adding a
provider means adding one module beside this one and naming it in `registry.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

from storyc.clipplan import Clip

JobState = Literal["queued", "in_progress", "completed", "failed"]


@dataclass(frozen=True)
class JobStatus:
    state: JobState
    progress: float | None = None
    """0..100 when the provider reports it."""
    error: str | None = None
    """The provider's own message when the job failed."""
    retry_after_s: float | None = None
    """How long the provider asks us to wait before asking again."""


@dataclass(frozen=True)
class Submitted:
    job_id: str
    """The provider's id for the job; recorded in the journal before anything waits."""
    state: dict[str, str] | None = None
    """Anything else needed to follow the job after a restart (status/response URLs)."""


@runtime_checkable
class Renderer(Protocol):
    """A video provider, seen from the scheduler.

    Implementations raise `storyc.errors.StorycError` subclasses from `storyc.render.errors`
    for failures a writer must see (a refused key, a rejected job), with the provider's own
    message and no secret in it.
    """

    name: str
    paid: bool

    async def submit(self, clip: Clip) -> Submitted: ...

    async def status(self, clip: Clip, job: Submitted) -> JobStatus: ...

    async def download(self, clip: Clip, job: Submitted, destination: Path) -> None:
        """Write the finished video to `destination` (a temporary path the caller moves)."""
        ...

    async def aclose(self) -> None: ...

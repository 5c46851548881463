"""The one interface every renderer implements: submit a clip, follow it, fetch the file.

The scheduler (cache, journal, concurrency, progress) drives any `Renderer`; adding a
provider means adding one module beside this one and naming it in `registry.py`. A paid
provider's module also owns `build_request(clip, offering)` (see `requests.py`): the planner
shows its result in `plan.json`, and the renderer's `submit` sends exactly that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

from storyc.plan.schema import Clip

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
    billed_usd: float | None = None
    """What the provider says the finished job cost, where it reports it (Runway's task
    `cost.credits`); None where it does not."""


@dataclass(frozen=True)
class Submitted:
    job_id: str
    """The provider's id for the job; recorded in the journal before anything waits."""
    state: dict[str, str] | None = None
    """Anything else needed to follow the job after a restart (status/response URLs)."""


SendingHook = Callable[[], None]
"""Called by a renderer the moment before the request that creates a paid job leaves."""


def nothing_to_record() -> None:
    """The `SendingHook` for callers that keep no journal (tests, one-off calls)."""


@runtime_checkable
class Renderer(Protocol):
    """A video provider, seen from the scheduler.

    Implementations raise `storyc.errors.StorycError` subclasses from `storyc.providers.errors`
    for failures a writer must see (a refused key, a rejected job), with the provider's own
    message and no secret in it.
    """

    name: str
    paid: bool
    reconciles: bool
    """Whether `find` can look a job up at the provider (else it always answers None)."""

    async def submit(self, clip: Clip, sending: SendingHook = nothing_to_record) -> Submitted:
        """Create the clip's job. Uploads and checks come first; `sending()` is called once,
        right before the create request leaves, so the journal knows from when on the job
        may exist. Raises `CreateUncertain` when that request's answer never came."""
        ...

    async def find(self, clip: Clip, sent_at: float, known: set[str]) -> Submitted | None:
        """The job an earlier create for `clip` made, sent at `sent_at` (epoch seconds), if
        the provider can be asked and has one that is not in `known`; else None."""
        ...

    async def status(self, clip: Clip, job: Submitted) -> JobStatus: ...

    async def download(self, clip: Clip, job: Submitted, destination: Path) -> None:
        """Write the finished video to `destination` (a temporary path the caller moves)."""
        ...

    async def aclose(self) -> None: ...

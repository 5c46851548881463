"""Hand-made clips and plans, and a file-backed test renderer, for the render tests.

`StubProvider` is a `Renderer` whose "provider" lives in a folder: every submit is appended
to `submits.log` (so a count survives a killed process), jobs finish when the test says so
(a `release` file) or after a delay, and downloads are real MP4 files made by the preview.
It lets the scheduler be tested across processes without any HTTP.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from storyc.plan.schema import Clip, ClipPlan, PlanHeader, PlannedDialogue, PlannedShot
from storyc.providers.base import JobStatus, SendingHook, Submitted, nothing_to_record
from storyc.providers.errors import JobRejected, KeyRefused, ProviderUnavailable
from storyc.providers.preview import render_clip


def make_clip(
    index: int = 1,
    *,
    render_ms: int = 4000,
    size: str = "1280x720",
    shots: tuple[tuple[int, int], ...] = ((0, 4000),),
    provider: str = "preview",
    film_start: int = 0,
    dialogue: bool = False,
    cost_usd: float = 0.0,
    scene_index: int = 1,
) -> Clip:
    """A clip with one shot per (start, end) pair, its id derived from its content."""
    planned = []
    for n, (start, end) in enumerate(shots, 1):
        cues = (
            (
                PlannedDialogue(
                    speaker="mara", delivery="quietly", text="First one's for me.", line=9
                ),
            )
            if dialogue and n == len(shots)
            else ()
        )
        planned.append(
            PlannedShot(
                index=n,
                label="wide" if n == 1 else "close-up",
                file="stories/cafe.story",
                line=10 * index + n,
                start=start,
                end=end,
                film_start=film_start + start,
                film_end=film_start + end,
                camera="slow dolly in from the street window",
                light="warm tungsten practicals",
                action="Mara unlocks the door and flips the sign to OPEN.",
                dialogue=cues,
            )
        )
    duration = shots[-1][1]
    key = json.dumps([index, render_ms, size, shots, provider, dialogue, scene_index])
    return Clip(
        id=uuid.uuid5(uuid.NAMESPACE_URL, key).hex[:16],
        index=index,
        scene="Opening",
        scene_index=scene_index,
        provider=provider,
        model="sora-2",
        api_model="sora-2",
        size=size,
        render_ms=render_ms,
        duration=duration,
        slack=render_ms - duration,
        film_start=film_start,
        seed=None,
        prompt=f"clip {index}",
        audio=True,
        cost_usd=cost_usd,
        shots=tuple(planned),
        request={"prompt": f"clip {index}"},
    )


def make_plan(clips: list[Clip], provider: str = "preview") -> ClipPlan:
    header = PlanHeader(
        title="Test",
        source="stories/cafe.story",
        model="sora-2",
        provider=provider,
        size=clips[0].size,
        fps=None,
        style=None,
        seed=None,
        clips="packed",
    )
    total = sum(c.duration for c in clips)
    return ClipPlan(
        story=header,
        clips=tuple(clips),
        duration=total,
        render_seconds=sum(c.render_ms for c in clips) // 1000,
        cost_usd=sum(c.cost_usd for c in clips),
    )


_RENDERED: dict[str, Path] = {}
"""The preview render of every clip downloaded so far in this process, by clip id (an id
comes from the clip's content): each clip is encoded once per test run, then copied."""


async def rendered_copy(clip: Clip, destination: Path) -> None:
    """`clip` rendered by the preview at `destination`: a private copy of the run's one
    render of it (the copy may be cut or changed; the shared render never is)."""
    made = _RENDERED.get(clip.id)
    if made is None or not made.is_file():
        made = _renders_folder() / f"{clip.id}.mp4"
        partial = made.with_name(f"{clip.id}.{uuid.uuid4().hex}.part.mp4")
        await render_clip(clip, partial)
        os.replace(partial, made)  # two downloads of one clip at once: either render wins
        _RENDERED[clip.id] = made
    shutil.copyfile(made, destination)


def _renders_folder() -> Path:
    global _FOLDER
    if _FOLDER is None:
        _FOLDER = Path(tempfile.mkdtemp(prefix="storyc-stub-renders-"))
        atexit.register(shutil.rmtree, _FOLDER, ignore_errors=True)
    return _FOLDER


_FOLDER: Path | None = None


def paid_plan(count: int, cost_each: float = 0.4) -> ClipPlan:
    clips = [
        # Small frames: these tests are about the scheduler, not the pixels.
        make_clip(i, provider="stub", size="640x360", cost_usd=cost_each, film_start=(i - 1) * 4000)
        for i in range(1, count + 1)
    ]
    return make_plan(clips, provider="stub")


class StubProvider:
    """A paid-looking `Renderer` whose jobs live in `folder` (see the module docstring).

    Switches (files in `folder`, so a subprocess and the test share them):
    `release`: jobs complete (else they stay in progress, unless `auto_complete_s`);
    `fail-<clip index>`: that clip's job fails with the file's text as the provider message.
    Constructor switches: `refuse_key`, `cut_downloads` (the first N downloads come out short),
    `unavailable_status` (every status check fails as if the provider were down).
    """

    name = "stub"
    paid = True
    reconciles = False

    def __init__(
        self,
        folder: Path,
        *,
        auto_complete_s: float | None = 0.0,
        refuse_key: bool = False,
        cut_downloads: int = 0,
        poll_s: float = 0.02,
        unavailable_status: bool = False,
    ):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.auto_complete_s = auto_complete_s
        self.refuse_key = refuse_key
        self.cut_downloads = cut_downloads
        self.poll_s = poll_s
        self.unavailable_status = unavailable_status
        self.status_calls = 0
        self.downloads = 0
        self.working: set[str] = set()
        """Jobs submitted and not yet reported completed (what `--jobs` bounds)."""
        self.peak_in_flight = 0
        """Most jobs the provider worked on at one time (the concurrency seen)."""
        self.downloading = 0
        self.peak_downloading = 0

    @property
    def submits_log(self) -> Path:
        return self.folder / "submits.log"

    def submits(self) -> list[str]:
        if not self.submits_log.exists():
            return []
        return self.submits_log.read_text().split()

    async def submit(self, clip: Clip, sending: SendingHook = nothing_to_record) -> Submitted:
        if self.refuse_key:
            raise KeyRefused(self.name, "invalid key")
        sending()
        job_id = f"job_{uuid.uuid4().hex[:12]}"
        self.working.add(job_id)
        self.peak_in_flight = max(self.peak_in_flight, len(self.working))
        with self.submits_log.open("a") as log:
            log.write(f"{clip.id}\n")
        (self.folder / f"{job_id}.json").write_text(json.dumps({"created": time.time()}))
        return Submitted(job_id=job_id, state={"status_url": f"stub://{job_id}"})

    async def find(self, clip: Clip, sent_at: float, known: set[str]) -> Submitted | None:
        return None

    async def status(self, clip: Clip, job: Submitted) -> JobStatus:
        self.status_calls += 1
        if self.unavailable_status:
            raise ProviderUnavailable(self.name, "503 Service Unavailable after 3 tries")
        failure = self.folder / f"fail-{clip.index}"
        if failure.exists():
            return JobStatus(state="failed", error=failure.read_text())
        created = json.loads((self.folder / f"{job.job_id}.json").read_text())["created"]
        age = time.time() - created
        done = (self.folder / "release").exists() or (
            self.auto_complete_s is not None and age >= self.auto_complete_s
        )
        if done:
            self.working.discard(job.job_id)
            return JobStatus(state="completed", progress=100.0)
        return JobStatus(
            state="in_progress", progress=min(99.0, age * 10), retry_after_s=self.poll_s
        )

    async def download(self, clip: Clip, job: Submitted, destination: Path) -> None:
        if not (self.folder / f"{job.job_id}.json").exists():
            raise JobRejected(self.name, f"no such job {job.job_id}", clip.stem)
        self.downloads += 1
        self.downloading += 1
        self.peak_downloading = max(self.peak_downloading, self.downloading)
        try:
            await rendered_copy(clip, destination)
        finally:
            self.downloading -= 1
        if self.cut_downloads > 0:
            self.cut_downloads -= 1
            data = destination.read_bytes()
            # Silently short, as when a connection drops without an error: only the
            # scheduler's probe can tell.
            destination.write_bytes(data[: len(data) // 3])

    async def aclose(self) -> None:
        return None

"""Keyframe stills: the image renderers and `keyframes_to_dir`, on the clips' own engine.

A keyframe is planned as a `Clip` (`storyc.plan.keyframes`), so `render_plan` drives it: the
cache first, then a journal claim, `sending` the moment before the paid create leaves, the job
id attached before anything waits, an unanswered create left `uncertain` (never sent again on
a guess), and the approval hook before anything is paid. Only the cache differs: stills are
PNG files, checked with Pillow, in `<cache>/keyframes/`; the journal is the clips' one.

Renderers (each implements `storyc.providers.base.Renderer` for keyframe clips):
- `fal`: the queue, as `FalRenderer` speaks it, app `fal-ai/flux-1/dev`; the result is
  `{"images": [{"url", "width", "height", "content_type"}]}`;
- `runway`: `POST /v1/text_to_image` (runwayml 5.24.0 `Gen4Image`: `model`, `promptText`,
  `ratio`, `seed`, `referenceImages: [{uri, tag}]`), then `GET /v1/tasks/{id}` as for videos;
  `output[0]` is the still's URL. The pictures of the cameos the shot names (up to three,
  named `@tag` in the prompt; `storyc.plan.keyframes.shot_references`) are uploaded first as
  for clips: through the story's sandbox, listed before consent, refused before paying;
- `openai`: `POST {OPENAI_BASE_URL}/images/generations` (`model`, `prompt`, `n`, `size`,
  `quality`, `output_format`): synchronous, the answer carries `data[0].b64_json` (or `url`),
  kept until `download` writes it; a lost answer is uncertain (OpenAI cannot list images);
- `preview`: a composed card drawn with Pillow, free and offline.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import os
import shutil
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from storyc.errors import StorycError
from storyc.plan.capabilities import parse_size
from storyc.plan.keyframes import KeyframePlan, keyframe_name, reference_uploads
from storyc.plan.schema import Clip
from storyc.probe import MediaInfo, ProbeError
from storyc.providers.base import JobStatus, Renderer, SendingHook, Submitted, nothing_to_record
from storyc.providers.cache import ClipCache, cache_dir_for
from storyc.providers.errors import CreateUncertain, JobRejected
from storyc.providers.fal import FalRenderer
from storyc.providers.openai import OpenAIRenderer
from storyc.providers.requests import ProviderRequest
from storyc.providers.runway import RunwayRenderer
from storyc.sandbox import ReferencePolicy, policy_for

KEYFRAMES_DIR = "keyframes"
STILL_DRAWING_VERSION = 1
"""How the preview draws its placeholder stills (`draw_card`), as a number: part of the key
they are cached under (`PreviewStillCache`), as `storyc.providers.preview_cache.DRAWING_VERSION` is
for preview clips. A keyframe's id says what the shot asks for, not how the card is drawn,
so without it an upgraded storyc would keep the old cards until `--force`. Bump it whenever
`draw_card` changes what a card looks like; paid stills are cached by their id alone."""


def image_problem(path: Path) -> str | None:
    """None when `path` is a whole image Pillow can decode, else what is wrong."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.load()
    except Exception as exc:  # Pillow raises many kinds for a cut or foreign file
        return f"not a whole image ({type(exc).__name__})"
    return None


class KeyframeCache(ClipCache):
    """Finished stills keyed by keyframe id: `<cache>/keyframes/<id>.png`, whole or absent."""

    suffix = ".png"

    def check(self, path: Path) -> MediaInfo:
        problem = image_problem(path)
        if problem is not None:
            raise ProbeError(f"the keyframe is {problem}")
        return None  # type: ignore[return-value]  # a still has no media facts


class PreviewStillCache(KeyframeCache):
    """The preview's placeholder stills: `<id>.draw<N>.png`, so a new `STILL_DRAWING_VERSION`
    misses the cards of the old one (left behind, like any still no plan names any more)."""

    suffix = f".draw{STILL_DRAWING_VERSION}.png"


def still_cache(provider: str, root: Path) -> KeyframeCache:
    """The cache of `provider`'s stills under `root`: drawn ones keyed with their version."""
    return PreviewStillCache(root) if provider == "preview" else KeyframeCache(root)


# --- renderers ----------------------------------------------------------------------------


class FalImageRenderer(FalRenderer):
    """fal's queue for an image app: submitted and followed as for videos, the result an
    image (`images[0].url`)."""

    output_kind = "image"
    fetch_options: ClassVar[dict[str, Any]] = {"accept": "image/*", "problem_of": image_problem}

    async def submit(self, clip: Clip, sending: SendingHook = nothing_to_record) -> Submitted:
        app = clip.request["app"]
        return await self._enqueue(app, f"/{app}", clip.request["input"], clip, sending)

    @staticmethod
    def output_url(result: dict[str, Any]) -> str | None:
        images = result.get("images")
        first = images[0] if isinstance(images, list) and images else None
        url = first.get("url") if isinstance(first, dict) else None
        return url if isinstance(url, str) and url else None


class RunwayImageRenderer(RunwayRenderer):
    """Runway's `text_to_image`, followed through `/v1/tasks/{id}` like a video task."""

    output_kind = "image"
    fetch_options: ClassVar[dict[str, Any]] = {"accept": "image/*", "problem_of": image_problem}

    async def submit(self, clip: Clip, sending: SendingHook = nothing_to_record) -> Submitted:
        # The cameos' pictures go up first (through the story's sandbox, once per run), and
        # their `runway://` URIs replace the placeholders the plan shows.
        uris = {
            placeholder: await self._upload(path, clip)
            for placeholder, path in reference_uploads(clip)
        }
        request = ProviderRequest(path=clip.request["path"], body=clip.request["body"])
        return await self._create(request.path, request.filled(uris), clip, sending)


class OpenAIImageRenderer(OpenAIRenderer):
    """The OpenAI-shaped images endpoint: one synchronous create that answers with the still."""

    reconciles = False
    """The images endpoint keeps no job to look up: a lost answer stays uncertain."""

    def __init__(self, **kwargs: Any):
        # The key, base URL and auth header style (`STORYC_OPENAI_AUTH`) as for videos.
        super().__init__(**kwargs)
        self.poll_interval_s = 0.05  # the still is in the create's answer: nothing to wait for
        self._results: dict[str, dict[str, Any]] = {}

    async def submit(self, clip: Clip, sending: SendingHook = nothing_to_record) -> Submitted:
        sending()
        answer = await self._http.json(
            "POST",
            f"{self.base_url}{clip.request['path']}",
            json=clip.request["body"],
            idempotent=False,
            clip=clip.stem,
        )
        data = answer.get("data")
        first = data[0] if isinstance(data, list) and data else None
        if not isinstance(first, dict) or not (first.get("b64_json") or first.get("url")):
            raise CreateUncertain(self.name, "the answer carried no image")
        created = answer.get("created")
        job_id = f"img-{created}-{hashlib.sha256(repr(first).encode()).hexdigest()[:12]}"
        self._results[job_id] = first
        return Submitted(job_id=job_id, state={"created": str(created)})

    async def find(self, clip: Clip, sent_at: float, known: set[str]) -> Submitted | None:
        return None

    async def status(self, clip: Clip, job: Submitted) -> JobStatus:
        if job.job_id in self._results:
            return JobStatus(state="completed", progress=100.0)
        # A run that was killed after paying: the still came in that run's answer only.
        return JobStatus(
            state="failed",
            error="the image came in an answer an earlier, interrupted run did not keep; "
            "run again with --force to make it anew",
        )

    async def download(self, clip: Clip, job: Submitted, destination: Path) -> None:
        first = self._results[job.job_id]
        if first.get("b64_json"):
            try:
                destination.write_bytes(base64.b64decode(first["b64_json"], validate=True))
            except (binascii.Error, ValueError) as exc:
                raise JobRejected(self.name, "the image was not valid base64", clip.stem) from exc
        else:
            await self._http.download(
                str(first["url"]), destination, clip=clip.stem, problem_of=image_problem
            )


class PreviewImageRenderer:
    """A free placeholder still: the shot's number, label, camera and action on a card."""

    name = "preview"
    paid = False
    reconciles = False
    poll_interval_s = 0.01

    def __init__(self, **_: Any):
        pass

    async def aclose(self) -> None:
        pass

    async def submit(self, clip: Clip, sending: SendingHook = nothing_to_record) -> Submitted:
        sending()
        return Submitted(job_id=f"card-{clip.id}")

    async def find(self, clip: Clip, sent_at: float, known: set[str]) -> Submitted | None:
        return None

    async def status(self, clip: Clip, job: Submitted) -> JobStatus:
        return JobStatus(state="completed", progress=100.0)

    async def download(self, clip: Clip, job: Submitted, destination: Path) -> None:
        await asyncio.to_thread(draw_card, clip, destination)


def draw_card(clip: Clip, destination: Path) -> None:
    """A composed card: a graded backdrop (seeded by the shot), a frame line, the shot's
    number and label, and its camera and action, at the keyframe's size."""
    from PIL import Image, ImageDraw, ImageFont

    width, height = parse_size(clip.size) or (1280, 720)
    seed = int(hashlib.sha256(clip.id.encode()).hexdigest()[:6], 16)
    top = (30 + seed % 40, 40 + (seed >> 8) % 50, 70 + (seed >> 16) % 60)
    image = Image.new("RGB", (width, height), top)
    draw = ImageDraw.Draw(image)
    for y in range(height):  # a vertical grade, darker at the bottom
        shade = 1.0 - 0.55 * y / max(1, height - 1)
        draw.line([(0, y), (width, y)], fill=tuple(int(c * shade) for c in top))
    draw.line([(0, int(height * 0.62)), (width, int(height * 0.62))], fill=(90, 90, 90), width=2)
    margin = max(8, width // 24)
    draw.rectangle([margin, margin, width - margin, height - margin], outline=(200, 200, 200))
    font = ImageFont.load_default(size=max(12, height // 14))
    small = ImageFont.load_default(size=max(10, height // 28))
    shot = clip.shots[0]
    draw.text(
        (margin * 2, margin * 2), f"{shot.index:02d} {shot.label or ''}", fill="white", font=font
    )
    lines = [
        f"camera: {shot.camera}" if shot.camera else "",
        f"action: {shot.action}" if shot.action else "",
    ]
    y = int(height * 0.68)
    for line in filter(None, lines):
        for part in textwrap.wrap(line, width=max(20, width // max(6, height // 50)))[:2]:
            draw.text((margin * 2, y), part, fill=(230, 230, 230), font=small)
            y += int(small.size * 1.4)
    image.save(destination, format="PNG")


IMAGE_RENDERERS: dict[str, type] = {
    "preview": PreviewImageRenderer,
    "fal": FalImageRenderer,
    "runway": RunwayImageRenderer,
    "openai": OpenAIImageRenderer,
}


def create_image_renderer(name: str, **kwargs: Any) -> Renderer:
    cls = IMAGE_RENDERERS.get(name)
    if cls is None:
        raise StorycError(
            f"`{name}` makes no keyframes",
            hint=f"storyc makes keyframes with: {', '.join(IMAGE_RENDERERS)}",
        )
    renderer: Renderer = cls(**kwargs)
    return renderer


# --- the run ------------------------------------------------------------------------------


@dataclass
class KeyframeReport:
    report: Any
    """The engine's `RenderReport` (keyframes as clips)."""
    files: list[Path]
    """`DIR/keyframes/NN-<shot>.png`, in shot order (the shots' own `keyframe:` files too)."""


def keyframes_to_dir(
    plan: KeyframePlan,
    out_dir: Path,
    *,
    story_path: Path,
    jobs: int = 4,
    force: bool = False,
    max_cost: float | None = None,
    approve: Callable[[Any], None] | None = None,
    progress: Callable[..., None] | None = None,
    cache_dir: Path | None = None,
    renderer: Renderer | None = None,
    resubmit: Sequence[str] = (),
    resubmit_uncertain: bool = False,
    references: ReferencePolicy | None = None,
) -> KeyframeReport:
    """Make every planned keyframe (cache, journal, consent, cost guard as for clips) and lay
    them out as `out_dir/keyframes/NN-<shot>.png`.

    `references` is where the cameo pictures the stills send may live (the compilation's
    policy; default: the story's project folder and the user's allowed paths), as for clips."""
    from storyc.providers.engine import (
        make_run_plan,
        refuse_unsafe_uploads,
        render_plan,
        resubmit_matcher,
    )
    from storyc.providers.journal import Journal

    if references is None:
        references = policy_for(story_path)

    root = Path(cache_dir) if cache_dir is not None else cache_dir_for(story_path)
    provider = plan.story.provider
    stills = still_cache(provider, root / KEYFRAMES_DIR)
    stills.ensure()
    wants_again = resubmit_matcher(resubmit, all_uncertain=resubmit_uncertain)
    with Journal.in_folder(root) as journal:
        run = make_run_plan(plan, provider, stills, journal, force, wants_again)  # type: ignore[arg-type]
        if max_cost is not None and run.cost > max_cost + 1e-9:
            raise StorycError(
                f"these keyframes would cost about ${run.cost:.2f}, over --max-cost "
                f"${max_cost:.2f}; nothing was submitted",
                hint="raise --max-cost, or make them with `--provider preview`",
            )
        refuse_unsafe_uploads(run.uploads, references, provider)
        active = renderer or create_image_renderer(provider, references=references)
        try:
            if active.paid and (run.to_pay or run.uncertain):
                if approve is None:
                    raise StorycError(
                        f"making {len(run.to_pay)} keyframe(s) on {provider} costs about "
                        f"${run.cost:.2f} and nobody approved it; nothing was submitted"
                    )
                approve(run)
        except BaseException:
            asyncio.run(active.aclose())
            raise

        async def go() -> Any:
            try:
                return await render_plan(
                    plan,  # type: ignore[arg-type]  # keyframe clips, same engine
                    active,
                    cache=stills,
                    journal=journal,
                    jobs=jobs,
                    force=force,
                    progress=progress,
                    resubmit=wants_again,
                )
            finally:
                await active.aclose()

        report = asyncio.run(go())
    target = Path(out_dir) / KEYFRAMES_DIR
    target.mkdir(parents=True, exist_ok=True)
    files = []
    for rendered in report.rendered:
        name = target / f"{keyframe_name(rendered.clip)}.png"
        _place(rendered.path, name)
        files.append(name)
    for index, source in sorted(plan.own.items()):
        name = target / f"{index:02d}-own{Path(source).suffix.lower() or '.png'}"
        with contextlib.suppress(OSError):
            _place(Path(source), name)
            files.append(name)
    return KeyframeReport(report=report, files=sorted(files))


def _place(source: Path, target: Path) -> None:
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        temp.unlink()
    shutil.copyfile(source, temp)
    os.replace(temp, target)

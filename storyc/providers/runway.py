"""The Runway API renderer: one key for many vendors' current models (Runway Gen-4.5, Veo 3.1,
Kling 3, Seedance 2), spoken over httpx as Runway's own Python SDK speaks it (runwayml 5.24.0:
`_client.py`, `resources/{text_to_video,image_to_video,tasks,uploads}.py`, `types/*params*`).

- every request to the API carries `Authorization: Bearer $RUNWAYML_API_SECRET` and
  `X-Runway-Version: 2024-11-06`; the base URL is `RUNWAYML_BASE_URL`, else
  https://api.dev.runwayml.com (as the SDK reads it);
- create: `POST /v1/text_to_video`, or `POST /v1/image_to_video` when the clip starts from an
  image (`promptImage`); the body's fields are the SDK's wire names (`promptText`, `ratio`
  like `1280:720`, `duration`, `model`, `seed`, `audio`, `references`); the answer is `{id}`;
- `GET /v1/tasks/{id}`: `PENDING`, `THROTTLED`, `RUNNING` (`progress`), `SUCCEEDED`
  (`output`: URLs that expire in 24-48 h), `FAILED` (`failure`, `failureCode`), `CANCELLED`;
- the output URLs are on Runway's CDN: downloaded without the key or the version header;
- first frames and cameo images go up as ephemeral uploads first: `POST /v1/uploads`
  `{filename, type: "ephemeral"}` answers `{uploadUrl, fields, runwayUri}`, then the file is
  posted as a form (`fields` + `file`) to `uploadUrl` (another host: no key), and the request
  names it by its `runway://` URI.

The API has no way to list tasks (the SDK's tasks resource only retrieves and deletes), so a
create whose answer was lost cannot be looked up: `find` answers None.

Settings: `RUNWAYML_API_SECRET` (required), `RUNWAYML_BASE_URL` (default
https://api.dev.runwayml.com).
"""

from __future__ import annotations

import asyncio
import hashlib
import mimetypes
from pathlib import Path
from typing import Any, ClassVar

import httpx

from storyc.plan.capabilities import Offering, load_table
from storyc.plan.schema import Clip
from storyc.providers.base import JobStatus, SendingHook, Submitted, nothing_to_record
from storyc.providers.errors import (
    CreateUncertain,
    JobRejected,
    ProviderUnavailable,
    read_key,
)
from storyc.providers.http import ProviderHTTP, RetryPolicy, endpoint, poll_interval
from storyc.providers.requests import FileNames, ProviderRequest
from storyc.providers.uploads import read_reference
from storyc.sandbox import ReferencePolicy

KEY_ENV = "RUNWAYML_API_SECRET"
URL_ENV = "RUNWAYML_BASE_URL"
DEFAULT_URL = "https://api.dev.runwayml.com"
API_VERSION = "2024-11-06"
"""The `X-Runway-Version` the SDK sends (runwayml 5.24.0 `_client.py`)."""

TEXT_TO_VIDEO = "/v1/text_to_video"
IMAGE_TO_VIDEO = "/v1/image_to_video"
MULTI_SHOT_RECIPE = "/v1/recipes/multi_shot_video"
RECIPES = {"multi_shot_video": MULTI_SHOT_RECIPE}
"""The recipes a model row may name as its `api_model`: workflows with their own endpoint
and body, no `model` field (runwayml 5.24.0 `resources/recipes.py`)."""
RECIPE_VERSION = "2026-06"
"""The recipe `version` storyc was written against: a dated version pins the workflow's
behaviour (the SDK's `version` docs); "unsafe-latest" could change without notice."""

USD_PER_CREDIT = 0.01
"""Runway's API credits are bought at $0.01 each (docs.dev.runwayml.com/guides/quickstart)."""

_WAITING = {"PENDING", "THROTTLED"}


class RunwayRequestError(JobRejected):
    """The clip cannot be expressed as this model's request (caught before anything is paid)."""


def ratio_of(size: str) -> str:
    """storyc's `1280x720` as Runway spells an output size: `1280:720`."""
    return size.lower().replace("x", ":")


def build_request(clip: Clip, offering: Offering) -> ProviderRequest:
    """The endpoint and JSON body that create one clip's task: a pure function.

    A first frame makes it `image_to_video` with `promptImage`; cameo images (where the model
    takes `references`) make `references: [{uri}]`. Files are named `<upload of NAME>`; each
    is uploaded at send time and replaced by its `runway://` URI."""
    if clip.api_model in RECIPES:
        return _recipe_request(clip, offering)
    files = FileNames()
    first_frame = files.add(clip.input_reference, "upload") if clip.input_reference else None
    # Where the model takes no cameo, the cameo is described in words only (P214).
    cameos = clip.cameos if offering.cameo_mode != "none" else ()
    # Each cameo's own file, then its further views (`side:`, `back:`, `outfit:`).
    references = [{"uri": files.add(image, "upload")} for cameo in cameos for image in cameo.images]
    # Then the voice samples (the planner keeps one only where the model takes audio).
    voices = [cameo.voice_sample.path for cameo in cameos if cameo.voice_sample is not None]
    reference_audio = [{"type": "audio", "uri": files.add(voice, "upload")} for voice in voices]
    body: dict[str, Any] = {"model": clip.api_model}
    shots = _shots(clip, offering)
    if shots is not None:
        # Kling's multi-shot (the SDK's `providerSettings`): each shot with its own prompt
        # and length. `promptText` is needed only with `shotType: intelligence`, so the
        # clip's inlined prompt is not sent beside its shots.
        body["providerSettings"] = {offering.multi_shot: shots, "shotType": "customize"}
    else:
        body["promptText"] = clip.prompt
    body["ratio"] = ratio_of(clip.size)
    body["duration"] = offering.seconds_value(clip.render_seconds)
    path = TEXT_TO_VIDEO
    if first_frame:
        if not offering.first_frame:
            raise RunwayRequestError(
                "runway", f"{offering.model} cannot start from an image", clip.stem
            )
        if references:
            # image_to_video takes keyframes or references, never both (the SDK's
            # `promptImage` docs: "The two modes cannot be mixed").
            raise RunwayRequestError(
                "runway",
                f"{offering.model} takes either a first frame or cameo images, not both",
                clip.stem,
            )
        path = IMAGE_TO_VIDEO
        body[offering.first_frame] = first_frame
    if references:
        if offering.cameo_mode != "image_urls":
            raise RunwayRequestError("runway", f"{offering.model} takes no cameo images", clip.stem)
        body["references"] = references
        if reference_audio and offering.audio_field:
            body[offering.audio_field] = reference_audio[: offering.max_audio_references]
    if offering.audio == "optional":
        body["audio"] = clip.audio
    if clip.seed is not None and offering.takes_seed:
        body["seed"] = clip.seed
    if clip.avoid and offering.negative_prompt:
        body[offering.negative_prompt] = clip.avoid
    return ProviderRequest(path=path, body=body, files=files.frozen())


def _shots(clip: Clip, offering: Offering) -> list[dict[str, Any]] | None:
    """The clip's shots as `{prompt, duration}` where the planner wrote each shot's prompt
    (it does only for a clip the model takes shot by shot), else None."""
    if not offering.multi_shot or any(shot.prompt is None for shot in clip.shots):
        return None
    return [
        {"prompt": shot.prompt, "duration": (shot.render_ms or 0) // 1000} for shot in clip.shots
    ]


def _recipe_request(clip: Clip, offering: Offering) -> ProviderRequest:
    """The multi-shot recipe in custom mode: 3 to 5 shots whose lengths sum to the clip's
    5, 10 or 15 s (runwayml 5.24.0 `recipe_multi_shot_video_params.Variant1`)."""
    shots = _shots(clip, offering)
    if shots is None or not offering.min_shots <= len(shots) <= offering.max_shots:
        # The checker reports such a clip (P220) before anything is planned for real.
        raise RunwayRequestError(
            "runway",
            f"{offering.model} takes a clip as {offering.min_shots} to {offering.max_shots} "
            f"shots of whole seconds; clip {clip.index} cannot be sent so",
            clip.stem,
        )
    files = FileNames()
    body: dict[str, Any] = {
        "mode": "custom",
        "version": RECIPE_VERSION,
        "shots": shots,
        "duration": offering.seconds_value(clip.render_seconds),
        "ratio": ratio_of(clip.size),
    }
    if offering.audio == "optional":
        body["audio"] = clip.audio
    if clip.input_reference:
        body[offering.first_frame] = {"uri": files.add(clip.input_reference, "upload")}
    return ProviderRequest(path=RECIPES[clip.api_model], body=body, files=files.frozen())


class RunwayRenderer:
    name = "runway"
    paid = True
    reconciles = False
    """Runway's API cannot list tasks, nor take an idempotency key."""
    output_kind = "video"
    """What a finished task yields (the image renderer's is "image")."""
    fetch_options: ClassVar[dict[str, Any]] = {}
    """Extra arguments to `ProviderHTTP.download` for the output (its Accept, its check)."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        references: ReferencePolicy | None = None,
        poll_interval_s: float | None = None,
        policy: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        key = read_key(self.name, KEY_ENV, api_key)
        self.base_url = endpoint(base_url, URL_ENV, DEFAULT_URL)
        self._http = ProviderHTTP(
            self.name,
            # Both go to the API's own origin only: the upload host and the CDN see neither.
            auth_headers={"Authorization": f"Bearer {key}", "X-Runway-Version": API_VERSION},
            trusted_origins=[self.base_url],
            secrets=[key],
            policy=policy,
            transport=transport,
        )
        self.poll_interval_s = poll_interval(poll_interval_s)
        self._references = references
        self._uploaded: dict[str, str] = {}
        self._upload_locks: dict[str, asyncio.Lock] = {}
        self._video_urls: dict[str, str] = {}

    async def aclose(self) -> None:
        await self._http.aclose()

    async def submit(self, clip: Clip, sending: SendingHook = nothing_to_record) -> Submitted:
        offering = load_table().offering(self.name, clip.model)
        if offering is None:
            raise RunwayRequestError(self.name, f"runway does not serve `{clip.model}`", clip.stem)
        # Built before anything is uploaded: a clip the model cannot take fails first.
        request = build_request(clip, offering)
        uris = {file.placeholder: await self._upload(file.path, clip) for file in request.files}
        return await self._create(request.path, request.filled(uris), clip, sending)

    async def _create(
        self, path: str, body: dict[str, Any], clip: Clip, sending: SendingHook
    ) -> Submitted:
        """Start one task (the paid create); its id is what the journal follows."""
        sending()
        created = await self._http.json(
            "POST", f"{self.base_url}{path}", json=body, idempotent=False, clip=clip.stem
        )
        task_id = created.get("id")
        if not isinstance(task_id, str) or not task_id:
            raise CreateUncertain(self.name, "the answer carried no task id")
        return Submitted(job_id=task_id, state={"endpoint": path})

    async def find(self, clip: Clip, sent_at: float, known: set[str]) -> Submitted | None:
        return None

    async def status(self, clip: Clip, job: Submitted) -> JobStatus:
        task = await self._task(clip, job)
        state = task.get("status")
        if state == "RUNNING":
            return JobStatus(
                state="in_progress",
                progress=_percent(task.get("progress")),
                retry_after_s=self.poll_interval_s,
            )
        if state == "SUCCEEDED":
            try:
                self._video_urls[job.job_id] = self._output_url(task, clip)
            except JobRejected as rejected:
                return JobStatus(state="failed", error=rejected.provider_message)
            return JobStatus(state="completed", progress=100.0, billed_usd=_billed(task))
        if state == "FAILED":
            return JobStatus(state="failed", error=self._failure(task))
        if state == "CANCELLED":
            return JobStatus(state="failed", error="the task was cancelled or deleted at Runway")
        # PENDING, THROTTLED (and any state newer than this code) wait in line.
        return JobStatus(state="queued", retry_after_s=self.poll_interval_s)

    async def download(self, clip: Clip, job: Submitted, destination: Path) -> None:
        url = self._video_urls.pop(job.job_id, None)
        if url is None:
            # Output URLs expire after 24-48 h: asking the task again gives fresh ones.
            url = self._output_url(await self._task(clip, job), clip)
        await self._http.download(url, destination, clip=clip.stem, **self.fetch_options)

    async def _task(self, clip: Clip, job: Submitted) -> dict[str, Any]:
        return await self._http.json(
            "GET", f"{self.base_url}/v1/tasks/{job.job_id}", clip=clip.stem
        )

    def _output_url(self, task: dict[str, Any], clip: Clip) -> str:
        output = task.get("output")
        url = output[0] if isinstance(output, list) and output else None
        if not isinstance(url, str) or not url:
            raise JobRejected(
                self.name, f"the finished task carried no {self.output_kind}", clip.stem
            )
        return url

    def _failure(self, task: dict[str, Any]) -> str:
        failure = task.get("failure")
        message = failure if isinstance(failure, str) and failure else "the task failed"
        code = task.get("failureCode")
        if isinstance(code, str) and code:
            message += f" ({code})"
        return self._http.clean(message)

    async def _upload(self, path: str, clip: Clip) -> str:
        """A `runway://` URI for a local file, uploading it once per run."""
        data = read_reference(path, policy=self._references, provider=self.name, clip=clip.stem)
        sha256 = hashlib.sha256(data).hexdigest()
        lock = self._upload_locks.setdefault(sha256, asyncio.Lock())
        async with lock:
            if sha256 in self._uploaded:
                return self._uploaded[sha256]
            filename = Path(path).name
            started = await self._http.json(
                "POST",
                f"{self.base_url}/v1/uploads",
                json={"filename": filename, "type": "ephemeral"},
                clip=clip.stem,
            )
            upload_url = started.get("uploadUrl")
            fields = started.get("fields")
            uri = started.get("runwayUri")
            if not (
                isinstance(upload_url, str)
                and upload_url
                and isinstance(fields, dict)
                and isinstance(uri, str)
                and uri
            ):
                raise ProviderUnavailable(self.name, "Runway's upload answer was incomplete")
            content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
            await self._http.request(
                "POST",
                upload_url,
                data={str(k): str(v) for k, v in fields.items()},
                files={"file": (filename, data, content_type)},
                clip=clip.stem,
            )
            self._uploaded[sha256] = uri
            return uri


def _billed(task: dict[str, Any]) -> float | None:
    """A finished task's `cost.credits` (runwayml 5.24.0 `SucceededCost`: "what remains
    charged") in dollars, or None when the answer carries none."""
    cost = task.get("cost")
    credits = cost.get("credits") if isinstance(cost, dict) else None
    if isinstance(credits, bool) or not isinstance(credits, int | float) or credits < 0:
        return None
    return round(credits * USD_PER_CREDIT, 4)


def _percent(progress: object) -> float | None:
    """Runway's `progress` (0..1) as the 0..100 the scheduler shows."""
    if isinstance(progress, bool) or not isinstance(progress, int | float):
        return None
    value = float(progress) * 100 if progress <= 1 else float(progress)
    return max(0.0, min(100.0, value))

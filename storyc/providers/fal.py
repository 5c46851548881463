"""The fal.ai renderer: one queue protocol for the live models fal serves (Veo 3.1, Kling 3,
Seedance 2, Wan 2.6 and 2.7). Protocol (shared/research/live-video-apis.md §3,
providers-2026-11.md "fal", fal-client 1.0.3 `fal_client/client.py`):

- submit `POST {FAL_QUEUE_URL}/{app_id}` with the model's JSON input and
  `Authorization: Key $FAL_KEY`; the answer is `{request_id, status_url, response_url,
  cancel_url}` and those URLs are followed exactly as returned;
- `GET status_url`: `IN_QUEUE` (`queue_position`), `IN_PROGRESS`, `COMPLETED`;
- `GET response_url`: `{"video": {"url", "content_type", "file_size"}}`, or a 4xx whose
  `detail` is the reason the request failed (moderation, validation);
- the video URL is on fal's CDN: it is downloaded without the key.

The app id is the clip's `api_model`, or the offering's `api_model_image` when the clip
starts from an image, or `api_model_reference` when the model takes cameo images (Veo and
Seedance `image_urls`, Wan 2.7 `reference_image_urls`). A packed clip on Kling goes as
`multi_prompt` (each shot's own prompt and length) with `shot_type: "customize"`.
`build_request` makes the app id and input (what `plan.json` shows, files named
`<upload of NAME>`); `submit` sends exactly that, each placeholder replaced by the file's URL.

First frames and cameo images are uploaded first to fal's storage, as fal-client 1.0.3's
`AsyncClient.upload` does: `POST {FAL_REST_URL}/storage/auth/token?storage_type=fal-cdn-v3`
with the key and body `{}` gives a short-lived CDN token (`CDNTokenManager`, L174-190), then
`POST {FAL_CDN_URL}/files/upload` (the client's `CDN_URL`, L97 and `_async_upload_v3`,
L1467-1480) with `Authorization: {token_type} {token}`, the bytes, `Content-Type` and the raw
file name in `X-Fal-File-Name` (L2048, not URL-quoted) answers `{"access_url"}`. The token's
`base_url` is where the client sends its multipart uploads (`{base_url}/files/upload/
multipart`, L469), used above 100 MiB (`MULTIPART_THRESHOLD`, L238); storyc does not do
multipart uploads and refuses such a file with a message: every file it uploads to fal is an
image, at most 50 MB (`storyc.sandbox`), so none comes near.

`cancel_url` (`PUT`, L1682) is kept in the job state but never called: storyc abandons no job
on purpose. A run stopped by Ctrl-C, a refused key or a kill leaves its jobs in the journal,
and the next run follows them and downloads what was paid for; cancelling them would throw
that away.

Settings: `FAL_KEY` (required), `FAL_QUEUE_URL` (default https://queue.fal.run),
`FAL_REST_URL` (default https://rest.fal.ai, the client's `REST_URL`), `FAL_CDN_URL`
(default https://v3.fal.media, the client's `CDN_URL`).
"""

from __future__ import annotations

import asyncio
import hashlib
import mimetypes
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import httpx

from storyc.plan.capabilities import Offering, aspect_ratio, load_table, resolution_label
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

KEY_ENV = "FAL_KEY"
QUEUE_URL_ENV = "FAL_QUEUE_URL"
REST_URL_ENV = "FAL_REST_URL"
CDN_URL_ENV = "FAL_CDN_URL"
DEFAULT_QUEUE_URL = "https://queue.fal.run"
DEFAULT_REST_URL = "https://rest.fal.ai"
MULTIPART_THRESHOLD = 100 * 1024 * 1024
"""fal-client uploads larger files in parts; storyc refuses them (see the module docstring)."""
DEFAULT_CDN_URL = "https://v3.fal.media"

# Apps whose input has no `resolution` field (Kling renders its tier's resolution).
_APPS_WITHOUT_RESOLUTION = ("fal-ai/kling-video/",)


class FalRequestError(JobRejected):
    """The clip cannot be expressed as this app's input (caught before anything is paid)."""


def build_request(clip: Clip, offering: Offering) -> ProviderRequest:
    """The app id and the JSON input that create one clip's job, its first frame and cameo
    images named `<upload of NAME>` (each is uploaded to fal's storage at send time and
    replaced by its URL). Pure: raises `FalRequestError` for a clip the app cannot take."""
    app = clip.api_model
    files = FileNames()
    # The first frame is uploaded first, then the cameo images in order.
    first_frame = files.add(clip.input_reference, "upload") if clip.input_reference else None
    # Where the model takes no cameo, the cameo is described in words only (P214).
    cameos = clip.cameos if offering.cameo_mode != "none" else ()
    cameo_urls = [files.add(cameo.path, "upload") for cameo in cameos]
    # Reference apps take every image of every cameo (its front, then its views).
    all_urls = [files.add(image, "upload") for cameo in cameos for image in cameo.images]
    # Then the voice samples (the planner keeps one only where the model takes audio). How a
    # prompt names an audio reference is not documented, so they go unnamed.
    voices = [cameo.voice_sample.path for cameo in cameos if cameo.voice_sample is not None]
    audio_urls = [files.add(voice, "upload") for voice in voices]
    body: dict[str, Any] = {}
    if offering.multi_shot and all(shot.prompt is not None for shot in clip.shots[:2]):
        # A packed clip goes shot by shot (Kling's `multi_prompt`, fal's
        # KlingV3MultiPromptElement: `prompt` and `duration` "3".."15"), never with `prompt`.
        body[offering.multi_shot] = [
            {
                "prompt": shot.prompt,
                "duration": offering.seconds_value((shot.render_ms or 0) // 1000),
            }
            for shot in clip.shots
        ]
        body["shot_type"] = "customize"
    else:
        body["prompt"] = clip.prompt
    if offering.duration_field:
        body[offering.duration_field] = offering.seconds_value(clip.render_seconds)
    if cameo_urls and offering.cameo_mode == "image_urls":
        if first_frame:
            raise FalRequestError(
                "fal",
                f"{offering.model} takes either a first frame or cameo images, not both",
                clip.stem,
            )
        if not offering.api_model_reference:
            raise FalRequestError("fal", f"{offering.model} takes no cameo images", clip.stem)
        app = offering.api_model_reference
        body[offering.cameo_field] = all_urls
        if audio_urls and offering.audio_field:
            body[offering.audio_field] = audio_urls[: offering.max_audio_references]
    if first_frame:
        if not offering.api_model_image or not offering.first_frame:
            raise FalRequestError("fal", f"{offering.model} cannot start from an image", clip.stem)
        app = offering.api_model_image
        body[offering.first_frame] = first_frame
    if cameo_urls and offering.cameo_mode == "elements":
        if not first_frame:
            raise FalRequestError(
                "fal",
                f"{offering.model} takes cameo elements only in image-to-video: give the clip "
                'a first frame (`from "image"`)',
                clip.stem,
            )
        # Kling's element (KlingV3ImageElementInput in fal's client types): a frontal image
        # and 1 to 3 reference images, named @Element1, @Element2... in the prompt. The
        # cameo's views (`side:`, `back:`, `outfit:`) are its references; a cameo without
        # any sends its own image again, as the schema says "at least one [reference] image
        # is required" (see docs/providers.md).
        body["elements"] = [
            {
                "frontal_image_url": url,
                "reference_image_urls": [files.add(v.path, "upload") for v in cameo.views][:3]
                or [url],
            }
            for url, cameo in zip(cameo_urls, cameos, strict=True)
        ]
    # Kling's image-to-video takes its aspect from the start image.
    if not (first_frame and offering.first_frame == "start_image_url"):
        body["aspect_ratio"] = aspect_ratio(clip.size)
    if not app.startswith(_APPS_WITHOUT_RESOLUTION):
        body["resolution"] = resolution_label(clip.size)
    if offering.audio == "optional":
        body["generate_audio"] = clip.audio
    if clip.seed is not None and offering.takes_seed:
        body["seed"] = clip.seed
    if clip.avoid and offering.negative_prompt:
        body[offering.negative_prompt] = clip.avoid
    return ProviderRequest(path=f"/{app}", body=body, files=files.frozen(), app=app)


@dataclass
class _CdnToken:
    header: str
    expires_at: datetime


class FalRenderer:
    name = "fal"
    paid = True
    reconciles = False
    """fal's queue has no way to list requests or to send an idempotency key."""
    output_kind = "video"
    """What a finished request yields (the image renderer's is "image")."""
    fetch_options: ClassVar[dict[str, Any]] = {}
    """Extra arguments to `ProviderHTTP.download` for the output (its Accept, its check)."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        queue_url: str | None = None,
        rest_url: str | None = None,
        cdn_url: str | None = None,
        references: ReferencePolicy | None = None,
        poll_interval_s: float | None = None,
        policy: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        key = read_key(self.name, KEY_ENV, api_key)
        self.queue_url = endpoint(queue_url, QUEUE_URL_ENV, DEFAULT_QUEUE_URL)
        self.rest_url = endpoint(rest_url, REST_URL_ENV, DEFAULT_REST_URL)
        self.cdn_url = endpoint(cdn_url, CDN_URL_ENV, DEFAULT_CDN_URL)
        self._http = ProviderHTTP(
            self.name,
            auth_headers={"Authorization": f"Key {key}"},
            # The key goes to the queue and to the storage-token endpoint, nowhere else.
            trusted_origins=[self.queue_url, self.rest_url],
            secrets=[key],
            policy=policy,
            transport=transport,
        )
        self.poll_interval_s = poll_interval(poll_interval_s)
        self._token: _CdnToken | None = None
        self._token_lock = asyncio.Lock()
        self._uploaded: dict[str, str] = {}
        self._upload_locks: dict[str, asyncio.Lock] = {}
        self._video_urls: dict[str, str] = {}
        self._references = references

    async def aclose(self) -> None:
        await self._http.aclose()

    async def submit(self, clip: Clip, sending: SendingHook = nothing_to_record) -> Submitted:
        offering = load_table().offering(self.name, clip.model)
        if offering is None:
            raise FalRequestError(self.name, f"fal does not serve `{clip.model}`", clip.stem)
        # Built before anything is uploaded: a clip the app cannot take fails first.
        request = build_request(clip, offering)
        urls = {file.placeholder: await self._upload(file.path, clip) for file in request.files}
        app = request.app or clip.api_model
        return await self._enqueue(app, request.path, request.filled(urls), clip, sending)

    async def _enqueue(
        self, app: str, path: str, body: dict[str, Any], clip: Clip, sending: SendingHook
    ) -> Submitted:
        """Put one request on fal's queue (the paid create) and keep the URLs to follow it."""
        sending()
        queued = await self._http.json(
            "POST", f"{self.queue_url}{path}", json=body, idempotent=False, clip=clip.stem
        )
        request_id = queued.get("request_id")
        if not isinstance(request_id, str) or not request_id:
            raise CreateUncertain(self.name, "the queue answer carried no request_id")
        # fal's client rebuilds these from owner/alias when it has only the id.
        fallback = f"{self.queue_url}/{'/'.join(app.split('/')[:2])}/requests/{request_id}"
        state = {
            "app_id": app,
            "status_url": _string(queued.get("status_url")) or f"{fallback}/status",
            "response_url": _string(queued.get("response_url")) or fallback,
            "cancel_url": _string(queued.get("cancel_url")) or f"{fallback}/cancel",
        }
        return Submitted(job_id=request_id, state=state)

    async def find(self, clip: Clip, sent_at: float, known: set[str]) -> Submitted | None:
        return None

    async def status(self, clip: Clip, job: Submitted) -> JobStatus:
        urls = job.state or {}
        body = await self._http.json("GET", urls["status_url"], clip=clip.stem)
        state = body.get("status")
        if state == "IN_PROGRESS":
            return JobStatus(state="in_progress", retry_after_s=self.poll_interval_s)
        if state != "COMPLETED":
            return JobStatus(state="queued", retry_after_s=self.poll_interval_s)
        error = body.get("error")
        if isinstance(error, str) and error:
            return JobStatus(state="failed", error=self._http.clean(error))
        try:
            self._video_urls[job.job_id] = await self._result_url(clip, job)
        except JobRejected as rejected:
            return JobStatus(state="failed", error=rejected.provider_message)
        return JobStatus(state="completed", progress=100.0)

    async def download(self, clip: Clip, job: Submitted, destination: Path) -> None:
        url = self._video_urls.pop(job.job_id, None) or await self._result_url(clip, job)
        await self._http.download(url, destination, clip=clip.stem, **self.fetch_options)

    async def _result_url(self, clip: Clip, job: Submitted) -> str:
        result = await self._http.json("GET", (job.state or {})["response_url"], clip=clip.stem)
        url = self.output_url(result)
        if not url:
            raise JobRejected(self.name, f"the result carried no {self.output_kind}", clip.stem)
        return url

    @staticmethod
    def output_url(result: dict[str, Any]) -> str | None:
        video = result.get("video")
        url = video.get("url") if isinstance(video, dict) else None
        return url if isinstance(url, str) and url else None

    async def _upload(self, path: str, clip: Clip) -> str:
        """A fal CDN URL for a local file, uploading it once per run."""
        data = read_reference(path, policy=self._references, provider=self.name, clip=clip.stem)
        if len(data) > MULTIPART_THRESHOLD:
            raise FalRequestError(
                self.name,
                f"`{Path(path).name}` is {len(data) / 1024 / 1024:.0f} MiB; storyc uploads files "
                "of at most 100 MiB to fal (larger ones need fal's multipart upload)",
                clip.stem,
            )
        sha256 = hashlib.sha256(data).hexdigest()
        lock = self._upload_locks.setdefault(sha256, asyncio.Lock())
        async with lock:
            if sha256 in self._uploaded:
                return self._uploaded[sha256]
            content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
            token = await self._cdn_token()
            answer = await self._http.json(
                "POST",
                f"{self.cdn_url}/files/upload",
                content=data,
                headers={
                    "Authorization": token,
                    "Content-Type": content_type,
                    "X-Fal-File-Name": _raw_header(Path(path).name),
                },
                clip=clip.stem,
            )
            url = answer.get("access_url")
            if not isinstance(url, str) or not url:
                raise ProviderUnavailable(self.name, "fal storage answered without a file URL")
            self._uploaded[sha256] = url
            return url

    async def _cdn_token(self) -> str:
        async with self._token_lock:
            now = datetime.now(UTC)
            if self._token is None or self._token.expires_at <= now:
                answer = await self._http.json(
                    "POST",
                    f"{self.rest_url}/storage/auth/token?storage_type=fal-cdn-v3",
                    json={},
                    headers={"Accept": "application/json"},
                )
                try:
                    expires = datetime.fromisoformat(str(answer["expires_at"]))
                    header = f"{answer['token_type']} {answer['token']}"
                except (KeyError, ValueError):
                    raise ProviderUnavailable(
                        self.name, "fal storage gave no upload token"
                    ) from None
                if expires.tzinfo is None:
                    expires = expires.replace(tzinfo=UTC)
                self._http.add_secret(str(answer["token"]))
                self._token = _CdnToken(header=header, expires_at=expires)
            return self._token.header


def _raw_header(text: str) -> Any:
    """A header value sent raw, as fal-client sends the file name (not URL-quoted): as it is
    when ASCII, else its UTF-8 bytes (httpx encodes a `str` header as ASCII only)."""
    return text if text.isascii() else text.encode("utf-8")


def _string(value: object) -> str | None:
    return value if isinstance(value, str) and value else None

"""The OpenAI Videos API renderer (the Sora 2 request shape), for any endpoint that speaks it.

OpenAI shut its own Videos API down on 2026-09-24; Azure and gateways copy the protocol, so
the base URL is a setting. Protocol (shared/research/video-apis.md §1):

- `POST {base}/videos`: `prompt`, `model`, `seconds` (a string: "4"), `size` ("1280x720").
  Sent as multipart, like OpenAI's SDK, with the first-frame image as an `input_reference`
  file part. A clip with cameos is sent as JSON instead, because that is the only documented
  shape for `characters: [{"id": ...}]` (at most 2); its first frame then travels as
  `input_reference: {"image_url": "data:image/...;base64,..."}` (documented since 2026-03).
- cameos: each reference video is uploaded once through `POST {base}/videos/characters`
  (multipart `name`, `video`); the returned id is remembered per (endpoint and key
  fingerprint, file sha256) in `uploads.json` in the cache folder.
- `GET {base}/videos/{id}`: `status` queued | in_progress | completed | failed, `progress`,
  `error.message`; the next poll waits for the `openai-poll-after-ms` header.
- `GET {base}/videos/{id}/content?variant=video`: the MP4, streamed and checked.
- `GET {base}/videos?limit=100&order=desc&after=`: the account's recent videos, searched for
  the job a create made when its answer was lost (the API takes no idempotency key: the
  official SDK sets no idempotency header for OpenAI).

Settings, all from the environment as OpenAI's SDK reads them:
`OPENAI_API_KEY` (required), `OPENAI_BASE_URL` (default https://api.openai.com/v1), and
storyc's own `STORYC_OPENAI_AUTH`: `bearer` (default, `Authorization: Bearer <key>`) or
`api-key` (the key in an `api-key` header, as Azure's REST examples send it).
"""

from __future__ import annotations

import asyncio
import base64
import mimetypes
import os
from pathlib import Path

import httpx

from storyc.errors import UsageError
from storyc.fsutil import file_sha256
from storyc.plan.capabilities import Offering
from storyc.plan.schema import CameoReference, Clip
from storyc.providers.base import JobStatus, SendingHook, Submitted, nothing_to_record
from storyc.providers.errors import CreateUncertain, JobRejected, read_key
from storyc.providers.http import ProviderHTTP, RetryPolicy, endpoint, poll_interval
from storyc.providers.requests import FileNames, ProviderRequest
from storyc.providers.uploads import (
    UploadStore,
    default_cache_dir,
    key_fingerprint,
    read_reference,
)
from storyc.sandbox import ReferencePolicy

KEY_ENV = "OPENAI_API_KEY"
BASE_URL_ENV = "OPENAI_BASE_URL"
AUTH_ENV = "STORYC_OPENAI_AUTH"
DEFAULT_BASE_URL = "https://api.openai.com/v1"
MAX_CHARACTERS = 2
FIND_PAGES = 5
"""Pages of 100 recent videos searched for a lost create before giving up."""
CLOCK_SKEW_S = 60.0
AUTH_STYLES = ("bearer", "api-key")


def build_request(clip: Clip, offering: Offering | None = None) -> ProviderRequest:
    """The `POST /videos` that creates one clip's video: a pure function of the clip.

    Multipart, with the first frame as an `input_reference` file part (`@fan.png`); a clip
    with cameos goes as JSON, each cameo a `characters` item whose id is the uploaded
    character's (`<character id of mara>`), the first frame a data URL
    (`{"image_url": "<data URL of fan.png>"}`)."""
    if len(clip.cameos) > MAX_CHARACTERS:
        raise JobRejected("openai", f"a clip takes at most {MAX_CHARACTERS} cameos", clip.stem)
    files = FileNames()
    body: dict[str, object] = {
        "model": clip.api_model,
        "prompt": clip.prompt,
        "seconds": str(clip.seconds),
        "size": clip.size,
    }
    if clip.cameos:
        body["characters"] = [
            {"id": files.add(cameo.path, "character", cameo=cameo)} for cameo in clip.cameos
        ]
        if clip.input_reference:
            image = files.add(clip.input_reference, "data_url")
            body["input_reference"] = {"image_url": image}
        return ProviderRequest(path="/videos", body=body, files=files.frozen())
    if clip.input_reference:
        body["input_reference"] = files.add(clip.input_reference, "part")
    return ProviderRequest(path="/videos", body=body, multipart=True, files=files.frozen())


class ForceMultipart(dict[str, object]):
    """An empty `files=` that still makes httpx send multipart/form-data (as OpenAI's SDK does)."""

    def __bool__(self) -> bool:
        return True


class OpenAIRenderer:
    name = "openai"
    paid = True
    reconciles = True

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        auth: str | None = None,
        cache_dir: Path | None = None,
        references: ReferencePolicy | None = None,
        poll_interval_s: float | None = None,
        policy: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        key = read_key(self.name, KEY_ENV, api_key)
        self.base_url = endpoint(base_url, BASE_URL_ENV, DEFAULT_BASE_URL)
        style = (auth or os.environ.get(AUTH_ENV) or "bearer").strip().lower()
        if style not in AUTH_STYLES:
            raise UsageError(f"{AUTH_ENV} must be `bearer` or `api-key`, not `{style}`.")
        headers = {"Authorization": f"Bearer {key}"} if style == "bearer" else {"api-key": key}
        self._http = ProviderHTTP(
            self.name,
            auth_headers=headers,
            trusted_origins=[self.base_url],
            secrets=[key],
            policy=policy,
            transport=transport,
        )
        self._account = key_fingerprint(f"{self.base_url}\n{key}")
        self._uploads = UploadStore(cache_dir or default_cache_dir())
        self._upload_locks: dict[str, asyncio.Lock] = {}
        self._references = references
        self.poll_interval_s = poll_interval(poll_interval_s)

    async def aclose(self) -> None:
        await self._http.aclose()

    def _read(self, path: str, clip: Clip) -> bytes:
        return read_reference(path, policy=self._references, provider=self.name, clip=clip.stem)

    async def submit(self, clip: Clip, sending: SendingHook = nothing_to_record) -> Submitted:
        request = build_request(clip)
        values: dict[str, object] = {}
        for file in request.files:  # the characters first: an upload may take a while
            if file.use == "character" and file.cameo is not None:
                values[file.placeholder] = await self._character_id(file.cameo, clip)
        for file in request.files:
            if file.use == "data_url":
                values[file.placeholder] = _data_url(file.path, self._read(file.path, clip))
            elif file.use == "part":
                data = self._read(file.path, clip)
                values[file.placeholder] = _file_part(file.path, data)
        body = request.filled(values)
        url = f"{self.base_url}{request.path}"
        if request.multipart:
            fields = {k: v for k, v in body.items() if not isinstance(v, tuple)}
            files: dict[str, object] = ForceMultipart(
                {k: v for k, v in body.items() if isinstance(v, tuple)}
            )
            sending()
            video = await self._http.json(
                "POST", url, data=fields, files=files, idempotent=False, clip=clip.stem
            )
        else:
            sending()
            video = await self._http.json("POST", url, json=body, idempotent=False, clip=clip.stem)
        video_id = video.get("id")
        if not isinstance(video_id, str) or not video_id:
            raise CreateUncertain(self.name, "the create answer carried no video id")
        return Submitted(job_id=video_id)

    async def find(self, clip: Clip, sent_at: float, known: set[str]) -> Submitted | None:
        """Look through the account's recent videos (`GET /videos`, newest first) for the
        one this clip's lost create made: same prompt, model, size and length, created
        after the request left (less a minute for clock skew), not already journaled."""
        after: str | None = None
        for _ in range(FIND_PAGES):
            query = {"limit": "100", "order": "desc"} | ({"after": after} if after else {})
            page = await self._http.json(
                "GET", f"{self.base_url}/videos", params=query, clip=clip.stem
            )
            videos = page.get("data")
            if not isinstance(videos, list) or not videos:
                return None
            for video in videos:
                if not isinstance(video, dict):
                    continue
                created = video.get("created_at")
                if isinstance(created, int | float) and created < sent_at - CLOCK_SKEW_S:
                    return None  # newest first: everything further is older still
                if _same_request(video, clip) and str(video.get("id")) not in known:
                    return Submitted(job_id=str(video["id"]))
            last = videos[-1].get("id") if isinstance(videos[-1], dict) else None
            if not page.get("has_more") or not isinstance(last, str):
                return None
            after = last
        return None

    async def status(self, clip: Clip, job: Submitted) -> JobStatus:
        response = await self._http.request(
            "GET", f"{self.base_url}/videos/{job.job_id}", clip=clip.stem
        )
        try:
            video = response.json()
        except ValueError:
            video = {}
        wait_s = _poll_after_s(response) or self.poll_interval_s
        state = video.get("status") if isinstance(video, dict) else None
        progress = video.get("progress") if isinstance(video, dict) else None
        progress = float(progress) if isinstance(progress, int | float) else None
        if state in ("queued", "in_progress", "completed"):
            return JobStatus(state=state, progress=progress, retry_after_s=wait_s)
        if state == "failed":
            return JobStatus(state="failed", error=self._http.clean(_failure(video)))
        if state in ("expired", "canceled", "cancelled"):
            return JobStatus(state="failed", error=f"the job was {state} at the provider")
        return JobStatus(state="queued", progress=progress, retry_after_s=wait_s)

    async def download(self, clip: Clip, job: Submitted, destination: Path) -> None:
        url = f"{self.base_url}/videos/{job.job_id}/content?variant=video"
        # OpenAI's SDK asks for the content as `application/binary`.
        await self._http.download(url, destination, clip=clip.stem, accept="application/binary")

    async def _character_id(self, cameo: CameoReference, clip: Clip) -> str:
        """The character id of a cameo's reference video, uploading it the first time."""
        path = Path(cameo.path)
        try:
            sha256 = cameo.sha256 or file_sha256(path)
        except OSError as exc:
            raise JobRejected(
                self.name, f"cannot read cameo `{cameo.name}` ({path}): {exc.strerror}", clip.stem
            ) from None
        lock = self._upload_locks.setdefault(sha256, asyncio.Lock())
        async with lock:
            known = self._uploads.get(self.name, self._account, sha256)
            if known and isinstance(known.get("id"), str):
                return str(known["id"])
            parts = {"video": _file_part(str(path), self._read(str(path), clip), "video/mp4")}
            # Not the paid job: a retried upload at worst makes a second character.
            character = await self._http.json(
                "POST",
                f"{self.base_url}/videos/characters",
                data={"name": cameo.name[:80]},
                files=parts,
                clip=clip.stem,
            )
            character_id = character.get("id")
            if not isinstance(character_id, str) or not character_id:
                raise JobRejected(
                    self.name, f"cameo `{cameo.name}` was not accepted as a character", clip.stem
                )
            record = {
                "id": character_id,
                "name": character.get("name") or cameo.name,
                "created_at": character.get("created_at"),
                "file": path.name,
            }
            self._uploads.put(self.name, self._account, sha256, record)
            return character_id


def _same_request(video: dict[str, object], clip: Clip) -> bool:
    """Whether a listed video is what this clip's create asked for (the prompt must match:
    model, size and length alone would match another clip of the same story)."""
    return (
        video.get("prompt") == clip.prompt
        and video.get("model") == clip.api_model
        and video.get("size") == clip.size
        and str(video.get("seconds")) == str(clip.seconds)
    )


def _poll_after_s(response: httpx.Response) -> float | None:
    raw = response.headers.get("openai-poll-after-ms")
    try:
        return max(0.0, float(raw) / 1000) if raw else None
    except ValueError:
        return None


def _failure(video: dict[str, object]) -> str:
    error = video.get("error")
    if isinstance(error, dict):
        message = error.get("message") or error.get("code")
        if isinstance(message, str) and message:
            return message
    return "the provider failed the job without saying why"


def _mime(path: str, default: str = "image/png") -> str:
    return mimetypes.guess_type(path)[0] or default


def _file_part(path: str, data: bytes, mime: str | None = None) -> tuple[str, bytes, str]:
    return (Path(path).name, data, mime or _mime(path))


def _data_url(path: str, data: bytes) -> str:
    encoded = base64.b64encode(data).decode("ascii")
    return f"data:{_mime(path)};base64,{encoded}"

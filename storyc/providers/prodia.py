"""The Prodia renderer: its v2 job API (shared/research/video-apis.md §3, live-video-apis.md §2).

A job is `{"type": "inference.sora-2.txt2vid.v1", "config": {...}}`, sent as JSON, or for
image-to-video as multipart with a `job` part and an `input` part whose filename the config
names in `image`. `Authorization: Bearer $PRODIA_TOKEN`.

Prodia's plain `POST /v2/job` blocks until the video is done and answers with a multipart
body (a `job` JSON part and the MP4 `output` part) when asked with
`Accept: multipart/form-data; video/mp4`. A call that blocks for minutes leaves nothing to
journal if the run is killed meanwhile, and a rerun would pay again. So storyc uses Prodia's
async API by default:

- `POST /v2/job/async` (same body) -> 201 and the job JSON with its `id`, journaled at once;
- `GET /v2/job/async/{id}/job.state.current` -> `processing` | `processed` | `failed`;
- `GET /v2/job/async/{id}/job.json` -> the job with its `error` when it failed;
- `GET /v2/job/async/{id}/output` -> the output file names; then
  `GET /v2/job/async/{id}/output/{name}` -> the MP4, streamed and checked.

A job type that refuses async (400 "... doesn't support async") falls back to the blocking
call, as does `STORYC_PRODIA_MODE=sync`: the reply's MP4 is kept in the cache folder's
`prodia-spool/` until `download` moves it out, so it survives a crash after the call.

Config fields: `prompt`, `aspect_ratio` (from the size), `duration` (an integer, where the job
type has one: Sora's do, Veo's do not), `seed` when the model takes one, `resolution` when the model renders more than one resolution (Sora 2 Pro,
Veo), `generate_audio` when sound is a switch, `image` for a first frame.
"""

from __future__ import annotations

import json
import mimetypes
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from storyc.errors import UsageError
from storyc.fsutil import write_atomic
from storyc.plan.capabilities import Offering, aspect_ratio, load_table, resolution_label
from storyc.plan.schema import Clip
from storyc.providers.base import JobStatus, SendingHook, Submitted, nothing_to_record
from storyc.providers.errors import (
    CreateUncertain,
    DownloadIncomplete,
    JobRejected,
    read_key,
)
from storyc.providers.http import (
    ProviderHTTP,
    RetryPolicy,
    endpoint,
    message_in,
    poll_interval,
    provider_message,
)
from storyc.providers.requests import FileNames, ProviderRequest
from storyc.providers.uploads import default_cache_dir, read_reference
from storyc.sandbox import ReferencePolicy

KEY_ENV = "PRODIA_TOKEN"
URL_ENV = "PRODIA_URL"
MODE_ENV = "STORYC_PRODIA_MODE"
DEFAULT_URL = "https://inference.prodia.com"
SYNC_ACCEPT = "multipart/form-data; video/mp4"
MODES = ("async", "sync")


def build_request(clip: Clip, offering: Offering) -> ProviderRequest:
    """The job that creates one clip's video: a pure function of the clip and the offering.

    Sent as JSON `{"type", "config"}`; with a first frame, as multipart: the same job in a
    `job` part and the image in an `input` part named `input.<ext>`, which the config's
    `image` names (the image shown as `@fan.png;filename=input.png`)."""
    job_type = clip.api_model
    config: dict[str, Any] = {"prompt": clip.prompt}
    files = FileNames()
    image: str | None = None
    if clip.input_reference:
        if not offering.api_model_image:
            raise JobRejected("prodia", f"{offering.model} cannot start from an image", clip.stem)
        job_type = offering.api_model_image
        name = f"input{Path(clip.input_reference).suffix.lower() or '.png'}"
        image = files.add(clip.input_reference, "part", filename=name)
        config["image"] = name
    config["aspect_ratio"] = aspect_ratio(clip.size)
    if len({resolution_label(size) for size in offering.sizes}) > 1:
        config["resolution"] = resolution_label(clip.size)
    if offering.duration_field:
        # Prodia's Veo job types have no `duration` (`unevaluatedProperties: false`,
        # docs.prodia.com/job-types/inference-veo-img2vid-v1): they render Veo's one length.
        config[offering.duration_field] = int(offering.seconds_value(clip.render_seconds))
    if offering.audio == "optional":
        config["generate_audio"] = clip.audio
    if clip.seed is not None and offering.takes_seed:
        config["seed"] = clip.seed
    job = {"type": job_type, "config": config}
    if image is None:
        return ProviderRequest(path="/v2/job/async", body=job)
    return ProviderRequest(
        path="/v2/job/async",
        body={"job": job, "input": image},
        multipart=True,
        files=files.frozen(),
    )


@dataclass(frozen=True)
class Part:
    name: str | None
    filename: str | None
    content_type: str | None
    data: bytes


def parse_multipart(body: bytes, content_type: str) -> list[Part]:
    """Split a `multipart/form-data` (or `multipart/mixed`) body into its parts."""
    boundary = _param(content_type, "boundary")
    if not boundary:
        raise ValueError("multipart body without a boundary")
    delimiter = b"--" + boundary.encode("latin-1")
    parts: list[Part] = []
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk.removeprefix(b"\r\n")
        head, _, data = chunk.partition(b"\r\n\r\n")
        headers: dict[str, str] = {}
        for line in head.decode("latin-1").split("\r\n"):
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        parts.append(
            Part(
                name=_param(disposition, "name"),
                filename=_param(disposition, "filename"),
                content_type=headers.get("content-type"),
                data=data.removesuffix(b"\r\n"),
            )
        )
    return parts


def _param(header: str, name: str) -> str | None:
    for piece in header.split(";")[1:]:
        key, sep, value = piece.strip().partition("=")
        if sep and key.strip().lower() == name:
            return value.strip().strip('"')
    return None


def prodia_message(response: httpx.Response) -> str:
    """Prodia's reason for a failure: the `error` of the job part, or of the JSON body."""
    content_type = response.headers.get("content-type", "")
    if content_type.startswith("multipart/"):
        try:
            parts = parse_multipart(response.content, content_type)
        except ValueError:
            parts = []
        for part in parts:
            if part.name == "job":
                try:
                    found = message_in(json.loads(part.data))
                except ValueError:
                    found = None
                if found:
                    return found
    return provider_message(response)


class ProdiaRenderer:
    name = "prodia"
    paid = True
    reconciles = False
    """Prodia's job API has no way to list jobs or to send an idempotency key."""

    def __init__(
        self,
        *,
        token: str | None = None,
        base_url: str | None = None,
        mode: str | None = None,
        cache_dir: Path | None = None,
        references: ReferencePolicy | None = None,
        poll_interval_s: float | None = None,
        policy: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        key = read_key(self.name, KEY_ENV, token)
        self.base_url = endpoint(base_url, URL_ENV, DEFAULT_URL)
        self.mode = (mode or os.environ.get(MODE_ENV) or "async").strip().lower()
        if self.mode not in MODES:
            raise UsageError(f"{MODE_ENV} must be `async` or `sync`, not `{self.mode}`.")
        self._http = ProviderHTTP(
            self.name,
            auth_headers={"Authorization": f"Bearer {key}"},
            trusted_origins=[self.base_url],
            secrets=[key],
            policy=policy,
            transport=transport,
            message_of=prodia_message,
        )
        self._spool = (cache_dir or default_cache_dir()) / "prodia-spool"
        self._sync_only: set[str] = set()
        self._references = references
        self.poll_interval_s = poll_interval(poll_interval_s)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def submit(self, clip: Clip, sending: SendingHook = nothing_to_record) -> Submitted:
        offering = load_table().offering(self.name, clip.model)
        if offering is None:
            raise JobRejected(self.name, f"Prodia has no job type for `{clip.model}`", clip.stem)
        request = build_request(clip, offering)
        parts: dict[str, tuple[str, bytes, str]] = {}
        for file in request.files:
            path = Path(file.path)
            data = read_reference(path, policy=self._references, provider=self.name, clip=clip.stem)
            parts[file.placeholder] = (file.part_filename, data, _mime(path))
        body = request.filled(parts)
        job_type = str((body["job"] if request.multipart else body)["type"])
        payload = _payload(body, multipart=request.multipart)
        if self.mode == "async" and job_type not in self._sync_only:
            try:
                sending()
                return await self._submit_async(clip, payload)
            except JobRejected as rejected:
                if "async" not in rejected.provider_message.lower():
                    raise
                self._sync_only.add(job_type)
        sending()
        return await self._submit_sync(clip, payload)

    async def find(self, clip: Clip, sent_at: float, known: set[str]) -> Submitted | None:
        return None

    async def _submit_async(self, clip: Clip, payload: dict[str, Any]) -> Submitted:
        answer = await self._http.json(
            "POST",
            f"{self.base_url}/v2/job/async",
            headers={"Accept": "application/json"},
            idempotent=False,
            clip=clip.stem,
            **payload,
        )
        job_id = answer.get("id")
        if not isinstance(job_id, str) or not job_id:
            raise CreateUncertain(self.name, "the async job answer carried no id")
        return Submitted(job_id=job_id, state={"mode": "async"})

    async def _submit_sync(self, clip: Clip, payload: dict[str, Any]) -> Submitted:
        response = await self._http.request(
            "POST",
            f"{self.base_url}/v2/job",
            headers={"Accept": SYNC_ACCEPT},
            idempotent=False,
            clip=clip.stem,
            # The call returns when the video is done: minutes, not seconds.
            timeout=httpx.Timeout(30.0, read=1800.0),
            **payload,
        )
        content_type = response.headers.get("content-type", "")
        video: bytes | None = None
        job_id: str | None = None
        if content_type.startswith("multipart/"):
            for part in parse_multipart(response.content, content_type):
                if part.name == "job":
                    try:
                        job_id = str(json.loads(part.data).get("id") or "") or None
                    except (ValueError, AttributeError):
                        job_id = None
                elif part.name == "output":
                    video = part.data
        elif content_type.startswith("video/"):
            video = response.content
        if not video:
            raise CreateUncertain(self.name, "the job answer carried no video")
        job_id = job_id or f"sync-{clip.id}"
        self._spool.mkdir(parents=True, exist_ok=True)
        spooled = self._spool / f"{clip.id}.mp4"
        write_atomic(spooled, video)
        return Submitted(job_id=job_id, state={"mode": "sync", "spool": str(spooled)})

    async def status(self, clip: Clip, job: Submitted) -> JobStatus:
        if (job.state or {}).get("mode") == "sync":
            if Path((job.state or {})["spool"]).is_file():
                return JobStatus(state="completed", progress=100.0)
            return JobStatus(state="failed", error="the video Prodia sent was lost before use")
        response = await self._http.request(
            "GET", f"{self._job_url(job)}/job.state.current", clip=clip.stem
        )
        state = response.text.strip().lower()
        if state == "processed":
            return JobStatus(state="completed", progress=100.0)
        if state == "failed":
            return JobStatus(state="failed", error=await self._failure(clip, job))
        if state == "processing":
            return JobStatus(state="in_progress", retry_after_s=self.poll_interval_s)
        return JobStatus(state="queued", retry_after_s=self.poll_interval_s)

    async def download(self, clip: Clip, job: Submitted, destination: Path) -> None:
        if (job.state or {}).get("mode") == "sync":
            spooled = Path((job.state or {})["spool"])
            if not spooled.is_file():
                raise DownloadIncomplete(self.name, "the spooled video is gone", clip.stem)
            shutil.copyfile(spooled, destination)
            spooled.unlink(missing_ok=True)
            return
        name = await self._output_name(clip, job)
        await self._http.download(
            f"{self._job_url(job)}/output/{quote(name)}",
            destination,
            clip=clip.stem,
            accept="video/mp4",
        )

    def _job_url(self, job: Submitted) -> str:
        return f"{self.base_url}/v2/job/async/{job.job_id}"

    async def _failure(self, clip: Clip, job: Submitted) -> str:
        response = await self._http.request("GET", f"{self._job_url(job)}/job.json", clip=clip.stem)
        try:
            found = message_in(response.json())
        except ValueError:
            found = None
        return self._http.clean(found or "Prodia failed the job without saying why")

    async def _output_name(self, clip: Clip, job: Submitted) -> str:
        """The MP4's name in the job's output list (the docs show `video.mp4`)."""
        response = await self._http.request("GET", f"{self._job_url(job)}/output", clip=clip.stem)
        names = _output_names(response)
        videos = [n for n in names if n.lower().endswith(".mp4")]
        return (videos or names or ["video.mp4"])[0]


def _payload(body: dict[str, Any], *, multipart: bool) -> dict[str, Any]:
    """The httpx arguments that send a filled request body: JSON, or multipart with each
    object as a JSON part (`job` -> `job.json`) and each file part as it is."""
    if not multipart:
        return {"json": body}
    return {
        "files": [
            (
                name,
                (f"{name}.json", json.dumps(value).encode(), "application/json")
                if isinstance(value, dict)
                else value,
            )
            for name, value in body.items()
        ]
    }


def _output_names(response: httpx.Response) -> list[str]:
    """File names from an output listing: a JSON list (of names or of objects) or lines."""
    try:
        body: Any = response.json()
    except ValueError:
        return [line.strip() for line in response.text.splitlines() if line.strip()]
    if isinstance(body, dict):
        body = next((v for v in body.values() if isinstance(v, list)), [])
    names: list[str] = []
    for item in body if isinstance(body, list) else []:
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, dict):
            name = item.get("name") or item.get("filename")
            if isinstance(name, str):
                names.append(name)
    return names


def _mime(path: Path) -> str:
    return mimetypes.guess_type(str(path))[0] or "image/png"

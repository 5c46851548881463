"""OpenAI's Videos API as the fake serves it (shared/research/video-apis.md §1).

Strict where the real API is: `seconds` must be the string "4"/"8"/"12", `size` one of the
model's sizes, an `input_reference` image must have exactly the output size, `characters`
are at most 2 known ids, unknown parameters are refused. Errors use OpenAI's envelope
`{"error": {"message", "type", "param", "code"}}`; a wrong key is answered like OpenAI does,
echoing a masked copy of the key.
"""

from __future__ import annotations

import base64
import io
import re
import time
import uuid
from typing import TYPE_CHECKING, Any

from .forms import is_multipart, parse_form
from .server import Request, Response

if TYPE_CHECKING:
    from .server import FakeProvider, Job

SECONDS = ("4", "8", "12")
SIZES = {
    "sora-2": ("1280x720", "720x1280"),
    "sora-2-pro": ("1280x720", "720x1280", "1792x1024", "1024x1792"),
}
FIELDS = {"prompt", "model", "seconds", "size", "input_reference", "characters"}
_VIDEO = re.compile(r"^/v1/videos/(?P<id>[^/]+)(?P<content>/content)?$")


def error(
    message: str,
    status: int = 400,
    *,
    code: str | None = None,
    param: str | None = None,
    kind: str = "invalid_request_error",
    **headers: str,
) -> Response:
    return Response.json(
        {"error": {"message": message, "type": kind, "param": param, "code": code}},
        status,
        **headers,
    )


def handle(fake: FakeProvider, request: Request) -> Response:
    path = request.path
    if request.method == "POST" and path in ("/v1/videos", "/v1/images/generations"):
        kind = "submit"
    elif request.method == "POST" and path == "/v1/videos/characters":
        kind = "upload"
    elif request.method == "GET" and path == "/v1/videos":
        kind = "list"
    elif request.method == "GET" and (match := _VIDEO.match(path)):
        kind = "download" if match.group("content") else "status"
    else:
        return error(f"Invalid URL ({request.method} {path})", 404)
    fake.record("openai", kind, request)
    fault = fake.take_fault(kind)
    if fault == 0:
        return Response(0)
    if fault == 429:
        headers = {"Retry-After": fake.faults.retry_after}
        return error(
            "Rate limit reached for requests",
            429,
            code="rate_limit_exceeded",
            kind="requests",
            **headers,
        )
    if fault:
        return error(
            "The server had an error while processing your request.", fault, kind="server_error"
        )
    refused = _check_key(fake, request)
    if refused:
        return refused
    if kind == "submit" and path == "/v1/images/generations":
        from .images import openai_generate

        return openai_generate(fake, request)
    if kind == "submit":
        return _create(fake, request)
    if kind == "upload":
        return _character(fake, request)
    if kind == "list":
        return _list(fake, request)
    match = _VIDEO.match(path)
    assert match is not None
    job = fake.jobs.get(match.group("id"))
    if job is None or job.provider != "openai":
        return error(f"Video with id '{match.group('id')}' not found.", 404, code="not_found")
    if kind == "status":
        return Response.json(
            video_object(job), **{"openai-poll-after-ms": str(fake.faults.poll_after_ms)}
        )
    if job.state(time.monotonic()) != "completed":
        return error("Video is not ready yet, use GET /v1/videos/{video_id} to check status.", 400)
    if request.query.get("variant", "video") != "video":
        return error("Only the video variant is served by this fake.", 400, param="variant")
    return fake.video_response(fake.video_bytes(job))


def _check_key(fake: FakeProvider, request: Request) -> Response | None:
    expected = fake.keys["openai"]
    if fake.faults.openai_auth == "api-key":
        given = request.headers.get("api-key", "")
    else:
        auth = request.headers.get("authorization", "")
        given = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else ""
    if given == expected:
        return None
    if not given:
        return error(
            "You didn't provide an API key. You need to provide your API key in an "
            "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            401,
        )
    masked = f"{given[:3]}{'*' * max(0, len(given) - 7)}{given[-4:]}"
    return error(
        f"Incorrect API key provided: {masked}. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        401,
        code="invalid_api_key",
    )


def video_object(job: Job) -> dict[str, Any]:
    now = time.monotonic()
    state = job.state(now)
    created = int(time.time() - (now - job.created))
    return {
        "id": job.id,
        "object": "video",
        "model": job.extra["model"],
        "status": state,
        "progress": job.progress(now),
        "created_at": created,
        "completed_at": created + int(job.duration_s) if state == "completed" else None,
        "expires_at": created + 3600 if state == "completed" else None,
        "prompt": job.prompt,
        "size": f"{job.width}x{job.height}",
        "seconds": str(job.seconds),
        "remixed_from_video_id": None,
        "error": (
            {"code": "moderation_blocked", "message": job.extra["failure"]}
            if state == "failed"
            else None
        ),
        "quality": "standard",  # the spec's own example carries an undocumented field
    }


def _list(fake: FakeProvider, request: Request) -> Response:
    """`GET /v1/videos`: the account's videos, a page at a time (`limit`, `after`, `order`)."""
    try:
        limit = int(request.query.get("limit", "20"))
    except ValueError:
        return error("Invalid 'limit': expected an integer.", 400, param="limit")
    if not 0 <= limit <= 100:
        return error("Invalid 'limit': must be between 0 and 100.", 400, param="limit")
    order = request.query.get("order", "desc")
    with fake.lock:
        jobs = [job for job in fake.jobs.values() if job.provider == "openai"]
    jobs.sort(key=lambda job: job.created, reverse=order == "desc")
    after = request.query.get("after")
    if after:
        ids = [job.id for job in jobs]
        if after not in ids:
            return error(f"No video found with id '{after}'.", 404, param="after")
        jobs = jobs[ids.index(after) + 1 :]
    page = [video_object(job) for job in jobs[:limit]]
    return Response.json(
        {
            "object": "list",
            "data": page,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
            "has_more": len(jobs) > limit,
        }
    )


def _create(fake: FakeProvider, request: Request) -> Response:
    content_type = request.headers.get("content-type", "")
    image: bytes | None = None
    if is_multipart(content_type):
        fields: dict[str, Any] = {}
        for part in parse_form(content_type, request.body):
            if part.name == "input_reference":
                if part.filename is None:
                    return error("input_reference must be a file", 400, param="input_reference")
                image = part.data
            else:
                fields[part.name] = part.text
    elif content_type.startswith("application/json"):
        fields = request.json()
        if not isinstance(fields, dict):
            return error("We could not parse the JSON body of your request.", 400)
        reference = fields.get("input_reference")
        if reference is not None:
            url = reference.get("image_url", "") if isinstance(reference, dict) else ""
            if not url.startswith("data:image/") or ";base64," not in url:
                return error(
                    "input_reference.image_url must be a URL or data URL",
                    400,
                    param="input_reference",
                )
            image = base64.b64decode(url.split(",", 1)[1])
    else:
        return error("Unsupported content type", 415)
    unknown = sorted(set(fields) - FIELDS)
    if unknown:
        return error(
            f"Unknown parameter: '{unknown[0]}'.", 400, param=unknown[0], code="unknown_parameter"
        )
    prompt = fields.get("prompt")
    if not isinstance(prompt, str) or not 1 <= len(prompt) <= 32000:
        return error("Invalid 'prompt': string must be 1 to 32000 characters.", 400, param="prompt")
    model = fields.get("model", "sora-2")
    if model not in SIZES:
        return error(f"Invalid value for 'model': '{model}'.", 400, param="model")
    seconds = fields.get("seconds", "4")
    if not isinstance(seconds, str):
        return error(
            "Invalid type for 'seconds': expected one of '4', '8', or '12', but got an "
            "integer instead.",
            400,
            param="seconds",
            code="invalid_type",
        )
    if seconds not in SECONDS:
        return error(
            f"Invalid value: '{seconds}'. Supported values are: '4', '8', and '12'.",
            400,
            param="seconds",
            code="invalid_value",
        )
    size = fields.get("size", "720x1280")
    if size not in SIZES[model]:
        return error(
            f"Invalid value: '{size}'. Supported values are: "
            + ", ".join(f"'{s}'" for s in SIZES[model])
            + ".",
            400,
            param="size",
        )
    width, height = (int(n) for n in size.split("x"))
    if image is not None:
        from PIL import Image

        try:
            with Image.open(io.BytesIO(image)) as picture:
                actual = picture.size
        except Exception:
            return error("Invalid image file", 400, param="input_reference")
        if actual != (width, height):
            return error(
                "Inpaint image must match the requested width and height",
                400,
                param="input_reference",
            )
    characters = fields.get("characters") or []
    if not isinstance(characters, list) or len(characters) > 2:
        return error("'characters' takes at most 2 items.", 400, param="characters")
    for item in characters:
        if not isinstance(item, dict) or item.get("id") not in fake.characters:
            return error(f"Character '{item}' not found.", 400, param="characters")
    if fake.faults.rejects("openai", prompt):
        return error(fake.faults.moderation_message, 400, code="moderation_blocked")
    job = fake.new_job(
        "openai",
        prompt,
        width,
        height,
        int(seconds),
        model=model,
        failure=fake.faults.moderation_message,
        characters=[c["id"] for c in characters],
        first_frame=image is not None,
    )
    return Response.json(video_object(job))


def _character(fake: FakeProvider, request: Request) -> Response:
    content_type = request.headers.get("content-type", "")
    if not is_multipart(content_type):
        return error("This endpoint expects multipart/form-data", 400)
    parts = {part.name: part for part in parse_form(content_type, request.body)}
    name = parts.get("name")
    video = parts.get("video")
    if name is None or not 1 <= len(name.text) <= 80:
        return error("'name' must be 1 to 80 characters.", 400, param="name")
    if video is None or video.filename is None or video.data[4:8] != b"ftyp":
        return error("'video' must be an MP4 file.", 400, param="video")
    character = {
        "id": f"char_{uuid.uuid4().hex[:24]}",
        "name": name.text,
        "created_at": int(time.time()),
    }
    with fake.lock:
        fake.characters[character["id"]] = character
        fake.character_uploads[name.text] += 1
    return Response.json(character)

"""fal.ai's queue, storage and CDN as the fake serves them (live-video-apis.md §3).

Queue: `POST /fal/{app_id}` with the model's JSON input -> `{request_id, status_url,
response_url, cancel_url}` (URLs without the app's subpath, as fal returns them); `GET
status_url` -> IN_QUEUE / IN_PROGRESS / COMPLETED; `GET response_url` -> `{"video": {...}}`
or, for a failed request, a 422 whose `detail` says why. Storage, as fal's client uses it:
`POST /fal-rest/storage/auth/token?storage_type=fal-cdn-v3` (key) -> a CDN token;
`POST /fal-cdn/files/upload` (token) -> `{"access_url"}`. CDN files live on another origin
(`localhost` instead of `127.0.0.1`) and need no key.

Each app's input is validated like fal's pydantic models: wrong enum values and unknown
fields are a 422 with FastAPI-style `detail` items; image URLs must point at files the fake
stores. Held to the vendors' shapes (providers-2026-11.md "fal"): Veo reference-to-video
renders "8s" only; Kling takes `prompt` or `multi_prompt` (1 to 6 shots of "3".."15" s adding
up to `duration`, at most 15 s), never both, and elements with a frontal image and 1 to 3
reference images; no Wan app takes `generate_audio`; Seedance reference-to-video takes up to
9 `image_urls` and 3 `audio_urls`, Wan 2.7 up to 4 `reference_image_urls`.
"""

from __future__ import annotations

import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from . import images
from .server import Request, Response

if TYPE_CHECKING:
    from .server import FakeProvider

_VEO = {
    "prompt": str,
    "aspect_ratio": ("16:9", "9:16"),
    "duration": ("4s", "6s", "8s"),
    "resolution": ("720p", "1080p", "4k"),
    "generate_audio": bool,
    "seed": int,
    "negative_prompt": str,
}
_KLING = {
    "prompt": str,
    "multi_prompt": "multi_prompt",
    "shot_type": ("customize", "intelligent"),
    "duration": tuple(str(n) for n in range(3, 16)),
    "aspect_ratio": ("16:9", "9:16", "1:1"),
    "generate_audio": bool,
    "negative_prompt": str,
    "cfg_scale": float,
}
_SEEDANCE = {
    "prompt": str,
    "duration": ("auto", *(str(n) for n in range(4, 16))),
    "resolution": ("480p", "720p"),
    "aspect_ratio": ("auto", "21:9", "16:9", "4:3", "1:1", "3:4", "9:16"),
    "generate_audio": bool,
    "seed": int,
}
_WAN = {
    "prompt": str,
    "duration": ("5", "10", "15"),
    "resolution": ("720p", "1080p"),
    "aspect_ratio": ("16:9", "9:16", "1:1", "4:3", "3:4"),
    "seed": int,
    "negative_prompt": str,
    "audio_url": "url",
}
_WAN27 = {**_WAN, "duration": tuple(range(2, 16))}
APPS: dict[str, tuple[dict[str, Any], dict[str, Any], tuple[str, ...]]] = {
    # app id: (fields, extra fields, required fields)
    images.FLUX_APP: (images.FLUX_FIELDS, {}, ("prompt",)),
    "fal-ai/veo3.1": (_VEO, {}, ("prompt",)),
    "fal-ai/veo3.1/fast": (_VEO, {}, ("prompt",)),
    "fal-ai/veo3.1/image-to-video": (
        _VEO,
        {"image_url": "url", "aspect_ratio": ("auto", "16:9", "9:16")},
        ("prompt", "image_url"),
    ),
    "fal-ai/veo3.1/fast/image-to-video": (
        _VEO,
        {"image_url": "url", "aspect_ratio": ("auto", "16:9", "9:16")},
        ("prompt", "image_url"),
    ),
    # Veo 3.1 reference-to-video renders 8 s only (Vertex's Veo 3.1 page).
    "fal-ai/veo3.1/reference-to-video": (
        _VEO,
        {"image_urls": ("urls", 3), "duration": ("8s",)},
        ("prompt", "image_urls"),
    ),
    "fal-ai/veo3.1/fast/reference-to-video": (
        _VEO,
        {"image_urls": ("urls", 3), "duration": ("8s",)},
        ("prompt", "image_urls"),
    ),
    "fal-ai/kling-video/v3/pro/text-to-video": (_KLING, {}, ()),
    "fal-ai/kling-video/v3/pro/image-to-video": (
        {k: v for k, v in _KLING.items() if k != "aspect_ratio"},
        {"start_image_url": "url", "end_image_url": "url", "elements": "elements"},
        ("start_image_url",),
    ),
    "bytedance/seedance-2.0/fast/text-to-video": (_SEEDANCE, {}, ("prompt",)),
    "bytedance/seedance-2.0/fast/image-to-video": (
        _SEEDANCE,
        {"image_url": "url", "end_image_url": "url"},
        ("prompt", "image_url"),
    ),
    "bytedance/seedance-2.0/fast/reference-to-video": (
        _SEEDANCE,
        {"image_urls": ("urls", 9), "audio_urls": ("urls", 3)},
        ("prompt",),
    ),
    "wan/v2.6/text-to-video": (_WAN, {}, ("prompt",)),
    "wan/v2.6/image-to-video": (_WAN, {"image_url": "url"}, ("prompt", "image_url")),
    "fal-ai/wan/v2.7/text-to-video": (_WAN27, {}, ("prompt",)),
    "fal-ai/wan/v2.7/image-to-video": (_WAN27, {"image_url": "url"}, ("prompt", "image_url")),
    "fal-ai/wan/v2.7/reference-to-video": (
        _WAN27,
        {"reference_image_urls": ("urls", 4)},
        ("prompt", "reference_image_urls"),
    ),
}
_KLING_MAX_SHOTS = 6
_KLING_MAX_SECONDS = 15
_RESOLUTION = {"480p": 480, "720p": 720, "1080p": 1080, "4k": 2160}


def detail(message: Any, status: int, **headers: str) -> Response:
    return Response.json({"detail": message}, status, **headers)


def handle(fake: FakeProvider, request: Request) -> Response:
    path = request.path
    if path.startswith("/fal-media/"):
        return _media(fake, request)
    if path.startswith("/fal-rest/"):
        return _token(fake, request)
    if path.startswith("/fal-cdn/"):
        return _upload(fake, request)
    rest = path.removeprefix("/fal/")
    if "/requests/" in rest:
        app_root, _, tail = rest.partition("/requests/")
        request_id, _, action = tail.partition("/")
        kind = "status" if action == "status" else "result" if action == "" else "cancel"
    elif request.method == "POST":
        app_root, request_id, kind = rest, "", "submit"
    else:
        return detail("Not Found", 404)
    fake.record("fal", kind, request)
    fault = fake.take_fault(kind)
    if fault == 0:
        return Response(0)
    if fault == 429:
        return detail("Too many requests", 429, **{"Retry-After": fake.faults.retry_after})
    if fault:
        return detail("Internal Server Error", fault)
    if request.headers.get("authorization") != f"Key {fake.keys['fal']}":
        return detail("Invalid Key Authorization header format or credentials", 401)
    if kind == "submit":
        return _submit(fake, request, app_root)
    job = fake.jobs.get(request_id)
    if job is None or job.provider != "fal" or job.extra["app_root"] != app_root:
        return detail("Request not found", 404)
    now = time.monotonic()
    state = job.state(now)
    if kind == "status":
        if state == "queued":
            return Response.json(
                {
                    "status": "IN_QUEUE",
                    "queue_position": 0,
                    "response_url": job.extra["response_url"],
                },
                202,
            )
        if state == "in_progress":
            return Response.json(
                {"status": "IN_PROGRESS", "logs": [], "response_url": job.extra["response_url"]},
                202,
            )
        return Response.json(
            {
                "status": "COMPLETED",
                "logs": [],
                "metrics": {"inference_time": job.duration_s},
                "response_url": job.extra["response_url"],
            }
        )
    if kind == "result":
        if state in ("queued", "in_progress"):
            return detail("Request is still in progress", 400)
        if state == "failed":
            return detail(
                [
                    {
                        "loc": ["body", "prompt"],
                        "msg": job.extra["failure"],
                        "type": "content_policy_violation",
                    }
                ],
                422,
            )
        if job.extra["app"] == images.FLUX_APP:
            return images.fal_result(fake, job)
        name = f"{job.id}/output.mp4"
        data = fake.video_bytes(job)
        with fake.lock:
            fake.files[name] = (data, "video/mp4")
        return Response.json(
            {
                "video": {
                    "url": f"{fake.media_root}/files/{name}",
                    "content_type": "video/mp4",
                    "file_name": "output.mp4",
                    "file_size": len(data),
                }
            }
        )
    return detail("Request cannot be cancelled", 400)


def _submit(fake: FakeProvider, request: Request, app_id: str) -> Response:
    spec = APPS.get(app_id)
    if spec is None:
        return detail(f"Application '{app_id}' not found", 404)
    fields, extra, required = spec
    allowed = {**fields, **extra}
    try:
        body = request.json()
    except ValueError:
        return detail("Invalid JSON body", 400)
    if not isinstance(body, dict):
        return detail("Input must be an object", 422)
    problems = []
    for name in required:
        if name not in body:
            problems.append({"loc": ["body", name], "msg": "Field required", "type": "missing"})
    for name, value in body.items():
        rule = allowed.get(name)
        problem = _check(fake, rule, value)
        if rule is None:
            problem = "Extra inputs are not permitted"
        if problem:
            problems.append({"loc": ["body", name], "msg": problem, "type": "value_error"})
    if "multi_prompt" in allowed:
        problems += _kling_shots(body)
    if problems:
        return detail(problems, 422)
    prompt = body.get("prompt") or " ".join(
        str(shot.get("prompt", "")) for shot in body.get("multi_prompt") or ()
    )
    if fake.faults.rejects("fal", prompt):
        return detail(fake.faults.moderation_message, 400)
    width, height = _size(app_id, body)
    seconds = int(str(body.get("duration", "5")).removesuffix("s").replace("auto", "5"))
    if body.get("multi_prompt"):
        seconds = sum(int(shot["duration"]) for shot in body["multi_prompt"])
    owner_alias = "/".join(app_id.split("/")[:2])
    job = fake.new_job(
        "fal",
        prompt,
        width,
        height,
        seconds,
        app=app_id,
        app_root=owner_alias,
        input=body,
        failure=fake.faults.moderation_message,
    )
    base = f"{fake.root}/fal/{owner_alias}/requests/{job.id}"
    job.extra["response_url"] = base
    return Response.json(
        {
            "request_id": job.id,
            "response_url": base,
            "status_url": f"{base}/status",
            "cancel_url": f"{base}/cancel",
        }
    )


def _check(fake: FakeProvider, rule: Any, value: Any) -> str | None:
    if rule is None:
        return None
    if rule is str:
        return None if isinstance(value, str) else "Input should be a valid string"
    if rule is bool:
        return None if isinstance(value, bool) else "Input should be a valid boolean"
    if rule is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else "Input should be a valid integer"
    if rule is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return None if ok else "Input should be a valid number"
    if isinstance(rule, tuple) and rule and rule[0] == "urls":
        if not isinstance(value, list) or not 1 <= len(value) <= rule[1]:
            return f"List should have 1 to {rule[1]} items"
        bad = [url for url in value if not _stored(fake, url)]
        return f"Could not download the file at {bad[0]!r}" if bad else None
    if isinstance(rule, tuple):
        ok = value in rule and isinstance(value, type(rule[0])) and not isinstance(value, bool)
        return None if ok else f"Input should be {', '.join(map(repr, rule))}"
    if rule == "url":
        return None if _stored(fake, value) else f"Could not download the file at {value!r}"
    if rule == "image_size":
        return None if images.flux_size(value) else "Input should be an ImageSize or a size name"
    if rule == "multi_prompt":
        return None  # checked with the rest of the input (`_kling_shots`)
    if rule == "elements":
        # KlingV3ImageElementInput: a frontal image and 1 to 3 reference images.
        if not isinstance(value, list) or not value:
            return "Input should be a non-empty list"
        for element in value:
            if not isinstance(element, dict) or set(element) - {
                "frontal_image_url",
                "reference_image_urls",
            }:
                return "Extra inputs are not permitted"
            references = element.get("reference_image_urls")
            if not isinstance(references, list) or not 1 <= len(references) <= 3:
                return "reference_image_urls: 1-3 images supported. At least one is required"
            urls = [element.get("frontal_image_url"), *references]
            if not all(_stored(fake, url) for url in urls):
                return "Could not download an element image"
        return None
    return "Unknown rule"


def _kling_shots(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Kling's `prompt` / `multi_prompt` rules as fal states them: one or the other; 1 to 6
    shots, each `{prompt, duration}` with a duration "3".."15", together at most 15 s and, with
    a `duration`, adding up to it."""

    def problem(name: str, msg: str) -> dict[str, Any]:
        return {"loc": ["body", name], "msg": msg, "type": "value_error"}

    shots = body.get("multi_prompt")
    if shots is None:
        return [] if body.get("prompt") else [problem("prompt", "Either prompt or multi_prompt")]
    if "prompt" in body:
        return [problem("prompt", "Either prompt or multi_prompt must be provided, not both")]
    if not isinstance(shots, list) or not 1 <= len(shots) <= _KLING_MAX_SHOTS:
        return [problem("multi_prompt", f"List should have 1 to {_KLING_MAX_SHOTS} items")]
    total = 0
    for shot in shots:
        if not isinstance(shot, dict) or set(shot) - {"prompt", "duration"}:
            return [problem("multi_prompt", "Extra inputs are not permitted")]
        if not isinstance(shot.get("prompt"), str) or not shot["prompt"]:
            return [problem("multi_prompt", "Each shot needs a prompt")]
        if shot.get("duration", "5") not in _KLING["duration"]:
            return [problem("multi_prompt", "A shot lasts '3' to '15' seconds")]
        total += int(shot.get("duration", "5"))
    if total > _KLING_MAX_SECONDS:
        return [problem("multi_prompt", f"The shots last {total} s; at most 15")]
    if "duration" in body and int(body["duration"]) != total:
        return [problem("duration", f"The shots last {total} s, not {body['duration']}")]
    return []


def _stored(fake: FakeProvider, url: Any) -> bool:
    if not isinstance(url, str):
        return False
    prefix = f"{fake.media_root}/files/"
    return url.startswith(prefix) and url.removeprefix(prefix) in fake.files


def _size(app_id: str, body: dict[str, Any]) -> tuple[int, int]:
    if app_id == images.FLUX_APP:
        return images.flux_size(body.get("image_size", "landscape_4_3")) or (1024, 768)
    short = _RESOLUTION.get(body.get("resolution", ""), 1080 if "kling" in app_id else 720)
    aspect = body.get("aspect_ratio", "16:9")
    if aspect in ("auto", None):
        aspect = "16:9"
    w, h = (int(n) for n in aspect.split(":"))
    if w >= h:
        return (round(short * w / h) // 2 * 2, short)
    return (short, round(short * h / w) // 2 * 2)


def _token(fake: FakeProvider, request: Request) -> Response:
    fake.record("fal", "token", request)
    if request.path != "/fal-rest/storage/auth/token" or request.method != "POST":
        return detail("Not Found", 404)
    if request.query.get("storage_type") != "fal-cdn-v3":
        return detail("Unknown storage type", 400)
    if request.headers.get("authorization") != f"Key {fake.keys['fal']}":
        return detail("Invalid Key Authorization header format or credentials", 401)
    token = secrets.token_hex(16)
    with fake.lock:
        fake.cdn_tokens.add(token)
    expires = datetime.now(UTC) + timedelta(hours=1)
    return Response.json(
        {
            "token": token,
            "token_type": "Bearer",
            "base_url": f"{fake.root}/fal-cdn",
            "expires_at": expires.isoformat(),
        }
    )


def _upload(fake: FakeProvider, request: Request) -> Response:
    fake.record("fal", "upload", request)
    fault = fake.take_fault("upload")
    if fault == 0:
        return Response(0)
    if fault == 429:
        return detail("Too many requests", 429, **{"Retry-After": fake.faults.retry_after})
    if fault:
        return detail("Internal Server Error", fault)
    if request.path != "/fal-cdn/files/upload" or request.method != "POST":
        return detail("Not Found", 404)
    auth = request.headers.get("authorization", "")
    if not auth.startswith("Bearer ") or auth.removeprefix("Bearer ") not in fake.cdn_tokens:
        return detail("Invalid CDN token", 401)
    name = request.headers.get("x-fal-file-name") or "upload.bin"
    if "%" in name:  # fal-client sends the name raw; a quoted one would be stored quoted
        return detail("X-Fal-File-Name must be the raw file name", 400)
    key = f"upload/{uuid.uuid4().hex}/{name}"
    content_type = request.headers.get("content-type", "application/octet-stream")
    with fake.lock:
        fake.files[key] = (request.body, content_type)
    return Response.json(
        {"access_url": f"{fake.media_root}/files/{key}", "content_type": content_type}
    )


def _media(fake: FakeProvider, request: Request) -> Response:
    fake.record("fal", "download", request)
    name = request.path.removeprefix("/fal-media/files/")
    stored = fake.files.get(name)
    if stored is None:
        return detail("Not Found", 404)
    data, content_type = stored
    if content_type == "video/mp4":
        fault = fake.take_fault("download")
        if fault == 0:
            return Response(0)
        if fault:
            return detail("Bad Gateway", fault)
        return fake.video_response(data)
    return Response(200, data, {"Content-Type": content_type})

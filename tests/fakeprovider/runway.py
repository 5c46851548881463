"""Runway's API as the fake serves it (runwayml 5.24.0; docs.dev.runwayml.com).

    POST /runway/v1/text_to_video, /runway/v1/image_to_video  -> {"id"}
    POST /runway/v1/recipes/multi_shot_video (custom mode)  -> {"id", "estimatedCost"}
    GET  /runway/v1/tasks/{id}   -> PENDING / RUNNING (progress 0..1) / SUCCEEDED (output,
                                    cost) / FAILED (failure, failureCode)
    DELETE /runway/v1/tasks/{id} -> 204, the task CANCELLED
    POST /runway/v1/uploads {filename, type: "ephemeral"} -> {uploadUrl, fields, runwayUri}
    POST http://localhost:PORT/runway-upload/{id}  the form: `fields` + `file` (no key)
    GET  http://localhost:PORT/runway-media/{id}.mp4  the output (another origin: no key)

Every API request needs `Authorization: Bearer KEY` and `X-Runway-Version: 2024-11-06`.
Bodies are checked like the API's own validation, by hand from the SDK's per-model types:
an unknown field, a missing required one, a ratio or a duration the model does not take is a
400 `{"error": ...}`; images must be `runway://` URIs of files uploaded here.
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

from . import images
from .forms import is_multipart, parse_form
from .server import Request, Response

if TYPE_CHECKING:
    from .server import FakeProvider

API_VERSION = "2024-11-06"

_SEEDANCE_RATIOS = (
    "992:432", "864:496", "752:560", "640:640", "560:752", "496:864",
    "1470:630", "1280:720", "1112:834", "960:960", "834:1112", "720:1280",
)  # fmt: skip
_VEO_RATIOS = ("1280:720", "720:1280", "1080:1920", "1920:1080")


def _model(
    ratios: tuple[str, ...],
    durations: Any,
    *,
    audio: bool = True,
    seed: bool = True,
    references: bool = False,
    negative: bool = False,
    multi_prompt: bool = False,
    i2v_ratios: tuple[str, ...] | None = None,
) -> dict[str, dict[str, Any]]:
    """One model's fields for text_to_video and image_to_video: field -> rule."""
    common: dict[str, Any] = {"model": str, "promptText": str, "duration": durations}
    if multi_prompt:  # the SDK's Kling `provider_settings`, alias providerSettings
        common["providerSettings"] = "multi_prompt"
    if negative:  # the SDK's Veo3_1 / Veo3_1Fast `negative_prompt`, alias negativePrompt
        common["negativePrompt"] = str
    if audio:
        common["audio"] = bool
    if seed:
        common["seed"] = int
    t2v = {**common, "ratio": ratios}
    if references:  # Seedance 2: images, and (the SDK's `reference_audio`) voice samples
        t2v["references"] = "references"
        t2v["referenceAudio"] = "reference_audio"
    i2v = {**common, "ratio": i2v_ratios or ratios, "promptImage": "image"}
    return {"text_to_video": t2v, "image_to_video": i2v}


MODELS: dict[str, dict[str, dict[str, Any]]] = {
    "gen4.5": _model(
        ("1280:720", "720:1280"),
        tuple(range(2, 11)),
        audio=False,
        i2v_ratios=("1280:720", "720:1280", "1104:832", "960:960", "832:1104", "1584:672"),
    ),
    "veo3.1": _model(_VEO_RATIOS, (4, 6, 8), negative=True),
    "veo3.1_fast": _model(_VEO_RATIOS, (4, 6, 8), negative=True),
    "kling3.0_pro": _model(
        ("1920:1080", "1080:1920", "1440:1440"), tuple(range(3, 16)), seed=False, multi_prompt=True
    ),
    "kling3.0_standard": _model(
        ("1280:720", "720:1280", "960:960"), tuple(range(3, 16)), seed=False, multi_prompt=True
    ),
    "klingO3_pro": _model(
        ("1920:1080", "1080:1920", "1440:1440"), tuple(range(3, 16)), seed=False, multi_prompt=True
    ),
    "seedance2": _model(
        (*_SEEDANCE_RATIOS, "1920:1080", "1080:1920"), ("auto", *range(4, 16)), references=True
    ),
    "seedance2_fast": _model(_SEEDANCE_RATIOS, ("auto", *range(4, 16)), references=True),
}
MODELS["gen4_image"] = {
    # runwayml 5.24.0 `Gen4Image`: promptText, ratio required; seed, referenceImages.
    "text_to_image": {
        "model": str,
        "promptText": str,
        "ratio": images.RUNWAY_RATIOS,
        "seed": int,
        "referenceImages": "tagged_references",
    }
}
REQUIRED = {
    "text_to_image": ("model", "promptText", "ratio"),
    "text_to_video": ("model", "promptText", "ratio"),
    "image_to_video": ("model", "promptImage"),
}


RECIPE = "/v1/recipes/multi_shot_video"
# runwayml 5.24.0 `recipe_multi_shot_video_params.Variant1` (custom mode).
_RECIPE_FIELDS = {"mode", "version", "shots", "duration", "ratio", "audio", "firstFrame"}
_RECIPE_RATIOS = ("1280:720", "720:1280", "960:960", "1920:1080", "1080:1920", "1440:1440")


def error(message: str, status: int, **headers: str) -> Response:
    return Response.json({"error": message}, status, **headers)


def handle(fake: FakeProvider, request: Request) -> Response:
    path = request.path
    if path.startswith("/runway-upload/"):
        return _receive_upload(fake, request)
    if path.startswith("/runway-media/"):
        return _media(fake, request)
    rest = path.removeprefix("/runway")
    if (
        rest in ("/v1/text_to_video", "/v1/image_to_video", "/v1/text_to_image", RECIPE)
        and request.method == "POST"
    ):
        kind = "submit"
    elif rest == "/v1/uploads" and request.method == "POST":
        kind = "upload-start"
    elif rest.startswith("/v1/tasks/") and request.method == "GET":
        kind = "status"
    elif rest.startswith("/v1/tasks/") and request.method == "DELETE":
        kind = "cancel"
    else:
        return error("Not found", 404)
    fake.record("runway", kind, request)
    fault = fake.take_fault(kind)
    if fault == 0:
        return Response(0)
    if fault == 429:
        return error("Too many requests", 429, **{"Retry-After": fake.faults.retry_after})
    if fault:
        return error("Internal server error", fault)
    if request.headers.get("authorization") != f"Bearer {fake.keys['runway']}":
        return error("Incorrect API key provided", 401)
    if request.headers.get("x-runway-version") != API_VERSION:
        return error(f"X-Runway-Version must be {API_VERSION}", 400)
    if kind == "submit" and rest == RECIPE:
        return _submit_recipe(fake, request)
    if kind == "submit":
        return _submit(fake, request, rest.removeprefix("/v1/"))
    if kind == "upload-start":
        return _start_upload(fake, request)
    job = fake.jobs.get(rest.removeprefix("/v1/tasks/"))
    if job is None or job.provider != "runway":
        return error("Task not found", 404)
    if kind == "cancel":
        job.extra["cancelled"] = True
        return Response(204)
    return Response.json(_task(fake, job))


def _submit(fake: FakeProvider, request: Request, endpoint: str) -> Response:
    try:
        body = request.json()
    except ValueError:
        return error("Invalid JSON body", 400)
    if not isinstance(body, dict):
        return error("Body must be an object", 400)
    spec = MODELS.get(body.get("model", ""), {}).get(endpoint)
    if spec is None:
        return error(f"Model {body.get('model')!r} is not available on {endpoint}", 400)
    required = REQUIRED[endpoint]
    if "providerSettings" in spec and endpoint == "text_to_video":
        # Kling's text_to_video needs no promptText beside a `customize` multiPrompt.
        required = ("model", "ratio")
    for name in required:
        if name not in body:
            return error(f"Validation of body failed: `{name}` is required", 400)
    for name, value in body.items():
        rule = spec.get(name)
        if rule is None:
            return error(f"Validation of body failed: unrecognized key `{name}`", 400)
        problem = _check(fake, rule, value)
        if problem:
            return error(f"Validation of body failed: `{name}` {problem}", 400)
    segments = body.get("providerSettings", {}).get("multiPrompt", [])
    prompt = body.get("promptText") or "\n".join(str(seg["prompt"]) for seg in segments)
    if not prompt:
        return error("Validation of body failed: `promptText` or `multiPrompt` is required", 400)
    limit = 3500 if body["model"].startswith("seedance") else 1000
    if body["model"] in ("gen4.5", "veo3.1", "veo3.1_fast", "seedance2", "seedance2_fast") and (
        len(prompt.encode("utf-16-le")) // 2 > limit
    ):
        return error(f"Validation of body failed: `promptText` is longer than {limit}", 400)
    if fake.faults.rejects("runway", prompt):
        return error(fake.faults.moderation_message, 400)
    width, height = (int(n) for n in str(body.get("ratio", "1280:720")).split(":"))
    duration = body.get("duration", 5)
    seconds = 5 if duration == "auto" else int(duration)
    job = fake.new_job("runway", prompt, width, height, seconds, endpoint=endpoint, input=body)
    return Response.json({"id": job.id})


def _submit_recipe(fake: FakeProvider, request: Request) -> Response:
    """The multi-shot recipe in custom mode, validated as the SDK types it: 3 to 5 shots of
    `{prompt, duration}` whose durations sum to `duration` (5, 10 or 15; default 10)."""
    try:
        body = request.json()
    except ValueError:
        return error("Invalid JSON body", 400)
    if not isinstance(body, dict):
        return error("Body must be an object", 400)
    problem = _recipe_problem(fake, body)
    if problem:
        return error(f"Validation of body failed: {problem}", 400)
    prompt = "\n".join(shot["prompt"] for shot in body["shots"])
    if fake.faults.rejects("runway", prompt):
        return error(fake.faults.moderation_message, 400)
    width, height = (int(n) for n in str(body.get("ratio", "1280:720")).split(":"))
    seconds = body.get("duration", 10)
    job = fake.new_job(
        "runway", prompt, width, height, seconds, endpoint="multi_shot_video", input=body
    )
    return Response.json({"id": job.id, "estimatedCost": {"credits": 10 * seconds}})


def _recipe_problem(fake: FakeProvider, body: dict[str, Any]) -> str | None:
    unknown = sorted(set(body) - _RECIPE_FIELDS)
    if unknown:
        return f"unrecognized key `{unknown[0]}`"
    if body.get("mode") != "custom":
        return "`mode` must be custom (auto takes a `prompt`)"
    if body.get("version") not in ("2026-06", "unsafe-latest"):
        return "`version` must be 2026-06 or unsafe-latest"
    duration = body.get("duration", 10)
    if _check(fake, (5, 10, 15), duration):
        return "`duration` must be one of 5, 10, 15"
    if "ratio" in body and _check(fake, _RECIPE_RATIOS, body["ratio"]):
        return f"`ratio` must be one of {', '.join(_RECIPE_RATIOS)}"
    if "audio" in body and not isinstance(body["audio"], bool):
        return "`audio` must be a boolean"
    if "firstFrame" in body:
        frame = body["firstFrame"]
        if not isinstance(frame, dict) or set(frame) != {"uri"} or not _stored(fake, frame["uri"]):
            return "`firstFrame` must be an object {uri} of an uploaded image"
    shots = body.get("shots")
    if not isinstance(shots, list) or not 3 <= len(shots) <= 5:
        return "`shots` must list 3 to 5 shots"
    for shot in shots:
        if not isinstance(shot, dict) or set(shot) != {"prompt", "duration"}:
            return "each shot must be {prompt, duration}"
        if _check(fake, str, shot["prompt"]) or _check(fake, int, shot["duration"]):
            return "a shot's prompt must be text and its duration an integer"
        if shot["duration"] < 1:
            return "a shot's duration must be at least 1"
    if sum(shot["duration"] for shot in shots) != duration:
        return f"the shots' durations must sum to `duration` ({duration})"
    return None


def _check(fake: FakeProvider, rule: Any, value: Any) -> str | None:
    if rule is str:
        return None if isinstance(value, str) and value else "must be a non-empty string"
    if rule is bool:
        return None if isinstance(value, bool) else "must be a boolean"
    if rule is int:
        ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 4294967295
        return None if ok else "must be an integer from 0 to 4294967295"
    if isinstance(rule, tuple):
        ok = value in rule and type(value) in {type(v) for v in rule}
        return None if ok else f"must be one of {', '.join(map(str, rule))}"
    if rule == "image":
        return None if _stored(fake, value) else "must be an uploaded image"
    if rule == "references":
        if not isinstance(value, list) or not 1 <= len(value) <= 9:
            return "must list 1 to 9 images"
        for item in value:
            if not isinstance(item, dict) or set(item) != {"uri"} or not _stored(fake, item["uri"]):
                return "must be objects {uri} of uploaded images"
        return None
    if rule == "reference_audio":
        # runwayml 5.24.0 `Seedance2ReferenceAudio`: {type: "audio", uri}; no count given.
        if not isinstance(value, list) or not value:
            return "must list audio references"
        for item in value:
            if not isinstance(item, dict) or set(item) != {"type", "uri"}:
                return "must be objects {type, uri}"
            if item["type"] != "audio" or not _stored(fake, item["uri"]):
                return "must be objects {type: audio, uri} of uploaded audio"
        return None
    if rule == "multi_prompt":
        return _multi_prompt_problem(value)
    if rule == "tagged_references":
        return images.runway_references_problem(value, lambda uri: _stored(fake, uri))
    return "has an unknown rule"


def _multi_prompt_problem(value: Any) -> str | None:
    """Kling's `providerSettings` on Runway: `multiPrompt` segments of `{prompt, duration}`
    summing to 3-15 s, `shotType` intelligence or customize."""
    if not isinstance(value, dict) or not set(value) <= {"multiPrompt", "shotType"}:
        return "must be an object {multiPrompt, shotType}"
    if value.get("shotType", "customize") not in ("intelligence", "customize"):
        return "shotType must be intelligence or customize"
    segments = value.get("multiPrompt")
    if not isinstance(segments, list) or not segments:
        return "multiPrompt must list the segments"
    for segment in segments:
        if not isinstance(segment, dict) or set(segment) != {"prompt", "duration"}:
            return "each multiPrompt segment must be {prompt, duration}"
        duration = segment["duration"]
        if not isinstance(segment["prompt"], str) or not segment["prompt"]:
            return "a segment's prompt must be text"
        if not isinstance(duration, int) or isinstance(duration, bool) or duration < 1:
            return "a segment's duration must be a positive integer"
    if not 3 <= sum(segment["duration"] for segment in segments) <= 15:
        return "the segments must last 3 to 15 seconds in all"
    return None


def _stored(fake: FakeProvider, uri: Any) -> bool:
    if not isinstance(uri, str) or not uri.startswith("runway://uploads/"):
        return False
    return f"runway/{uri.removeprefix('runway://uploads/')}" in fake.files


def _task(fake: FakeProvider, job: Any) -> dict[str, Any]:
    now = time.monotonic()
    created = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    task: dict[str, Any] = {"id": job.id, "createdAt": created}
    credits = 10 * job.seconds
    if job.extra.get("cancelled"):
        return task | {"status": "CANCELLED", "cost": {"credits": 0}}
    state = job.state(now)
    if state == "queued":
        return task | {"status": "PENDING", "estimatedCost": {"credits": credits}}
    if state == "in_progress":
        return task | {
            "status": "RUNNING",
            "progress": round(job.progress(now) / 100, 2),
            "estimatedCost": {"credits": credits},
        }
    if state == "failed":
        return task | {
            "status": "FAILED",
            "failure": fake.faults.moderation_message,
            "failureCode": "SAFETY.INPUT.TEXT",
            "cost": {"credits": 0},
        }
    if job.extra.get("endpoint") == "text_to_image":
        return task | {"status": "SUCCEEDED", "output": [images.runway_output(fake, job)]}
    name = f"runway/{job.id}.mp4"
    with fake.lock:
        if name not in fake.files:
            fake.files[name] = (fake.video_bytes(job), "video/mp4")
    return task | {
        "status": "SUCCEEDED",
        "output": [f"{fake.other_origin}/runway-media/{job.id}.mp4?_jwt=signed"],
        "cost": {"credits": credits},
    }


def _start_upload(fake: FakeProvider, request: Request) -> Response:
    try:
        body = request.json()
    except ValueError:
        return error("Invalid JSON body", 400)
    if not isinstance(body, dict) or set(body) != {"filename", "type"}:
        return error("Validation of body failed: expected {filename, type}", 400)
    if body["type"] != "ephemeral" or not isinstance(body["filename"], str):
        return error("Validation of body failed: `type` must be ephemeral", 400)
    upload = uuid.uuid4().hex
    with fake.lock:
        fake.pending_uploads[upload] = body["filename"]
    return Response.json(
        {
            "uploadUrl": f"{fake.other_origin}/runway-upload/{upload}",
            "fields": {"key": f"uploads/{upload}", "policy": "ZmFrZS1wb2xpY3k="},
            "runwayUri": f"runway://uploads/{upload}",
        }
    )


def _receive_upload(fake: FakeProvider, request: Request) -> Response:
    fake.record("runway", "upload", request)
    fault = fake.take_fault("upload")
    if fault == 0:
        return Response(0)
    if fault:
        return error("Service unavailable", fault)
    if "authorization" in request.headers or "x-runway-version" in request.headers:
        return error("the upload host must not see the API key", 400)
    upload = request.path.removeprefix("/runway-upload/")
    with fake.lock:
        filename = fake.pending_uploads.pop(upload, None)
    content_type = request.headers.get("content-type", "")
    if filename is None or request.method != "POST" or not is_multipart(content_type):
        return error("Invalid upload", 400)
    parts = {part.name: part for part in parse_form(content_type, request.body)}
    if set(parts) != {"key", "policy", "file"} or parts["key"].text != f"uploads/{upload}":
        return error("The form must carry the fields given and the file", 400)
    if parts["file"].filename != filename or not parts["file"].data:
        return error("The file part must carry the file named at upload start", 400)
    with fake.lock:
        fake.files[f"runway/{upload}"] = (parts["file"].data, parts["file"].content_type)
    return Response(204)


def _media(fake: FakeProvider, request: Request) -> Response:
    fake.record("runway", "download", request)
    if "authorization" in request.headers or "x-runway-version" in request.headers:
        return error("the CDN must not see the API key", 400)
    stored = fake.files.get("runway/" + request.path.removeprefix("/runway-media/"))
    if stored is None:
        return error("Not found", 404)
    fault = fake.take_fault("download")
    if fault == 0:
        return Response(0)
    if fault:
        return error("Bad gateway", fault)
    return fake.video_response(stored[0])

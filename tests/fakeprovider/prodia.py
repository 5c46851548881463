"""Prodia's v2 job API as the fake serves it (video-apis.md §3, live-video-apis.md §2).

`POST /prodia/v2/job` blocks until the job is done and answers multipart (`job` JSON part +
`output` MP4 part) for `Accept: multipart/form-data; video/mp4`. `POST /prodia/v2/job/async`
answers 201 with the job JSON; then `job.state.current` (plain text), `job.json`, `output`
(a JSON list of file names) and `output/video.mp4`. Bodies are JSON `{"type", "config"}` or
multipart with a `job` part and `input` parts; `config.image` must name an input's filename.
Configs are checked like the published schemas (`additionalProperties: false`); errors are
the job JSON with an `error` string.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .forms import is_multipart, parse_form
from .server import Request, Response

if TYPE_CHECKING:
    from .server import FakeProvider, Job

_SORA = {
    "prompt": ("text", 3, 4096),
    "aspect_ratio": ("16:9", "9:16"),
    "duration": (4, 8, 12),
    "seed": ("int", 1, 2_147_483_647),
}
_SORA_PRO = {**_SORA, "resolution": ("720p", "1080p")}
# The one published Veo schema (inference.veo.img2vid.v1, `unevaluatedProperties: false`):
# no `duration` (Veo renders 8 s), `resolution` + `aspect_ratio` as one of (1080p, 16:9) or
# (720p, 16:9 | 9:16). The other Veo types are held to it too.
_VEO = {
    "prompt": ("text", 0, 2500),
    "aspect_ratio": ("16:9", "9:16"),
    "resolution": ("720p", "1080p"),
    "generate_audio": "bool",
    "seed": ("int", 0, 2_147_483_647),
}
VEO_SECONDS = 8
TYPES: dict[str, dict[str, Any]] = {
    "inference.sora-2.txt2vid.v1": _SORA,
    "inference.sora-2.img2vid.v1": {**_SORA, "image": "filename"},
    "inference.sora-2.pro.txt2vid.v1": _SORA_PRO,
    "inference.sora-2.pro.img2vid.v1": {**_SORA_PRO, "image": "filename"},
    "inference.veo.fast.txt2vid.v2": _VEO,
    "inference.veo.fast.img2vid.v1": {**_VEO, "image": "filename"},
    "inference.veo.txt2vid.v2": _VEO,
    "inference.veo.img2vid.v2": {**_VEO, "image": "filename"},
}
_ASYNC = re.compile(r"^/prodia/v2/job/async/(?P<id>[^/]+)/(?P<what>.+)$")


def job_json(
    job_type: str,
    config: dict[str, Any],
    *,
    job_id: str | None = None,
    error: str | None = None,
    state: str | None = None,
) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    body: dict[str, Any] = {"type": job_type, "config": config}
    if job_id:
        body |= {
            "id": job_id,
            "created_at": now,
            "updated_at": now,
            "expires_at": now,
            "metrics": {"elapsed": 0.0},
        }
    if state:
        body["state"] = {"current": state}
    if error:
        body["error"] = error
    return body


def failure(message: str, status: int, **headers: str) -> Response:
    return Response.json({"error": message}, status, **headers)


def handle(fake: FakeProvider, request: Request) -> Response:
    path = request.path
    if request.method == "POST" and path in ("/prodia/v2/job", "/prodia/v2/job/async"):
        kind = "submit"
    elif request.method == "GET" and (match := _ASYNC.match(path)):
        what = match.group("what")
        kind = (
            "status"
            if what == "job.state.current"
            else "download"
            if what.startswith("output/")
            else "result"
        )
    else:
        return failure("Not Found", 404)
    fake.record("prodia", kind, request)
    fault = fake.take_fault(kind)
    if fault == 0:
        return Response(0)
    if fault == 429:
        return failure("Too Many Requests", 429, **{"Retry-After": fake.faults.retry_after})
    if fault:
        return failure("Internal Server Error", fault)
    if request.headers.get("authorization") != f"Bearer {fake.keys['prodia']}":
        return failure("Unauthorized", 401)
    if kind == "submit":
        return _submit(fake, request, sync=path == "/prodia/v2/job")
    match = _ASYNC.match(path)
    assert match is not None
    job = fake.jobs.get(match.group("id"))
    if job is None or job.provider != "prodia":
        return failure("Job not found or expired", 404)
    state = job.state(time.monotonic())
    prodia_state = {"completed": "processed", "failed": "failed"}.get(state, "processing")
    what = match.group("what")
    if what == "job.state.current":
        return Response.text(prodia_state)
    if what == "job.json":
        error = job.extra["failure"] if state == "failed" else None
        return Response.json(
            job_json(
                job.extra["type"],
                job.extra["config"],
                job_id=job.id,
                error=error,
                state=prodia_state,
            )
        )
    if prodia_state != "processed":
        return failure("Job has no output yet", 404)
    if what == "output":
        return Response.json(["video.mp4"])
    if what == "output/video.mp4":
        return fake.video_response(fake.video_bytes(job))
    return failure("Not Found", 404)


def _submit(fake: FakeProvider, request: Request, *, sync: bool) -> Response:
    content_type = request.headers.get("content-type", "")
    inputs: set[str] = set()
    try:
        if is_multipart(content_type):
            parts = parse_form(content_type, request.body)
            jobs = [p for p in parts if p.name == "job"]
            if len(jobs) != 1:
                return failure("a multipart job needs exactly one `job` part", 400)
            job = json.loads(jobs[0].data)
            inputs = {p.filename for p in parts if p.name == "input" and p.filename}
            if len(inputs) != sum(1 for p in parts if p.name == "input"):
                return failure("every `input` part needs its own filename", 400)
        else:
            job = request.json()
    except ValueError:
        return failure("the job is not valid JSON", 400)
    job_type = job.get("type") if isinstance(job, dict) else None
    config = job.get("config", {}) if isinstance(job, dict) else {}
    schema = TYPES.get(job_type or "")
    if schema is None:
        return failure(f"unknown job type {job_type!r}", 400)
    extra = set(job) - {"type", "config"}
    if extra:
        return Response.json(
            job_json(job_type, config, error=f"unknown field {sorted(extra)[0]}"), 400
        )
    problem = _check(schema, config, inputs)
    if problem:
        return Response.json(job_json(job_type, config, error=problem), 400)
    if not sync and job_type in fake.faults.prodia_sync_only:
        return Response.json(
            job_json(job_type, config, error="this job type doesn't support async"), 400
        )
    if fake.faults.rejects("prodia", config["prompt"]):
        return Response.json(job_json(job_type, config, error=fake.faults.moderation_message), 400)
    width, height = _size(config)
    record = fake.new_job(
        "prodia",
        config["prompt"],
        width,
        height,
        int(config.get("duration", VEO_SECONDS if job_type.startswith("inference.veo") else 4)),
        type=job_type,
        config=config,
        failure=fake.faults.moderation_message,
    )
    if not sync:
        return Response.json(job_json(job_type, config, job_id=record.id, state="processing"), 201)
    return _sync_answer(fake, request, record)


def _sync_answer(fake: FakeProvider, request: Request, job: Job) -> Response:
    time.sleep(max(0.0, job.created + job.duration_s - time.monotonic()))
    if job.fails:
        return Response.json(
            job_json(
                job.extra["type"], job.extra["config"], job_id=job.id, error=job.extra["failure"]
            ),
            400,
        )
    accept = request.headers.get("accept", "")
    if not accept.startswith("multipart/form-data"):
        return failure("this fake answers video jobs as multipart only", 406)
    boundary = uuid.uuid4().hex
    meta = json.dumps(job_json(job.extra["type"], job.extra["config"], job_id=job.id))
    body = b"".join(
        [
            f"--{boundary}\r\n".encode(),
            b'Content-Disposition: form-data; name="job"; filename="job.json"\r\n',
            b"Content-Type: application/json\r\n\r\n",
            meta.encode(),
            b"\r\n",
            f"--{boundary}\r\n".encode(),
            b'Content-Disposition: form-data; name="output"; filename="video.mp4"\r\n',
            b"Content-Type: video/mp4\r\n\r\n",
            fake.video_bytes(job),
            b"\r\n",
            f"--{boundary}--\r\n".encode(),
        ]
    )
    return Response(200, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})


def _check(schema: dict[str, Any], config: Any, inputs: set[str]) -> str | None:
    if not isinstance(config, dict):
        return "config must be an object"
    if "prompt" not in config:
        return "config.prompt is required"
    for name, value in config.items():
        rule = schema.get(name)
        if rule is None:
            return f"config: additional property {name!r} is not allowed"
        if rule == "filename":
            if value not in inputs:
                return f"config.{name}: no input part named {value!r}"
        elif rule == "bool":
            if not isinstance(value, bool):
                return f"config.{name} must be a boolean"
        elif isinstance(rule, tuple) and rule and rule[0] == "text":
            if not isinstance(value, str) or not rule[1] <= len(value) <= rule[2]:
                return f"config.{name} must be {rule[1]} to {rule[2]} characters"
        elif isinstance(rule, tuple) and rule and rule[0] == "int":
            if (
                not isinstance(value, int)
                or isinstance(value, bool)
                or not (rule[1] <= value <= rule[2])
            ):
                return f"config.{name} must be an integer from {rule[1]} to {rule[2]}"
        elif value not in rule or isinstance(value, bool):
            return f"config.{name} must be one of {list(rule)}"
        if name == "duration" and not isinstance(value, int):
            return "config.duration must be an integer"
    if "image" in schema and "image" not in config:
        return "config.image is required"
    veo = "generate_audio" in schema  # Sora's types have no sound switch
    if veo and config.get("resolution") == "1080p" and config.get("aspect_ratio") == "9:16":
        return "config: 1080p is rendered in 16:9 only"
    return None


def _size(config: dict[str, Any]) -> tuple[int, int]:
    short = 1080 if config.get("resolution") == "1080p" else 720
    long = short * 16 // 9
    return (long, short) if config.get("aspect_ratio", "16:9") == "16:9" else (short, long)

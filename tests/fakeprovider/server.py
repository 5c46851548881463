"""A fake video provider on 127.0.0.1 that speaks OpenAI's, fal's, Prodia's and Runway's
protocols.

One server, several prefixes:

    http://127.0.0.1:PORT/v1        OpenAI Videos API          (OPENAI_BASE_URL)
    http://127.0.0.1:PORT/fal       fal queue                  (FAL_QUEUE_URL)
    http://127.0.0.1:PORT/fal-rest  fal REST (storage tokens)  (FAL_REST_URL)
    http://127.0.0.1:PORT/fal-cdn   fal storage uploads        (FAL_CDN_URL)
    http://localhost:PORT/fal-media fal's CDN files (another origin on purpose: no key there)
    http://127.0.0.1:PORT/prodia    Prodia v2 job API          (PRODIA_URL)
    http://127.0.0.1:PORT/runway    Runway API                 (RUNWAYML_BASE_URL)
    http://localhost:PORT/runway-upload, /runway-media  Runway's upload host and CDN (no key)
    http://127.0.0.1:PORT/_fake     control: stats and faults as JSON (for a subprocess server)

Jobs take `faults.job_seconds` and their videos are real MP4 files of the requested size and
length. The server counts submits per (provider, prompt) so tests can assert that every clip
was submitted exactly once, and records every request for header checks (with its body
for submits, to compare with `plan.json`).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .media import make_mp4

DEFAULT_KEYS = {
    "openai": "sk-fake-openai-0123456789abcdefXYZ",
    "fal": "fal-fake-key-0123456789abcdef:secretpart",
    "prodia": "prodia-fake-token-0123456789abcdef",
    "runway": "key_fake-runway-0123456789abcdef0123",
}
"""The keys the fake accepts unless told otherwise (a test's own key is never a real one)."""


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    """Header names lower-cased."""
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    cut_after: int | None = None
    """Send the full Content-Length but only this many bytes, then hang up."""
    delay_s: float = 0.0

    @classmethod
    def json(cls, payload: Any, status: int = 200, **headers: str) -> Response:
        return cls(
            status,
            json.dumps(payload).encode(),
            {"Content-Type": "application/json", **headers},
        )

    @classmethod
    def text(cls, text: str, status: int = 200) -> Response:
        return cls(status, text.encode(), {"Content-Type": "text/plain; charset=utf-8"})


@dataclass
class Faults:
    """Switches for what goes wrong. Change them between (or during) runs."""

    job_seconds: float = 0.3
    statuses: dict[str, list[int]] = field(default_factory=dict)
    """kind -> HTTP statuses to answer, one per request of that kind, before answering
    normally. Kinds: submit, status, result, download, upload."""
    retry_after: str = "1"
    """`Retry-After` sent with a scripted 429 (seconds)."""
    cut_downloads: int = 0
    """The next N downloads send half the file, then drop the connection."""
    truncated_downloads: int = 0
    """The next N downloads send a cut file whose Content-Length matches (a broken MP4)."""
    fail_marker: str = "FAIL-JOB"
    """A prompt containing this runs, then fails with `moderation_message`."""
    reject_marker: str = "REJECT-JOB"
    """A prompt containing this is refused at submit with `moderation_message`."""
    reject_on: list[str] = field(default_factory=list)
    """The providers that refuse `reject_marker` (empty: every one), to test fallbacks."""
    moderation_message: str = "This request was blocked by the moderation system: real people."
    poll_after_ms: int = 50
    """OpenAI's `openai-poll-after-ms` header."""
    openai_auth: str = "bearer"
    """`bearer` (OpenAI) or `api-key` (Azure style): the header the key must arrive in."""
    prodia_sync_only: list[str] = field(default_factory=list)
    """Prodia job types whose async submit answers 400 "doesn't support async"."""

    after: dict[str, list[int]] = field(default_factory=dict)
    """kind -> HTTP statuses to answer, one per request of that kind, AFTER handling it
    normally: the job exists, then a gateway in front answers 502/504 (0: hangs up)."""

    slow: dict[str, int] = field(default_factory=dict)
    """kind -> how many requests of that kind to answer only after `slow_s`."""
    slow_s: float = 1.0

    def rejects(self, provider: str, prompt: str) -> bool:
        """Whether `provider` refuses this prompt at submit (`reject_marker`, `reject_on`)."""
        return self.reject_marker in prompt and (not self.reject_on or provider in self.reject_on)

    def script(self, kind: str, *statuses: int) -> None:
        """Answer the next requests of `kind` with these statuses (0: hang up, no answer)."""
        self.statuses.setdefault(kind, []).extend(statuses)


@dataclass
class Job:
    id: str
    provider: str
    prompt: str
    width: int
    height: int
    seconds: int
    created: float
    duration_s: float
    fails: bool
    extra: dict[str, Any] = field(default_factory=dict)

    def state(self, now: float) -> str:
        elapsed = now - self.created
        if elapsed < self.duration_s * 0.25:
            return "queued"
        if elapsed < self.duration_s:
            return "in_progress"
        return "failed" if self.fails else "completed"

    def progress(self, now: float) -> int:
        if self.duration_s <= 0:
            return 100
        return min(100, int(100 * (now - self.created) / self.duration_s))


@dataclass
class Seen:
    """One request as the server saw it; the body only for submits (uploads and videos may
    be large), so tests can compare what arrived with what `plan.json` shows."""

    at: float
    provider: str
    kind: str
    method: str
    path: str
    headers: dict[str, str]
    status: int = 0
    body: bytes = b""


class FakeProvider:
    """The server and its state. Use as a context manager, or `start()` / `stop()`."""

    def __init__(
        self,
        *,
        keys: dict[str, str] | None = None,
        media_dir: Path,
        faults: Faults | None = None,
        port: int = 0,
    ):
        self.keys = dict(keys or DEFAULT_KEYS)
        self.media_dir = Path(media_dir)
        self.faults = faults or Faults()
        self.lock = threading.RLock()
        self.jobs: dict[str, Job] = {}
        self.submits: Counter[tuple[str, str]] = Counter()
        self.seen: list[Seen] = []
        self.files: dict[str, tuple[bytes, str]] = {}
        """Uploaded files (fal storage) by id: bytes and content type."""
        self.characters: dict[str, dict[str, Any]] = {}
        self.character_uploads: Counter[str] = Counter()
        self.cdn_tokens: set[str] = set()
        self.pending_uploads: dict[str, str] = {}
        """Runway uploads started and not yet posted: id -> the file name given."""
        self._httpd = _Server(("127.0.0.1", port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.fake = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None
        self._local = threading.local()

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def other_origin(self) -> str:
        """This server under another origin (`localhost`): a host the keys must never reach."""
        return f"http://localhost:{self.port}"

    @property
    def media_root(self) -> str:
        return f"http://localhost:{self.port}/fal-media"

    def env(self, *, keys: bool = True) -> dict[str, str]:
        """Environment variables pointing every renderer at this server."""
        values = {
            "OPENAI_BASE_URL": f"{self.root}/v1",
            "FAL_QUEUE_URL": f"{self.root}/fal",
            "FAL_REST_URL": f"{self.root}/fal-rest",
            "FAL_CDN_URL": f"{self.root}/fal-cdn",
            "PRODIA_URL": f"{self.root}/prodia",
            "RUNWAYML_BASE_URL": f"{self.root}/runway",
        }
        if keys:
            values |= {
                "OPENAI_API_KEY": self.keys["openai"],
                "FAL_KEY": self.keys["fal"],
                "PRODIA_TOKEN": self.keys["prodia"],
                "RUNWAYML_API_SECRET": self.keys["runway"],
            }
        return values

    def start(self) -> FakeProvider:
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget jobs, counts and faults (keeps uploaded files and characters)."""
        with self.lock:
            self.jobs.clear()
            self.submits.clear()
            self.seen.clear()
            self.faults = Faults()

    # -- what tests ask ----------------------------------------------------------------------
    def submit_count(self, prompt: str, provider: str | None = None) -> int:
        with self.lock:
            return sum(
                n
                for (p, text), n in self.submits.items()
                if text == prompt and (provider is None or p == provider)
            )

    def total_submits(self) -> int:
        with self.lock:
            return sum(self.submits.values())

    def requests(self, kind: str | None = None, provider: str | None = None) -> list[Seen]:
        with self.lock:
            return [
                s
                for s in self.seen
                if (kind is None or s.kind == kind) and (provider is None or s.provider == provider)
            ]

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "submits": {f"{p}\t{t}": n for (p, t), n in self.submits.items()},
                "total_submits": sum(self.submits.values()),
                "jobs": len(self.jobs),
                "requests": len(self.seen),
                "character_uploads": dict(self.character_uploads),
            }

    # -- what protocol modules use -----------------------------------------------------------
    def take_fault(self, kind: str) -> int | None:
        """The scripted status for this request of `kind`, if any (after any slow delay)."""
        with self.lock:
            slow = self.faults.slow.get(kind, 0)
            if slow:
                self.faults.slow[kind] = slow - 1
            queue = self.faults.statuses.get(kind)
            status = queue.pop(0) if queue else None
        if slow:
            time.sleep(self.faults.slow_s)
        return status

    def release(self) -> None:
        """Let every job already submitted finish now."""
        with self.lock:
            for job in self.jobs.values():
                job.duration_s = 0.0

    def new_job(
        self, provider: str, prompt: str, width: int, height: int, seconds: int, **extra: Any
    ) -> Job:
        with self.lock:
            job = Job(
                id=uuid.uuid4().hex,
                provider=provider,
                prompt=prompt,
                width=width,
                height=height,
                seconds=seconds,
                created=time.monotonic(),
                duration_s=self.faults.job_seconds,
                fails=self.faults.fail_marker in prompt,
                extra=extra,
            )
            self.jobs[job.id] = job
            self.submits[(provider, prompt)] += 1
            return job

    def video_bytes(self, job: Job) -> bytes:
        return make_mp4(self.media_dir, job.width, job.height, job.seconds).read_bytes()

    def video_response(self, data: bytes) -> Response:
        """An MP4 answer, cut short or truncated when a fault says so."""
        with self.lock:
            cut = self.faults.cut_downloads > 0
            truncated = not cut and self.faults.truncated_downloads > 0
            if cut:
                self.faults.cut_downloads -= 1
            if truncated:
                self.faults.truncated_downloads -= 1
        if truncated:
            data = data[: len(data) // 2]
        response = Response(200, data, {"Content-Type": "video/mp4"})
        if cut:
            response.cut_after = len(data) // 2
        return response

    def handle(self, request: Request) -> Response:
        from . import fal, openai, prodia, runway

        path = request.path
        if path.startswith("/_fake/"):
            return self._control(request)
        for prefix, module in (
            ("/v1/", openai),
            ("/fal-rest/", fal),
            ("/fal-cdn/", fal),
            ("/fal-media/", fal),
            ("/fal/", fal),
            ("/prodia/", prodia),
            ("/runway/", runway),
            ("/runway-upload/", runway),
            ("/runway-media/", runway),
        ):
            if path.startswith(prefix):
                return self._gateway(module.handle(self, request))
        return Response.json({"detail": "Not Found"}, 404)

    def _gateway(self, response: Response) -> Response:
        """The answer as a gateway in front passes it on: maybe lost after the work was done."""
        seen = getattr(self._local, "seen", None)
        if seen is None:
            return response
        with self.lock:
            queue = self.faults.after.get(seen.kind)
            status = queue.pop(0) if queue else None
        if status is None:
            return response
        if status == 0:
            return Response(0)
        return Response.text("upstream request timeout", status)

    def record(self, provider: str, kind: str, request: Request) -> Seen:
        seen = Seen(
            at=time.monotonic(),
            provider=provider,
            kind=kind,
            method=request.method,
            path=request.path,
            headers=dict(request.headers),
            body=request.body if kind == "submit" else b"",
        )
        with self.lock:
            self.seen.append(seen)
        self._local.seen = seen
        return seen

    def finish(self, status: int) -> None:
        """Note the status the current thread's request was answered with."""
        seen = getattr(self._local, "seen", None)
        if seen is not None:
            seen.status = status
            self._local.seen = None

    def _control(self, request: Request) -> Response:
        if request.path == "/_fake/stats":
            return Response.json(self.stats())
        if request.path == "/_fake/faults" and request.method == "POST":
            with self.lock:
                for name, value in request.json().items():
                    setattr(self.faults, name, value)
                return Response.json(asdict(self.faults))
        if request.path == "/_fake/reset" and request.method == "POST":
            self.reset()
            return Response.json({})
        return Response.json({"detail": "Not Found"}, 404)


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and hung up mid-answer is part of the tests, not news.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fakeprovider/1"
    # Headers and body go out in separate writes: with Nagle's algorithm on, each answer
    # would wait ~40 ms for the client's delayed ACK, a latency no real provider adds.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        fake: FakeProvider = self.server.fake  # type: ignore[attr-defined]
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        headers = {k.lower(): v for k, v in self.headers.items()}
        request = Request(self.command, parts.path, query, headers, body)
        try:
            response = fake.handle(request)
        except Exception as exc:  # a bug in the fake must show, not hang the client
            response = Response.json({"detail": f"fake server error: {exc!r}"}, 500)
        if response.delay_s:
            time.sleep(response.delay_s)
        fake.finish(response.status)
        if response.status == 0:  # a scripted hang-up: no answer at all
            self.close_connection = True
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        if response.cut_after is not None:
            self.send_header("Connection", "close")
        self.end_headers()
        if response.cut_after is not None:
            self.wfile.write(response.body[: response.cut_after])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(response.body)

    do_GET = _serve
    do_POST = _serve
    do_PUT = _serve
    do_DELETE = _serve

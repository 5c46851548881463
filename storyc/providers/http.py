"""The HTTP plumbing every paid renderer shares: one client, one retry policy, one download.

`ProviderHTTP` wraps an `httpx.AsyncClient` for one provider and turns the provider's answers
into what the scheduler understands:

- 429 is retried after the provider's own `Retry-After` (or `retry-after-ms`);
- 5xx, 408, timeouts and dropped connections are retried with exponential backoff and jitter
  (tenacity); the base wait comes from `STORYC_RETRY_BASE_S` so tests can make it tiny;
  a request that creates a paid job is retried only where it provably did not arrive
  (see `request`);
- 401/403 become `KeyRefused`, any other 4xx `JobRejected` with the provider's own message
  (OpenAI `error.message`, fal `detail`, Prodia's job `error`);
- when retries run out the result is `ProviderUnavailable`.

The key is attached per request, and only to the provider's own origins: a redirect or a
result URL on another host (a CDN) never sees it. Every message that leaves this module is
passed through `redact` with the key, and through `scrub_key_echo`, which also hides the
partly masked copies some providers echo back ("sk-abc***wxyz").

`download` streams a video to a file, checks the byte count against `Content-Length` and the
MP4's box structure, and fetches again when the file came in cut short.
"""

from __future__ import annotations

import email.utils
import json
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)
from tenacity.wait import wait_base

from storyc.providers.errors import (
    CreateUncertain,
    DownloadIncomplete,
    JobRejected,
    KeyRefused,
    ProviderUnavailable,
    redact,
)

RETRY_BASE_ENV = "STORYC_RETRY_BASE_S"
"""Seconds of the first backoff wait (doubles each try, plus up to as much jitter)."""
RETRY_ATTEMPTS_ENV = "STORYC_RETRY_ATTEMPTS"
"""How many times one request is tried before the provider counts as unavailable."""
TIMEOUT_ENV = "STORYC_HTTP_TIMEOUT_S"
"""Seconds to wait for a provider's answer (or the next bytes of a file) before retrying."""
POLL_INTERVAL_ENV = "STORYC_POLL_INTERVAL_S"
"""Seconds between two status checks when the provider does not say (default 5)."""

_CHUNK = 1 << 16
_MAX_REDIRECTS = 5


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    base_s: float = 1.0
    max_wait_s: float = 60.0
    retry_after_cap_s: float = 300.0
    """A provider asking for a longer pause than this is asked again after this long."""

    @classmethod
    def from_env(cls) -> RetryPolicy:
        return cls(
            attempts=max(1, int(_env_float(RETRY_ATTEMPTS_ENV, cls.attempts))),
            base_s=_env_float(RETRY_BASE_ENV, cls.base_s),
        )


def poll_interval(given: float | None, default_s: float = 5.0) -> float:
    """Seconds between a renderer's status polls: `given`, else the environment's, else 5."""
    return given if given is not None else _env_float(POLL_INTERVAL_ENV, default_s)


def endpoint(given: str | None, env: str, default: str) -> str:
    """A renderer's base URL: `given`, else the environment variable `env` (a test's local
    server, a proxy), else the provider's own; without a trailing slash."""
    return (given or os.environ.get(env) or default).rstrip("/")


def default_timeout() -> httpx.Timeout:
    seconds = _env_float(TIMEOUT_ENV, 60.0)
    return httpx.Timeout(seconds, connect=min(15.0, seconds))


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError:
        return default


class Retryable(Exception):
    """A failure worth another try: 429, 5xx, a timeout, a dropped connection, a cut file."""

    def __init__(self, detail: str, retry_after_s: float | None = None):
        super().__init__(detail)
        self.detail = detail
        self.retry_after_s = retry_after_s


class _WaitForProvider(wait_base):
    """The provider's own `Retry-After` when it gave one, else exponential backoff + jitter."""

    def __init__(self, policy: RetryPolicy):
        self._policy = policy
        # base, 2*base, 4*base... (capped) plus up to `base` of jitter.
        self._backoff = wait_exponential(
            multiplier=policy.base_s, max=policy.max_wait_s
        ) + wait_random(0, policy.base_s)

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, Retryable) and error.retry_after_s is not None:
            return min(max(error.retry_after_s, 0.0), self._policy.retry_after_cap_s)
        return float(self._backoff(retry_state))


def retry_after_s(response: httpx.Response) -> float | None:
    """The pause the provider asks for: `retry-after-ms`, or `Retry-After` (seconds or date)."""
    millis = response.headers.get("retry-after-ms")
    if millis:
        try:
            return float(millis) / 1000
        except ValueError:
            pass
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def provider_message(response: httpx.Response) -> str:
    """The provider's own words for a failure, from whichever shape its error body has.

    OpenAI: `{"error": {"message": ...}}`; fal: `{"detail": "..."}` or a list of
    `{"loc", "msg"}`; Prodia: the job JSON with `error`; anything else: the text itself.
    """
    text = response.text.strip() if response.content else ""
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = None
    found = message_in(body) if body is not None else None
    if found:
        return found
    if text and len(text) <= 500 and "<html" not in text.lower():
        return text
    return f"HTTP {response.status_code} {response.reason_phrase}".strip()


def message_in(body: Any) -> str | None:
    """Find the human message in a decoded JSON error body, or None."""
    if isinstance(body, str):
        return body or None
    if isinstance(body, list):
        parts = [message_in(item) for item in body]
        joined = "; ".join(p for p in parts if p)
        return joined or None
    if not isinstance(body, dict):
        return None
    for field in ("error", "detail", "message", "msg"):
        value = body.get(field)
        if isinstance(value, dict | list):
            inner = message_in(value)
            if inner:
                return inner
        elif isinstance(value, str) and value:
            loc = body.get("loc")
            if field == "msg" and isinstance(loc, list) and loc:
                return f"{'.'.join(str(p) for p in loc)}: {value}"
            return value
    return None


def scrub_key_echo(text: str, secrets: Iterable[str | None]) -> str:
    """Hide the key and any word that carries a piece of it (masked echoes like `sk-ab***yz`)."""
    keys = [s for s in secrets if s]
    text = redact(text, keys)
    words = text.split(" ")
    for index, word in enumerate(words):
        if "***" in word and word != "***":
            words[index] = "***"
            continue
        for key in keys:
            if len(key) >= 8 and any(key[i : i + 8] in word for i in range(len(key) - 7)):
                words[index] = "***"
                break
    return " ".join(words)


def mp4_problem(path: Path) -> str | None:
    """Why the file at `path` is not a whole MP4 (ISO BMFF) file, or None if it is.

    Walks the top-level boxes: the file must start with `ftyp`, hold a `moov` and media
    data, and its boxes must add up to exactly its size, which is what a file cut short
    (however its Content-Length was sent) never does. It reads a few bytes per box, so it
    costs microseconds; the decoder-level check (`storyc.probe`) runs when the file enters
    the cache.
    """
    size = path.stat().st_size
    seen: list[bytes] = []
    offset = 0
    with path.open("rb") as f:
        while offset < size:
            f.seek(offset)
            header = f.read(16)
            if len(header) < 8:
                return f"a box header is cut short at byte {offset}"
            box_size = int.from_bytes(header[:4], "big")
            kind = header[4:8]
            if box_size == 1:
                if len(header) < 16:
                    return f"a box header is cut short at byte {offset}"
                box_size = int.from_bytes(header[8:16], "big")
            elif box_size == 0:
                box_size = size - offset  # the last box runs to the end of the file
            if box_size < 8:
                return f"a box of {box_size} bytes at byte {offset}"
            if offset + box_size > size:
                missing = offset + box_size - size
                return f"the `{kind.decode('latin-1')}` box lacks {missing} bytes"
            seen.append(kind)
            offset += box_size
    if not seen or seen[0] != b"ftyp":
        return "it does not start with an `ftyp` box"
    if b"moov" not in seen:
        return "it has no `moov` box"
    if b"mdat" not in seen and b"moof" not in seen:
        return "it has no media data"
    return None


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class ProviderHTTP:
    """One provider's HTTP connection: auth on its own origins only, retries, downloads."""

    def __init__(
        self,
        provider: str,
        *,
        auth_headers: Mapping[str, str],
        trusted_origins: Iterable[str],
        secrets: Iterable[str],
        policy: RetryPolicy | None = None,
        timeout: httpx.Timeout | None = None,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        message_of: Callable[[httpx.Response], str] = provider_message,
    ):
        self.provider = provider
        self._message_of = message_of
        self.policy = policy or RetryPolicy.from_env()
        self._auth_headers = dict(auth_headers)
        self._trusted = {origin(o) for o in trusted_origins}
        self._secrets = [s for s in secrets if s]
        self._client = httpx.AsyncClient(
            headers={"User-Agent": "storyc", **(headers or {})},
            timeout=timeout or default_timeout(),
            follow_redirects=False,
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    def add_secret(self, value: str) -> None:
        """Also keep `value` (a short-lived token) out of every message."""
        if value and value not in self._secrets:
            self._secrets.append(value)

    def clean(self, text: str) -> str:
        """`text` with the key (and any echo of it) removed: safe to show or store."""
        return scrub_key_echo(text, self._secrets)

    def trusts(self, url: str) -> bool:
        return origin(url) in self._trusted

    def _headers_for(self, url: str, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = dict(extra or {})
        given = {name.lower() for name in headers}
        if self.trusts(url):
            # An explicit header wins: fal's storage upload carries its own short-lived token.
            headers.update(
                (name, value)
                for name, value in self._auth_headers.items()
                if name.lower() not in given
            )
        return headers

    async def request(
        self,
        method: str,
        url: str,
        *,
        idempotent: bool = True,
        clip: str | None = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send one request, retrying what is worth retrying; return the 2xx response.

        A request that creates a paid job is sent with `idempotent=False`: it is retried only
        when it provably did not reach the provider (no connection could be made, or the
        answer was 429 or 408). A timeout, a hang-up, a 5xx (a gateway may have forwarded it)
        or an answer that is not JSON raise `CreateUncertain`: the job may exist, and sending
        it again could pay for the clip twice.
        """
        try:
            async for attempt in self._retrying():
                with attempt:
                    return await self._send(method, url, idempotent, clip, headers, kwargs)
        except Retryable as exc:
            raise ProviderUnavailable(
                self.provider,
                self.clean(f"{exc.detail} (after {self.policy.attempts} tries)"),
            ) from None
        raise AssertionError("unreachable: tenacity either returns or raises")

    def _retrying(self) -> AsyncRetrying:
        return AsyncRetrying(
            stop=stop_after_attempt(self.policy.attempts),
            wait=_WaitForProvider(self.policy),
            retry=retry_if_exception_type(Retryable),
            reraise=True,
        )

    async def _send(
        self,
        method: str,
        url: str,
        idempotent: bool,
        clip: str | None,
        headers: Mapping[str, str] | None,
        kwargs: dict[str, Any],
    ) -> httpx.Response:
        try:
            response = await self._client.request(
                method, url, headers=self._headers_for(url, headers), **kwargs
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise Retryable(f"could not connect ({type(exc).__name__})") from None
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            if not idempotent:
                raise CreateUncertain(
                    self.provider, f"the connection failed while waiting ({type(exc).__name__})"
                ) from None
            raise Retryable(f"the connection failed ({type(exc).__name__})") from None
        if not idempotent and (response.status_code >= 500):
            # A gateway in front of the provider may have forwarded the request before it
            # failed: the job may exist. Only the provider's own "not taken" is retried.
            await response.aread()
            detail = self.clean(self._message_of(response))
            raise CreateUncertain(self.provider, f"HTTP {response.status_code}: {detail}")
        self.check(response, clip=clip)
        return response

    def check(self, response: httpx.Response, *, clip: str | None = None) -> None:
        """Raise the error a non-2xx answer means (`Retryable` for the ones worth retrying)."""
        status = response.status_code
        if status < 300:
            return
        if status == 429 or status == 408 or status >= 500:
            detail = self.clean(self._message_of(response))
            raise Retryable(f"HTTP {status}: {detail}", retry_after_s(response))
        if status in (401, 403):
            raise KeyRefused(self.provider, self.clean(self._message_of(response)))
        if 300 <= status < 400:
            raise JobRejected(self.provider, f"unexpected redirect (HTTP {status})", clip)
        raise JobRejected(self.provider, self.clean(self._message_of(response)), clip)

    async def json(
        self, method: str, url: str, *, idempotent: bool = True, **kwargs: Any
    ) -> dict[str, Any]:
        """`request` and decode a JSON object body (a garbled body counts as a 5xx)."""
        response = await self.request(method, url, idempotent=idempotent, **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            if not idempotent:
                raise CreateUncertain(self.provider, "the answer was not the JSON expected")
            raise ProviderUnavailable(self.provider, f"{url} answered with something not JSON")
        return body

    async def download(
        self,
        url: str,
        destination: Path,
        *,
        clip: str | None = None,
        accept: str = "*/*",
        problem_of: Callable[[Path], str | None] | None = None,
    ) -> int:
        """Stream the video at `url` into `destination`, check it, and return its size.

        A body shorter than `Content-Length`, a connection dropped mid-file, or bytes that are
        not a whole MP4 are fetched again (backoff as above); if every try fails the result is
        `DownloadIncomplete`. Redirects are followed by hand so the key never leaves its host.
        """
        destination = Path(destination)
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            async for attempt in self._retrying():
                with attempt:
                    size = await self._download_once(url, destination, clip, accept)
                    if problem_of is None:
                        await self._probe(destination)
                    elif (problem := problem_of(destination)) is not None:
                        # Not a video (a keyframe still): the caller's check says what is wrong.
                        raise Retryable(f"the file is not whole ({problem})")
                    return size
        except Retryable as exc:
            destination.unlink(missing_ok=True)
            raise DownloadIncomplete(self.provider, self.clean(exc.detail), clip) from None
        raise AssertionError("unreachable: tenacity either returns or raises")

    async def _download_once(
        self, url: str, destination: Path, clip: str | None, accept: str
    ) -> int:
        for _ in range(_MAX_REDIRECTS + 1):
            request = self._client.build_request(
                "GET",
                url,
                headers=self._headers_for(url, {"Accept": accept, "Accept-Encoding": "identity"}),
            )
            try:
                response = await self._client.send(request, stream=True)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                raise Retryable(f"could not fetch the video ({type(exc).__name__})") from None
            try:
                if response.is_redirect and "location" in response.headers:
                    url = urljoin(url, response.headers["location"])
                    continue
                if response.status_code >= 300:
                    await response.aread()
                    self.check(response, clip=clip)
                return await self._save_body(response, destination)
            finally:
                await response.aclose()
        raise Retryable("too many redirects while fetching the video")

    async def _save_body(self, response: httpx.Response, destination: Path) -> int:
        expected = response.headers.get("content-length")
        received = 0
        try:
            with destination.open("wb") as out:
                async for chunk in response.aiter_raw(_CHUNK):
                    out.write(chunk)
                    received += len(chunk)
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            raise Retryable(
                f"the download was cut short after {received} bytes ({type(exc).__name__})"
            ) from None
        if expected is not None and expected.isdigit() and int(expected) != received:
            raise Retryable(f"the download was cut short: {received} of {expected} bytes")
        if received == 0:
            raise Retryable("the provider sent an empty file")
        return received

    async def _probe(self, path: Path) -> None:
        problem = mp4_problem(path)
        if problem:
            raise Retryable(f"the file is not a whole MP4 ({problem})")

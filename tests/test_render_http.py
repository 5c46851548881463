"""The shared HTTP layer of the paid renderers: error texts, waits, redaction, MP4 checks."""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from storyc.providers.errors import JobRejected, KeyRefused
from storyc.providers.http import (
    ProviderHTTP,
    RetryPolicy,
    mp4_problem,
    provider_message,
    retry_after_s,
    scrub_key_echo,
)


def answer(status: int, body: object = None, **headers: str) -> httpx.Response:
    if isinstance(body, str):
        return httpx.Response(status, text=body, headers=headers)
    return httpx.Response(status, json=body, headers=headers)


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (
            answer(400, {"error": {"message": "Invalid value: '10'.", "code": None}}),
            "Invalid value: '10'.",
        ),
        (answer(422, {"detail": "Request is still in progress"}), "Request is still in progress"),
        (
            answer(422, {"detail": [{"loc": ["body", "duration"], "msg": "Input should be '4s'"}]}),
            "body.duration: Input should be '4s'",
        ),
        (answer(400, {"type": "inference.x", "config": {}, "error": "blocked"}), "blocked"),
        (answer(502, "<html><body>Bad Gateway</body></html>"), "HTTP 502 Bad Gateway"),
        (answer(401, "Unauthorized"), "Unauthorized"),
    ],
)
def test_the_providers_own_words_are_found_in_each_error_shape(
    response: httpx.Response, message: str
) -> None:
    assert provider_message(response) == message


def test_retry_after_reads_milliseconds_seconds_and_dates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert retry_after_s(answer(429, {}, **{"retry-after-ms": "250"})) == 0.25
    assert retry_after_s(answer(429, {}, **{"Retry-After": "3"})) == 3.0
    now = 1_700_000_000.0  # a fixed clock: a date is read against "now", exactly
    monkeypatch.setattr(time, "time", lambda: now)
    date = email.utils.formatdate(now + 10, usegmt=True)
    assert retry_after_s(answer(429, {}, **{"Retry-After": date})) == 10.0
    past = email.utils.formatdate(now - 60, usegmt=True)
    assert retry_after_s(answer(429, {}, **{"Retry-After": past})) == 0.0
    assert retry_after_s(answer(429, {}, **{"Retry-After": "soon"})) is None
    assert retry_after_s(answer(429, {})) is None


def test_the_key_and_masked_echoes_of_it_are_scrubbed() -> None:
    key = "sk-proj-abcdefghijklmnopqrstuvwxyz"
    text = (
        f"Incorrect API key provided: sk-pro*********wxyz. Also {key} and "
        f"a piece: ...{key[5:20]}..."
    )
    cleaned = scrub_key_echo(text, [key])
    assert "wxyz" not in cleaned and key[5:20] not in cleaned and key not in cleaned
    assert cleaned.startswith("Incorrect API key provided: ***")


def test_a_whole_mp4_passes_and_a_cut_one_is_caught(
    tmp_path: Path, mp4: Callable[..., Path]
) -> None:
    whole = mp4()  # the run's shared 1280x720 4 s file: only read here
    assert mp4_problem(whole) is None
    data = whole.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 2 // 3])
    assert "lacks" in (mp4_problem(cut) or "")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"<html>expired</html>")
    assert mp4_problem(junk) is not None


def test_the_key_goes_only_to_the_providers_own_origin_and_errors_are_classified() -> None:
    seen: list[httpx.Request] = []

    def provider(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/refused":
            return answer(401, {"detail": "Invalid Key"})
        if request.url.path == "/rejected":
            return answer(422, {"detail": "prompt: too long"})
        return answer(200, {"ok": True})

    async def run() -> None:
        http = ProviderHTTP(
            "fal",
            auth_headers={"Authorization": "Key secret-key-123456789"},
            trusted_origins=["https://queue.example"],
            secrets=["secret-key-123456789"],
            policy=RetryPolicy(attempts=2, base_s=0.0),
            transport=httpx.MockTransport(provider),
        )
        try:
            await http.request("GET", "https://queue.example/status")
            await http.request("GET", "https://cdn.example/video.mp4")
            with pytest.raises(KeyRefused, match="Invalid Key"):
                await http.request("GET", "https://queue.example/refused")
            with pytest.raises(JobRejected, match="prompt: too long"):
                await http.request("GET", "https://queue.example/rejected")
        finally:
            await http.aclose()

    asyncio.run(run())
    assert [r.headers.get("authorization") for r in seen[:2]] == [
        "Key secret-key-123456789",
        None,
    ]

"""Helpers the HTTP renderer tests share: clips, plans, stories, environments, the CLI in a
subprocess, a kill -9 at the right moment, and the "no secret anywhere" check."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from storyc.plan.capabilities import load_table
from storyc.plan.schema import CameoReference, Clip, ClipPlan, PlanHeader, PlannedShot
from storyc.providers.base import Renderer
from storyc.providers.cache import ClipCache
from storyc.providers.engine import RenderReport, render_plan
from storyc.providers.journal import JOURNAL_NAME, Journal

from .server import FakeProvider

FAST = {
    "STORYC_RETRY_BASE_S": "0.01",
    "STORYC_POLL_INTERVAL_S": "0.05",
    "STORYC_HTTP_TIMEOUT_S": "5",
}
"""Short waits so the fault tests take seconds, not minutes."""

PROVIDER_VARIABLES = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "STORYC_OPENAI_AUTH",
    "FAL_KEY",
    "FAL_QUEUE_URL",
    "FAL_REST_URL",
    "FAL_CDN_URL",
    "PRODIA_TOKEN",
    "PRODIA_URL",
    "STORYC_PRODIA_MODE",
    "RUNWAYML_API_SECRET",
    "RUNWAYML_BASE_URL",
    "STORYC_CACHE_DIR",
)


def provider_env(
    fake: FakeProvider, cache_dir: Path, *, keys: bool = True, **extra: str
) -> dict[str, str]:
    """A clean environment aimed at the fake server (no real key can leak in)."""
    env = {k: v for k, v in os.environ.items() if k not in PROVIDER_VARIABLES}
    env |= fake.env(keys=keys) | FAST | {"STORYC_CACHE_DIR": str(cache_dir)}
    env |= {"NO_COLOR": "1", "COLUMNS": "200"}
    env |= extra
    return env


def apply_env(monkeypatch: pytest.MonkeyPatch, env: Mapping[str, str]) -> None:
    """Make `env` the provider environment of this process (for in-process renderers)."""
    for name in PROVIDER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        if name in PROVIDER_VARIABLES or name.startswith("STORYC_"):
            monkeypatch.setenv(name, value)


def make_clip(
    provider: str,
    model: str,
    index: int,
    prompt: str,
    *,
    size: str = "1280x720",
    seconds: int = 4,
    input_reference: Path | None = None,
    cameos: Iterable[tuple[str, Path]] = (),
    seed: int | None = None,
    audio: bool = True,
    story: str = "stories/test.story",
) -> Clip:
    """A clip as the planner would make it for `provider`/`model` (id from its content)."""
    offering = load_table().offering(provider, model)
    assert offering is not None, (provider, model)
    references = tuple(
        CameoReference(name=name, path=str(path), sha256=_sha256(path)) for name, path in cameos
    )
    key = json.dumps(
        [
            provider,
            model,
            size,
            seconds,
            seed,
            prompt,
            str(input_reference),
            [c.sha256 for c in references],
            audio,
        ]
    )
    line = 10 * index
    shot = PlannedShot(
        index=index,
        label="wide",
        file=story,
        line=line,
        start=0,
        end=seconds * 1000,
        film_start=0,
        film_end=seconds * 1000,
        action=prompt,
    )
    return Clip(
        id=hashlib.sha256(key.encode()).hexdigest()[:16],
        index=index,
        scene="Test",
        scene_index=1,
        provider=provider,
        model=model,
        api_model=offering.api_model,
        size=size,
        render_ms=seconds * 1000,
        duration=seconds * 1000,
        slack=0,
        film_start=0,
        seed=seed,
        prompt=prompt,
        input_reference=str(input_reference) if input_reference else None,
        input_reference_sha256=_sha256(input_reference) if input_reference else None,
        cameos=references,
        audio=audio,
        cost_usd=0.1 * seconds,
        shots=(shot,),
        request={},
    )


def make_plan(clips: list[Clip]) -> ClipPlan:
    first = clips[0]
    header = PlanHeader(
        title="Test",
        source="stories/test.story",
        model=first.model,
        provider=first.provider,
        size=first.size,
        fps=None,
        style=None,
        seed=None,
        clips="per-shot",
    )
    return ClipPlan(
        story=header,
        clips=tuple(clips),
        duration=sum(c.duration for c in clips),
        render_seconds=sum(c.render_ms for c in clips) // 1000,
        cost_usd=sum(c.cost_usd for c in clips),
    )


def render(plan: ClipPlan, renderer: Renderer, cache_dir: Path, jobs: int = 4) -> RenderReport:
    """`render_plan` with a cache and journal in `cache_dir`; closes the renderer."""

    async def run() -> RenderReport:
        try:
            with Journal.in_folder(cache_dir) as journal:
                return await render_plan(
                    plan, renderer, cache=ClipCache(cache_dir), journal=journal, jobs=jobs
                )
        finally:
            await renderer.aclose()

    return asyncio.run(run())


@dataclass
class StoryShot:
    action: str
    seconds: int
    image: str | None = None
    line: int = 0


def write_story(
    path: Path,
    *,
    provider: str,
    model: str,
    shots: list[StoryShot],
    size: str = "1280x720",
    header: str = "",
    cameos: Mapping[str, str] | None = None,
) -> list[StoryShot]:
    """A `clips: per-shot` story (one clip per shot); fills in each shot's line number."""
    lines = [
        f"title: {provider} test",
        f"model: {model}",
        f"provider: {provider}",
        f"size: {size}",
        "clips: per-shot",
    ]
    lines += [line for line in header.splitlines() if line.strip()]
    for name, file in (cameos or {}).items():
        lines += ["", f'cameo {name}: "{file}"', f"    look: {name}, a test subject"]
    lines += ["", 'scene "Test":']
    for number, shot in enumerate(shots, 1):
        source = f' from "{shot.image}"' if shot.image else ""
        lines.append(f"    shot s{number} {shot.seconds}s{source}:")
        shot.line = len(lines)
        lines += ["        camera: static wide shot", f"        action: {shot.action}", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return shots


def storyc(
    args: list[str], env: Mapping[str, str], cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the `storyc` command line in a subprocess (undecodable output bytes shown as �)."""
    return subprocess.run(
        [sys.executable, "-c", "from storyc.cli import main; main()", *args],
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=timeout,
        check=False,
    )


def cli_env(cache_dir: Path, columns: int = 200, **extra: str) -> dict[str, str]:
    """This process's environment without any provider setting, for a keyless CLI run."""
    env = {k: v for k, v in os.environ.items() if k not in PROVIDER_VARIABLES}
    return env | {"COLUMNS": str(columns), "STORYC_CACHE_DIR": str(cache_dir)} | extra


def journaled_jobs(cache_dir: Path) -> int:
    path = cache_dir / JOURNAL_NAME
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as db:
            # Claims are rows too; count the jobs a provider accepted.
            return int(db.execute("SELECT COUNT(*) FROM jobs WHERE job_id != ''").fetchone()[0])
    except sqlite3.Error:
        return 0


def kill_once_journaled(
    args: list[str],
    env: Mapping[str, str],
    cwd: Path,
    cache_dir: Path,
    count: int,
    timeout: float = 60,
) -> tuple[int, str]:
    """Start `storyc ARGS`, `kill -9` it once `count` jobs are in the journal.

    Returns the exit status (negative: the signal) and what it printed.
    """
    log = cwd / f"killed-{time.monotonic_ns()}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", "from storyc.cli import main; main()", *args],
            env=dict(env),
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        try:
            while journaled_jobs(cache_dir) < count:
                if process.poll() is not None:
                    raise AssertionError(f"storyc ended before the kill:\n{log.read_text()}")
                if time.monotonic() > deadline:
                    raise AssertionError(f"no {count} journaled jobs in time:\n{log.read_text()}")
                time.sleep(0.02)
            os.kill(process.pid, signal.SIGKILL)
        finally:
            if process.poll() is None:
                process.wait(timeout=10)
    output = log.read_text()
    log.unlink()
    return process.returncode, output


def assert_secret_free(
    folders: Iterable[Path], texts: Iterable[str], secrets: Iterable[str]
) -> None:
    """No secret (nor any 10-character piece of one) in these files or texts."""
    pieces = set()
    for secret in secrets:
        pieces |= {secret[i : i + 10] for i in range(max(1, len(secret) - 9))}
    texts = list(texts)
    for text in texts:
        found = [p for p in pieces if p in text]
        assert not found, f"a secret leaked into output: {found[0]!r}"
    for folder in folders:
        for path in Path(folder).rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                found = [p for p in pieces if p.encode() in data]
                assert not found, f"a secret leaked into {path}"


def assert_key_errors(
    monkeypatch: pytest.MonkeyPatch,
    renderer_class: Callable[[], Renderer],
    env_var: str,
    wrong: str,
    clip: Clip,
) -> None:
    """A key the provider refuses is one `KeyRefused` naming the provider, with no piece of
    the key in it; an unset key is a `MissingKey` naming the variable to set."""
    from storyc.providers.errors import KeyRefused, MissingKey

    monkeypatch.setenv(env_var, wrong)

    async def submit_once() -> None:
        renderer = renderer_class()
        try:
            await renderer.submit(clip)
        finally:
            await renderer.aclose()  # type: ignore[attr-defined]

    with pytest.raises(KeyRefused) as refused:
        asyncio.run(submit_once())
    assert str(refused.value).startswith(f"{refused.value.provider} refused the API key")
    assert_secret_free([], [str(refused.value)], [wrong])

    monkeypatch.delenv(env_var)
    with pytest.raises(MissingKey, match=f"set {env_var}"):
        renderer_class()


def assert_refusals_reported(
    fake: FakeProvider,
    renderer: Renderer,
    cache_dir: Path,
    clip: Callable[[int, str], Clip],
    *,
    failed: str,
) -> None:
    """Of three clips made by `clip(index, prompt)`, the one the provider refuses when it is
    sent and the one whose job fails are failures in the provider's own words (`failed`:
    what the failed job's message becomes), each at its shot's line; the refused one never
    became a job; the third renders."""
    clips = [
        clip(1, "a calm lake at dawn"),
        clip(2, "REJECT-JOB a famous actor"),
        clip(3, "FAIL-JOB a famous singer"),
    ]
    report = render(make_plan(clips), renderer, cache_dir)
    assert [r.clip.index for r in report.rendered] == [1]
    messages = {f.clip.index: (f.message, f.location) for f in report.failures}
    assert messages == {
        2: (fake.faults.moderation_message, "stories/test.story:20"),
        3: (failed, "stories/test.story:30"),
    }
    assert fake.total_submits() == 2  # the refused one never became a job


def _sha256(path: Path | None) -> str | None:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest() if path else None

"""Benchmark: how long after a keystroke does the editor get fresh diagnostics?

A 1,000-shot story is opened in `storyc lsp` through a real LSP client over stdio (pygls'
client, the server as a subprocess, exactly as an editor starts it). Then one line is edited
at a time (a different shot each time) and the time from sending `didChange` to receiving
`publishDiagnostics` for that version is measured. Prints the median of the edits (goal:
100 ms) and, for comparison, the same analysis done in-process without the transport.

    .venv/bin/python bench/lsp.py [--shots 1000] [--edits 15] [--debounce-ms N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def big_story(shots: int, per_scene: int = 10) -> str:
    out = [
        "title: Benchmark",
        "model: sora-2",
        "",
        "character mara:",
        "    look: a barista in a green apron",
        "",
    ]
    for scene in range(shots // per_scene):
        out.append(f'scene "Scene {scene + 1}":')
        for k in range(per_scene):
            n = scene * per_scene + k + 1
            out += [
                f"    shot s{n} 4s:",
                "        camera: slow dolly in",
                f"        action: @mara pours cup {n}.",
                "",
            ]
    return "\n".join(out)


async def measure(shots: int, edits: int, debounce_ms: float | None) -> list[float]:
    text = big_story(shots)
    lines = text.split("\n")
    uri = "file:///tmp/storyc-bench.story"
    client = LanguageClient("storyc-bench", "1")
    arrivals: dict[int, float] = {}
    waiters: dict[int, asyncio.Future[None]] = {}

    server_ms: dict[int, float] = {}

    @client.feature(lsp.WINDOW_LOG_MESSAGE)
    def on_log(params: lsp.LogMessageParams) -> None:
        words = params.message.split()
        if params.message.startswith("storyc: checked version"):
            server_ms[int(words[3])] = float(words[5])

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params: lsp.PublishDiagnosticsParams) -> None:
        if params.version is None:
            return
        arrivals[params.version] = time.perf_counter()
        waiter = waiters.get(params.version)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    loop = asyncio.get_running_loop()

    def expect(version: int) -> asyncio.Future[None]:
        waiters[version] = loop.create_future()
        return waiters[version]

    spawned = time.perf_counter()
    await client.start_io(sys.executable, "-m", "storyc.cli", "lsp")
    options = {"debounceMs": debounce_ms} if debounce_ms is not None else None
    await client.initialize_async(
        lsp.InitializeParams(capabilities=lsp.ClientCapabilities(), initialization_options=options)
    )
    client.initialized(lsp.InitializedParams())
    opened = expect(1)
    started = time.perf_counter()
    client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(
            text_document=lsp.TextDocumentItem(uri=uri, language_id="story", version=1, text=text)
        )
    )
    await asyncio.wait_for(opened, 60)
    print(
        f"open ({len(lines):,} lines): first diagnostics after {1000 * (time.perf_counter() - started):.0f} ms"
    )
    print(f"spawn -> first diagnostics: {1000 * (time.perf_counter() - spawned):.0f} ms")

    targets = [i for i, line in enumerate(lines) if "action: @mara pours cup" in line]
    step = max(1, len(targets) // edits)
    timings: list[float] = []
    for number, index in enumerate(targets[::step][:edits], start=2):
        old = lines[index]
        new = old.replace("pours", "slowly pours")
        await asyncio.sleep(0.15)  # the writer pauses: each edit is measured on its own
        done = expect(number)
        sent = time.perf_counter()
        client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=number),
                content_changes=[
                    lsp.TextDocumentContentChangePartial(
                        range=lsp.Range(
                            start=lsp.Position(line=index, character=0),
                            end=lsp.Position(line=index, character=len(old)),
                        ),
                        text=new,
                    )
                ],
            )
        )
        await asyncio.wait_for(done, 30)
        timings.append(1000 * (arrivals[number] - sent))
        lines[index] = new
    await asyncio.sleep(0.1)
    inside = [server_ms[v] for v in range(2, len(timings) + 2) if v in server_ms]
    if inside:
        print(f"inside the server (analysis + publish): median {statistics.median(inside):.0f} ms")
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return timings


def in_process(shots: int, edits: int) -> list[float]:
    from storyc.tooling.incremental import DocumentAnalyzer

    text = big_story(shots)
    analyzer = DocumentAnalyzer("/tmp/storyc-bench.story")
    analyzer.analyze(text, 1)
    timings = []
    for n in range(edits):
        text = text.replace(f"cup {n * 37 + 1}.", f"cup {n * 37 + 1}!", 1)
        started = time.perf_counter()
        analyzer.analyze(text, n + 2)
        timings.append(1000 * (time.perf_counter() - started))
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=1000)
    parser.add_argument("--edits", type=int, default=15)
    parser.add_argument("--debounce-ms", type=float, default=None, help="server default if unset")
    args = parser.parse_args()
    timings = asyncio.run(measure(args.shots, args.edits, args.debounce_ms))
    local = in_process(args.shots, args.edits)
    print(
        f"didChange -> publishDiagnostics over stdio, {args.shots:,} shots, {len(timings)} edits: "
        f"median {statistics.median(timings):.0f} ms (min {min(timings):.0f}, "
        f"max {max(timings):.0f}); goal 100 ms"
    )
    print(f"the same analysis in-process: median {statistics.median(local):.0f} ms")


if __name__ == "__main__":
    main()

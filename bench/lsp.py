"""Benchmark: how long after a keystroke does the editor get fresh diagnostics?

A 1,000-shot story is opened in `storyc lsp` through a real LSP client over stdio (pygls'
client, the server as a subprocess, exactly as an editor starts it). Then one line is edited
at a time (a different shot each time) and the time from sending `didChange` to receiving
`publishDiagnostics` for that version is measured. Prints the median of the edits (goal:
30 ms, issue 15) and, for comparison, the same analysis done in-process without the
transport: wall and CPU time (CPU is steadier on a busy machine), p50 and p95, for edits
within a line and for edits that insert a line (every block after it moves: it is parsed
and built again).

    .venv/bin/python bench/lsp.py [--shots 1000] [--edits 15] [--debounce-ms N]
    .venv/bin/python bench/lsp.py --in-process-only --shots 10000 --edits 8
"""

from __future__ import annotations

import argparse
import asyncio
import os
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


def _cpu_ms(pid: int) -> float:
    """User + system CPU time of process `pid` so far (Linux; 10 ms steps)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return 1000 * (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
    pid = client._server.pid if client._server is not None else None
    cpu_at_open = _cpu_ms(pid) if pid is not None else None
    if cpu_at_open is not None:
        print(f"  the server's CPU time until then: {cpu_at_open:.0f} ms (steadier than wall time)")

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
    if pid is not None and cpu_at_open is not None and timings:
        # The pauses between edits are idle; what the server spent is the edits' work.
        spent = _cpu_ms(pid) - cpu_at_open
        print(
            f"  the server's CPU time per edit (mean of {len(timings)}): {spent / len(timings):.0f} ms"
        )
    await asyncio.sleep(0.1)
    inside = [server_ms[v] for v in range(2, len(timings) + 2) if v in server_ms]
    if inside:
        print(f"inside the server (analysis + publish): median {statistics.median(inside):.0f} ms")
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return timings


def in_process(
    shots: int, edits: int, insert_lines: bool = False
) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of each edit's analysis, in this process. An edit changes
    one action line (or, with `insert_lines`, adds a cue line under it)."""
    from storyc.tooling.incremental import DocumentAnalyzer

    text = big_story(shots)
    analyzer = DocumentAnalyzer("/tmp/storyc-bench.story")
    analyzer.analyze(text, 1)
    wall: list[float] = []
    cpu: list[float] = []
    step = max(1, shots // max(1, edits))
    for n in range(edits):
        cup = f"cup {(n * step + 37) % shots + 1}."
        new = f"{cup}\n        sfx: a spoon clinks" if insert_lines else cup.replace(".", "!")
        text = text.replace(cup, new, 1)
        started, started_cpu = time.perf_counter(), time.process_time()
        analyzer.analyze(text, n + 2)
        cpu.append(1000 * (time.process_time() - started_cpu))
        wall.append(1000 * (time.perf_counter() - started))
    return wall, cpu


def _p50_p95(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(values):.1f} ms, p95 {p95:.1f} ms"


def report_in_process(shots: int, edits: int) -> None:
    for insert_lines, what in ((False, "edit within a line"), (True, "edit inserting a line")):
        wall, cpu = in_process(shots, edits, insert_lines)
        print(
            f"in process, {shots:,} shots, {what} ({edits} edits): "
            f"CPU {_p50_p95(cpu)}; wall {_p50_p95(wall)}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=1000)
    parser.add_argument("--edits", type=int, default=15)
    parser.add_argument("--debounce-ms", type=float, default=None, help="server default if unset")
    parser.add_argument("--in-process-only", action="store_true", help="skip the server over stdio")
    args = parser.parse_args()
    if not args.in_process_only:
        timings = asyncio.run(measure(args.shots, args.edits, args.debounce_ms))
        print(
            f"didChange -> publishDiagnostics over stdio, {args.shots:,} shots, "
            f"{len(timings)} edits: median {statistics.median(timings):.0f} ms "
            f"(min {min(timings):.0f}, max {max(timings):.0f}); goal 30 ms"
        )
    report_in_process(args.shots, args.edits)


if __name__ == "__main__":
    main()

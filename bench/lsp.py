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
    .venv/bin/python bench/lsp.py --spawn-runs 9 [--server storyc|module|cli-module]

`--spawn-runs N` only measures spawn -> first diagnostics, N times (a fresh server each time),
and prints the median, min and max (goal 0.5 s, issue 15). `--server` picks how the server
is started: `storyc` (the default: the installed script next to this Python, as editors
start it: `storyc lsp`), `module` (`python -m storyc lsp`) or `cli-module` (`python -m
storyc.cli lsp`, through the Typer app). Wall time swings with the machine's load: run it
several times, and read the server's CPU time too.
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
    """User + system CPU time of process `pid` so far, with that of any children it waited
    for (Linux; 10 ms steps)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(field) for field in fields[11:15])
    return 1000 * ticks / os.sysconf("SC_CLK_TCK")


SERVERS: dict[str, list[str]] = {
    "storyc": [str(Path(sys.executable).with_name("storyc")), "lsp"],
    "module": [sys.executable, "-m", "storyc", "lsp"],
    "cli-module": [sys.executable, "-m", "storyc.cli", "lsp"],
}
"""How the server is started, by `--server`."""


async def first_diagnostics(shots: int, server: list[str]) -> tuple[float, float | None]:
    """Spawn the server, initialize, open a `shots`-shot story: milliseconds from spawn to its
    first `publishDiagnostics`, and the server's CPU milliseconds until then."""
    text = big_story(shots)
    client = LanguageClient("storyc-bench", "1")
    arrived: asyncio.Future[float] = asyncio.get_running_loop().create_future()

    @client.feature(lsp.WINDOW_LOG_MESSAGE)
    def on_log(params: lsp.LogMessageParams) -> None:
        pass  # the server's timings; not needed here

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params: lsp.PublishDiagnosticsParams) -> None:
        if params.version == 1 and not arrived.done():
            arrived.set_result(time.perf_counter())

    spawned = time.perf_counter()
    await client.start_io(*server)
    await client.initialize_async(lsp.InitializeParams(capabilities=lsp.ClientCapabilities()))
    client.initialized(lsp.InitializedParams())
    client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(
            text_document=lsp.TextDocumentItem(
                uri="file:///tmp/storyc-bench.story", language_id="story", version=1, text=text
            )
        )
    )
    elapsed = 1000 * (await asyncio.wait_for(arrived, 60) - spawned)
    pid = client._server.pid if client._server is not None else None
    cpu = _cpu_ms(pid) if pid is not None else None
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return elapsed, cpu


def report_spawn(shots: int, runs: int, server: str) -> None:
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(runs):
        wall, cpu = asyncio.run(first_diagnostics(shots, SERVERS[server]))
        walls.append(wall)
        if cpu is not None:
            cpus.append(cpu)
    cpu_text = f"; server CPU median {statistics.median(cpus):.0f} ms" if cpus else ""
    print(
        f"spawn -> first diagnostics ({server}: {' '.join(SERVERS[server][-3:])}), "
        f"{shots:,} shots, {runs} runs: median {statistics.median(walls):.0f} ms "
        f"(min {min(walls):.0f}, max {max(walls):.0f}){cpu_text}; goal 500 ms"
    )


async def measure(
    shots: int, edits: int, debounce_ms: float | None, server: list[str]
) -> list[float]:
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
    await client.start_io(*server)
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
    parser.add_argument("--spawn-runs", type=int, default=0, help="only spawn -> first diagnostics")
    parser.add_argument("--server", choices=sorted(SERVERS), default="storyc")
    args = parser.parse_args()
    if args.spawn_runs:
        report_spawn(args.shots, args.spawn_runs, args.server)
        return
    if not args.in_process_only:
        timings = asyncio.run(
            measure(args.shots, args.edits, args.debounce_ms, SERVERS[args.server])
        )
        print(
            f"didChange -> publishDiagnostics over stdio, {args.shots:,} shots, "
            f"{len(timings)} edits: median {statistics.median(timings):.0f} ms "
            f"(min {min(timings):.0f}, max {max(timings):.0f}); goal 30 ms"
        )
    report_in_process(args.shots, args.edits)


if __name__ == "__main__":
    main()

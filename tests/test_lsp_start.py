"""`storyc lsp`'s fast start: the command goes straight to the server (not through the Typer
app), and the collector is held only while the server starts."""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
from pathlib import Path

from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient

from storyc.tooling.incremental import DocumentAnalyzer
from storyc.tooling.lsp_startup import hold_gc, startup_done

ROOT = Path(__file__).resolve().parent.parent

STORY = """\
title: Test
model: sora-2

character mara:
    look: barista in a green apron

scene "Opening":
    shot 4s:
        action: @mara greets @ghost.

    shot 4s:
        action: @mara waves.
"""
"""A story with diagnostics (`@ghost` is not declared, `mara` has no voice, ...)."""


def _run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], input=stdin, capture_output=True, text=True, timeout=60, cwd=ROOT
    )


def test_storyc_lsp_goes_to_the_server_without_the_command_line_app() -> None:
    # The server reads an empty input, ends, and says which modules it had imported.
    script = (
        "import atexit, sys\n"
        "atexit.register(lambda: print(sorted(m for m in sys.modules"
        " if m.split('.')[0] in ('typer', 'click', 'rich') or m.startswith('storyc.cli')),"
        " file=sys.stderr))\n"
        "sys.argv = ['storyc', 'lsp']\n"
        "from storyc.__main__ import main\n"
        "main()\n"
    )
    run = _run("-c", script)
    assert run.returncode == 0, run.stderr
    assert run.stderr.strip().splitlines()[-1] == "[]"


def test_storyc_lsp_help_still_goes_through_the_command_line_app() -> None:
    run = _run("-m", "storyc", "lsp", "--help")
    assert run.returncode == 0, run.stderr
    assert "language server" in run.stdout


def test_the_installed_script_runs_the_same_main() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'storyc = "storyc.__main__:main"' in text


def test_the_collector_is_held_during_the_start_only() -> None:
    assert gc.isenabled()
    try:
        hold_gc()
        assert not gc.isenabled()
        startup_done()
        assert gc.isenabled()
        startup_done()  # again: nothing changes
        assert gc.isenabled()
        gc.disable()  # a collector that was off before the start stays off
        hold_gc()
        startup_done()
        assert not gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()


async def _open_and_hover(command: list[str], uri: str) -> tuple[list[int | None], list[str]]:
    """Open STORY in a fresh server, then ask for a hover (it waits for the analysis in the
    server itself): the versions of every diagnostics sent, and the codes of the first."""
    client = LanguageClient("storyc-test", "1")
    published: list[lsp.PublishDiagnosticsParams] = []
    arrived = asyncio.Event()

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params: lsp.PublishDiagnosticsParams) -> None:
        published.append(params)
        arrived.set()

    await client.start_io(*command)
    try:
        await client.initialize_async(lsp.InitializeParams(capabilities=lsp.ClientCapabilities()))
        client.initialized(lsp.InitializedParams())
        item = lsp.TextDocumentItem(uri=uri, language_id="story", version=1, text=STORY)
        client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=item))
        await asyncio.wait_for(arrived.wait(), 60)
        hovered = await client.text_document_hover_async(
            lsp.HoverParams(
                text_document=lsp.TextDocumentIdentifier(uri=uri),
                position=lsp.Position(line=3, character=11),
            )
        )
        assert hovered is not None  # `mara`'s declaration: the server's own analysis
        await asyncio.sleep(0.2)  # a second publication, if there were one, would be here
    finally:
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()
    return [p.version for p in published], sorted(str(d.code) for d in published[0].diagnostics)


def test_python_m_storyc_lsp_sends_the_diagnostics_of_an_analysis_once(tmp_path: Path) -> None:
    uri = (tmp_path / "t.story").as_uri()
    versions, codes = asyncio.run(_open_and_hover([sys.executable, "-m", "storyc", "lsp"], uri))
    assert versions == [1]
    here = DocumentAnalyzer(str(tmp_path / "t.story")).analyze(STORY, 1)
    assert codes == sorted(d.code for d in here.diagnostics)

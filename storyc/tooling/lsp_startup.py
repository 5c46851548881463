"""The collector held while `storyc lsp` starts.

Almost all of the time from spawn to the editor's first diagnostics is imports (`lsprotocol`
and pygls with its converter, then the front end) and the first analysis, and imports make
hundreds of thousands of objects that live as long as the process. Collecting while they are
made finds nothing to free and cost about 60 ms of a 0.5 s start (measured with and without
`gc.disable()`, issue 15), so the collector is off from the start (`hold_gc`, before those
imports) until the first diagnostics are out (`startup_done`: what the start made is frozen
out of the collector's way, then it is switched back on). The server also calls
`startup_done` a few seconds after `initialize` whatever happens, so a client that never
opens a document does not leave it off.
"""

from __future__ import annotations

import gc

STARTUP_GC_S = 5.0
"""Seconds after `initialize` when the collector is switched back on in any case."""

_held = False
_was_enabled = True


def hold_gc() -> None:
    """Switch the collector off for the start."""
    global _held, _was_enabled
    if not _held:
        _held = True
        _was_enabled = gc.isenabled()
        gc.disable()


def startup_done() -> None:
    """The start is over: freeze what it made and switch the collector back on (if it was on
    before `hold_gc`). Calling it again, or without `hold_gc`, does nothing."""
    global _held
    if _held:
        _held = False
        gc.freeze()
        if _was_enabled:
            gc.enable()

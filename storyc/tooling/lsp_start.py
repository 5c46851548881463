"""`storyc lsp`'s start: the collector is held (`storyc.tooling.lsp_startup`) before the
server's imports (pygls, `lsprotocol`), then the server runs."""

from __future__ import annotations

import sys
from typing import NoReturn

from storyc.tooling.lsp_startup import hold_gc


def serve() -> NoReturn:
    """Run the language server on stdin/stdout until the client says exit."""
    hold_gc()
    from storyc.tooling.lsp import main

    main()
    sys.exit(0)  # pragma: no cover  (main exits)

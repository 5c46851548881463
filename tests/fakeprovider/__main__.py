"""Run the fake provider on its own: `python -m fakeprovider --media DIR [--port N]`.

Prints `PORT <n>` once it listens; stats and faults are at `/_fake/stats` and
`/_fake/faults` (POST a JSON object of `Faults` fields).
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from pathlib import Path

from .server import FakeProvider, Faults


def main() -> None:
    parser = argparse.ArgumentParser(prog="fakeprovider")
    parser.add_argument("--media", type=Path, required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--job-seconds", type=float, default=1.0)
    args = parser.parse_args()
    fake = FakeProvider(
        media_dir=args.media, port=args.port, faults=Faults(job_seconds=args.job_seconds)
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with fake:
        print(f"PORT {fake.port}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    sys.exit(0)


if __name__ == "__main__":
    main()

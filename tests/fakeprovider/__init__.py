"""A fake video provider for storyc's renderer tests and benchmark (see `server.py`)."""

from .media import make_mp4, make_png, make_wav
from .server import DEFAULT_KEYS, FakeProvider, Faults, Request, Response, Seen

__all__ = [
    "DEFAULT_KEYS",
    "FakeProvider",
    "Faults",
    "Request",
    "Response",
    "Seen",
    "make_mp4",
    "make_png",
    "make_wav",
]

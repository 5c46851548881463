"""Click-to-pick on a served board: the request the page sends, and the pick it makes.

The page (served by `storyc watch --serve`) POSTs `{"clip": "<id of take 1>", "take": N}`.
`parse_pick` checks that body (small, exactly those two fields, the right types) and
`board_picker` makes the pick with `storyc.plan.takes.pick_take`, the function `storyc pick`
uses, so the lock file is written one way only. Who may send the request (Host, Origin, the
server's token) is the server's business (`storyc.cli.board_server`).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path

from storyc.errors import StorycError
from storyc.frontend import compile_file
from storyc.plan.takes import pick_take
from storyc.sandbox import ReferencePolicy

MAX_PICK_BYTES = 1024
"""A pick is two short fields; anything longer is not one."""
_CLIP_ID = re.compile(r"^[0-9a-f]{1,64}$")


class PickRefused(Exception):
    """A pick request that is refused: the HTTP status and a message for the page."""

    def __init__(self, status: HTTPStatus, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class PickRequest:
    clip: str
    """The id of take 1 of the clip (the id `storyc plan` shows without picks)."""
    take: int


Picker = Callable[[PickRequest], str]
"""Makes a pick and says what was picked; raises `PickRefused`."""


def parse_pick(body: bytes) -> PickRequest:
    """The pick a request body asks for; `PickRefused` (400) when it is not exactly one."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise PickRefused(HTTPStatus.BAD_REQUEST, "the body is not JSON") from None
    if not isinstance(data, dict) or set(data) != {"clip", "take"}:
        raise PickRefused(
            HTTPStatus.BAD_REQUEST, 'send {"clip": "<clip id>", "take": <number>} and nothing else'
        )
    clip, take = data["clip"], data["take"]
    if not isinstance(clip, str) or not _CLIP_ID.match(clip):
        raise PickRefused(HTTPStatus.BAD_REQUEST, "`clip` must be a clip id (hex digits)")
    # bool is an int in Python; `true` is not a take number.
    if isinstance(take, bool) or not isinstance(take, int) or not 1 <= take <= 999:
        raise PickRefused(HTTPStatus.BAD_REQUEST, "`take` must be a take number (1, 2, ...)")
    return PickRequest(clip=clip, take=take)


def board_picker(
    story_path: Path, policy: ReferencePolicy, *, provider: str | None = None
) -> Picker:
    """A picker for the story at `story_path`: compiles it as it is now, for `provider` as
    the board was (clip ids depend on it), without picks (as `storyc pick` does), finds the
    clip by the id of its take 1 and records the take. Picks are made one at a time (the
    lock file is read, changed and written)."""
    lock = threading.Lock()

    def pick(request: PickRequest) -> str:
        with lock:
            try:
                compilation = compile_file(
                    story_path, provider=provider, policy=policy, picks=False
                )
            except StorycError as exc:
                raise PickRefused(HTTPStatus.CONFLICT, exc.message) from None
            story, plan = compilation.story, compilation.plan
            if story is None or plan is None:
                raise PickRefused(
                    HTTPStatus.CONFLICT, "the story has errors now; fix them, then pick"
                )
            clip = next((c for c in plan.clips if c.id == request.clip), None)
            if clip is None:
                raise PickRefused(
                    HTTPStatus.CONFLICT,
                    f"no clip {request.clip} in the story as it is now: the board is out of "
                    "date (it reloads when it is rebuilt)",
                )
            try:
                picked = pick_take(story_path, story, plan, clip.shots[0].index, request.take)
            except StorycError as exc:
                raise PickRefused(HTTPStatus.UNPROCESSABLE_ENTITY, exc.message) from None
            # The lock's name only: the answer goes to a browser.
            return f"{picked.describe()} (recorded in {picked.path.name})"

    return pick

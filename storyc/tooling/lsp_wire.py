"""The language server's wire: how `storyc lsp` reads messages so that a bad client cannot
silence it, hang it or make it allocate gigabytes.

What pygls 2.1 does on its own (`pygls.io_.run_async`, `JsonRPCProtocol.structure_message`):
- params that do not fit the method's type make `structure_message` raise
  `JsonRpcInvalidParams` from inside `json.loads`'s object hook, where the request id is
  lost: the read loop logs it with a traceback on stderr and shows a window message, and the
  request is never answered (the client waits forever);
- a body that is not JSON is logged the same way and never answered;
- `Content-Length` is trusted: the loop reads as many bytes as it says (a lying header makes
  it allocate and wait for gigabytes), ignores a header it cannot parse and reads header
  lines with no length limit.

Here:
- a request whose params do not fit is answered -32602 (InvalidParams) with cattrs' account of
  what is wrong; a notification that does not fit is logged on one line and dropped;
- a body that is not JSON is answered -32700 (ParseError), one that is not a JSON-RPC 2.0
  message -32600 (InvalidRequest), both with id null, and the server carries on;
- a header that cannot be trusted (a `Content-Length` that is missing, not a number, or over
  `MAX_BODY`; a header line over `MAX_HEADER_LINE`) is answered -32600 with id null, logged
  on one line, and ends the session with status 1 *without reading the body*. Skipping is not
  possible: the body's length is exactly what is unknown, so the byte stream cannot be split
  into messages any more (the editor restarts the server);
- a request refused on purpose (`RequestRefused`, e.g. a document that is not open) is
  answered with its plain message and no traceback in the answer or the log.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, BinaryIO

import attrs
from cattrs import transform_error
from cattrs.errors import ClassValidationError
from lsprotocol.types import ResponseError
from pygls.exceptions import JsonRpcInvalidParams
from pygls.io_ import StdoutWriter
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.json_rpc import JsonRPCNotification, JsonRPCRequestMessage
from pygls.server import JsonRPCServer

MAX_BODY = 64 * 1024 * 1024
"""Bytes; far above any story (capped at 16 MB) as JSON, far below what hurts."""
MAX_HEADER_LINE = 8 * 1024
MAX_HEADER_LINES = 32

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
INVALID_PARAMS = -32602
_MAX_MESSAGE = 500
"""Characters of an error message sent back; a client's garbage is not echoed whole."""

log = logging.getLogger(__name__)


class RequestRefused(JsonRpcInvalidParams):
    """A request the server declines on purpose: answered -32602 with this plain message."""


class FramingError(Exception):
    """The input can no longer be split into messages."""


@attrs.define
class Rejected:
    """A message that was JSON but not one the server can use (the object hook's verdict)."""

    id: int | str | None
    code: int
    message: str
    is_request: bool


# -- messages ----------------------------------------------------------------------------------


def _id_of(data: dict[str, Any]) -> int | str | None:
    value = data.get("id")
    return value if isinstance(value, int | str) and not isinstance(value, bool) else None


def _why(exc: Exception) -> str:
    if isinstance(exc, ClassValidationError):
        return "; ".join(transform_error(exc))
    return str(exc) or type(exc).__name__


def _cut(text: str) -> str:
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


class StoryProtocol(LanguageServerProtocol):
    """pygls' protocol, with answers where pygls stays silent (see the module's docstring)."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        # Nested objects (no "jsonrpc") and the client's responses are pygls' business.
        if "jsonrpc" not in data or "method" not in data:
            return super().structure_message(data)
        method = data["method"]
        is_request = "id" in data
        if not isinstance(method, str):
            return Rejected(_id_of(data), INVALID_REQUEST, "method is not a string", is_request)
        fallback = JsonRPCRequestMessage if is_request else JsonRPCNotification
        try:
            return self._converter.structure(data, self.get_message_type(method) or fallback)
        except Exception as exc:
            why = _cut(f"invalid params for {method}: {_why(exc)}")
            return Rejected(_id_of(data), INVALID_PARAMS, why, is_request)

    def receive(self, body: bytes) -> None:
        """Handle one message body, answering what cannot be handled."""
        try:
            message = json.loads(body, object_hook=self.structure_message)
        except (ValueError, RecursionError) as exc:  # also UnicodeDecodeError
            self.reject(None, PARSE_ERROR, _cut(f"the message is not JSON: {exc}"))
            return
        except Exception as exc:  # a client's response that does not fit (pygls logged it)
            log.warning("storyc lsp: dropped a message: %s", _why(exc))
            return
        if isinstance(message, Rejected):
            if message.is_request:
                self.reject(message.id, message.code, message.message)
            else:
                log.warning("storyc lsp: dropped a notification: %s", message.message)
        elif not attrs.has(type(message)):
            found = message.get("id") if isinstance(message, dict) else None
            msg_id = found if isinstance(found, int | str) else None
            self.reject(msg_id, INVALID_REQUEST, "the message is not a JSON-RPC 2.0 message")
        else:
            try:
                self.handle_message(message)
            except Exception:  # a bug in a handler must not end the session
                log.exception("storyc lsp: handling %s failed", getattr(message, "method", "?"))

    def reject(self, msg_id: int | str | None, code: int, message: str) -> None:
        log.warning("storyc lsp: answered error %d: %s", code, message)
        error = ResponseError(code=code, message=message)
        if msg_id is None:
            # JSON-RPC 2.0 wants `"id": null`; lsprotocol's converter would leave `id` out.
            answer = {"jsonrpc": "2.0", "id": None, "error": self._converter.unstructure(error)}
            self._send_data(answer)
        else:
            self._send_response(msg_id, error=error)

    def _send_handler_result(self, future: Future[Any], *, msg_id: Any) -> None:
        # pygls logs every error a handler raises with its traceback; a refusal is no bug.
        refused = None if future.cancelled() else future.exception()
        if isinstance(refused, RequestRefused):
            self._request_futures.pop(msg_id, None)
            log.info("storyc lsp: refused request %s: %s", msg_id, refused.message)
            self._send_response(msg_id, error=refused.to_response_error())
            return
        super()._send_handler_result(future, msg_id=msg_id)


# -- framing -----------------------------------------------------------------------------------


class _Input:
    """Blocking reads of stdin, run in the server's thread pool."""

    def __init__(self, stream: BinaryIO, pool: ThreadPoolExecutor):
        self.stream = stream
        self.pool = pool

    async def line(self) -> bytes:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, self.stream.readline, MAX_HEADER_LINE + 1)

    async def exactly(self, size: int) -> bytes:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, self.stream.read, size)


def content_length(value: bytes) -> int:
    """A `Content-Length` value as bytes to read, or FramingError."""
    text = value.strip()
    # `isdigit` on bytes is ASCII only: no sign, no spaces, no exponent, no underscores.
    if not text.isdigit():
        shown = text[:40].decode("ascii", "replace")
        raise FramingError(f"Content-Length {shown!r} is not a number of bytes")
    if len(text) > 12 or int(text) > MAX_BODY:
        raise FramingError(f"Content-Length {text[:40].decode()} is over {MAX_BODY} bytes")
    return int(text)


async def read_body(source: _Input) -> bytes | None:
    """The next message's body, or None at the end of the input."""
    length: int | None = None
    lines = 0
    while True:
        line = await source.line()
        if len(line) > MAX_HEADER_LINE:
            raise FramingError(f"a header line is longer than {MAX_HEADER_LINE} bytes")
        if not line.endswith(b"\n"):
            return None  # the client went away, maybe mid-line
        if not line.strip():
            if length is not None:
                break
            if lines:
                raise FramingError("a message has no Content-Length header")
            continue  # a stray blank line between messages
        lines += 1
        if lines > MAX_HEADER_LINES:
            raise FramingError(f"a message has more than {MAX_HEADER_LINES} header lines")
        name, colon, value = line.partition(b":")
        if not colon:
            raise FramingError("a header line is not 'Name: value'")
        if name.strip().lower() == b"content-length":
            if length is not None:
                raise FramingError("a message has two Content-Length headers")
            length = content_length(value)
    body = await source.exactly(length)
    return body if len(body) == length else None


async def _read_loop(protocol: StoryProtocol, source: _Input, stop: threading.Event) -> int:
    while not stop.is_set():
        try:
            body = await read_body(source)
        except FramingError as exc:
            log.error("storyc lsp: %s; the connection cannot go on, exiting", exc)
            protocol.reject(None, INVALID_REQUEST, f"{exc}; the server exits")
            return 1
        if body is None:
            break
        protocol.receive(body)
    return 0


def serve_stdio(server: JsonRPCServer) -> int:
    """Serve on stdin/stdout like pygls' `start_io`, through `read_body`; the exit status."""
    protocol = server.protocol
    assert isinstance(protocol, StoryProtocol)
    # pygls' `shutdown()` sets this event to end the loop.
    server._stop_event = stop = threading.Event()
    protocol.set_writer(StdoutWriter(sys.stdout.buffer))
    source = _Input(sys.stdin.buffer, server.thread_pool)
    status = 0
    try:
        status = asyncio.run(_read_loop(protocol, source, stop))
    except BrokenPipeError:
        log.error("storyc lsp: the client closed the connection")
    except (KeyboardInterrupt, SystemExit):
        pass  # `exit` from the client (pygls ends the session this way)
    finally:
        server.shutdown()
    return status

"""The language server survives bad clients (issue 9, item 7).

Raw bytes go to a real `storyc lsp` process on stdin and its framed answers are read from
stdout, so that what a well-behaved client library would never send can be sent: params of
the wrong shape, bodies that are not JSON, lying `Content-Length` headers. pytest-lsp's
client covers the requests that are well formed but name a document that is not open.

What the server promises (see `storyc/lsp_wire.py`):
- a request it cannot use is answered with a JSON-RPC error and the server carries on;
- a header it cannot trust (a `Content-Length` that is not a number, or over 64 MiB) is
  answered once with -32600 and id null, and the server exits with status 1 without
  reading the body: the stream cannot be split into messages any more.
No case leaves a Python traceback on stderr, and every case is over within seconds.
"""

from __future__ import annotations

import contextlib
import json
import queue
import subprocess
import sys
import threading
import time
from typing import IO, Any

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

SERVER = [sys.executable, "-m", "storyc.cli", "lsp"]
TIMEOUT = 10.0
INVALID_PARAMS = -32602
INVALID_REQUEST = -32600
PARSE_ERROR = -32700
STORY = 'title: Test\nmodel: sora-2\n\nscene "Opening":\n    shot 4s:\n        action: a door.\n'
URI = "file:///tmp/storyc-lsp-robust.story"


class RawServer:
    """A `storyc lsp` process spoken to byte by byte."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            SERVER, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self.messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.stderr = bytearray()
        assert self.proc.stdout is not None and self.proc.stderr is not None
        threading.Thread(target=self._read_frames, args=(self.proc.stdout,), daemon=True).start()
        threading.Thread(target=self._read_stderr, args=(self.proc.stderr,), daemon=True).start()
        self._ids = iter(range(1, 1_000_000))

    def _read_frames(self, stream: IO[bytes]) -> None:
        while True:
            length = None
            while (line := stream.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            if not line or length is None:
                self.messages.put(None)
                return
            self.messages.put(json.loads(stream.read(length)))

    def _read_stderr(self, stream: IO[bytes]) -> None:
        while chunk := stream.read1(65536):  # type: ignore[attr-defined]
            self.stderr.extend(chunk)

    def write(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        # The server may stop reading mid-write (that is the point of some tests).
        with contextlib.suppress(BrokenPipeError):
            self.proc.stdin.write(data)
            self.proc.stdin.flush()

    def send(self, message: dict[str, Any] | bytes) -> None:
        body = message if isinstance(message, bytes) else json.dumps(message).encode()
        self.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def request(self, method: str, params: Any) -> int:
        msg_id = next(self._ids)
        self.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        return msg_id

    def answer(self, msg_id: int | None) -> dict[str, Any]:
        """The response to `msg_id` (notifications from the server are skipped)."""
        deadline = time.monotonic() + TIMEOUT
        while (left := deadline - time.monotonic()) > 0:
            try:
                message = self.messages.get(timeout=left)
            except queue.Empty:
                break
            assert message is not None, f"the server closed stdout; stderr: {self.stderr!r}"
            if "method" not in message and message.get("id") == msg_id:
                return message
        raise AssertionError(f"no answer to {msg_id} within {TIMEOUT}s")

    def start(self) -> None:
        capabilities: dict[str, Any] = {}
        self.answer(self.request("initialize", {"processId": None, "capabilities": capabilities}))
        self.notify("initialized", {})
        doc = {"uri": URI, "languageId": "story", "version": 1, "text": STORY}
        self.notify("textDocument/didOpen", {"textDocument": doc})

    def notify(self, method: str, params: Any) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def still_answers(self) -> None:
        """A valid request after the abuse gets a result."""
        params = {"textDocument": {"uri": URI}, "options": {"tabSize": 4, "insertSpaces": True}}
        assert "result" in self.answer(self.request("textDocument/formatting", params))

    def wait(self) -> int:
        return self.proc.wait(timeout=TIMEOUT)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.answer(self.request("shutdown", None))
            self.notify("exit", None)
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            self.wait()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=TIMEOUT)

    def assert_no_traceback(self) -> None:
        time.sleep(0.2)  # let the stderr reader catch up
        assert b"Traceback" not in self.stderr, self.stderr.decode(errors="replace")


@pytest.fixture
def raw() -> Any:
    server = RawServer()
    try:
        server.start()
        yield server
    finally:
        server.kill()


def _error(answer: dict[str, Any]) -> dict[str, Any]:
    assert "error" in answer and "id" in answer, answer
    assert "Traceback" not in json.dumps(answer)
    return answer["error"]


# -- requests the server can read but not use ------------------------------------------------


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("textDocument/hover", {"textDocument": {"uri": URI}}),
        ("textDocument/hover", {"textDocument": {"uri": URI}, "position": "here"}),
        ("textDocument/hover", {"textDocument": {"uri": URI}, "position": {"line": "x"}}),
        ("textDocument/formatting", {"textDocument": 5, "options": {}}),
        ("textDocument/formatting", None),
        ("textDocument/completion", [1, 2]),
    ],
)
def test_invalid_params_are_answered_invalid_params(
    raw: RawServer, method: str, params: Any
) -> None:
    error = _error(raw.answer(raw.request(method, params)))
    assert error["code"] == INVALID_PARAMS
    assert method in error["message"]
    raw.still_answers()
    raw.stop()
    raw.assert_no_traceback()


def test_a_notification_with_invalid_params_is_dropped_quietly(raw: RawServer) -> None:
    raw.notify("textDocument/didOpen", {"textDocument": 3})
    raw.notify("textDocument/didChange", "nonsense")
    raw.still_answers()
    raw.stop()
    raw.assert_no_traceback()


@pytest.mark.parametrize(
    ("body", "code", "msg_id"),
    [
        (b"{not json", PARSE_ERROR, None),
        (b"\xff\xfe{}", PARSE_ERROR, None),
        (b"[" * 100_000, PARSE_ERROR, None),
        (b"", PARSE_ERROR, None),
        (b"[1, 2]", INVALID_REQUEST, None),
        (b'"hello"', INVALID_REQUEST, None),
        # Not JSON-RPC 2.0 (no "jsonrpc"), but the id can be read: it is answered.
        (b'{"id": 7, "method": "textDocument/hover"}', INVALID_REQUEST, 7),
        (b'{"jsonrpc": "2.0", "id": 8, "method": ["a"], "params": {}}', INVALID_REQUEST, 8),
    ],
)
def test_a_body_that_is_not_a_message_is_answered_and_skipped(
    raw: RawServer, body: bytes, code: int, msg_id: int | None
) -> None:
    raw.send(body)
    error = _error(raw.answer(msg_id))
    assert error["code"] == code
    raw.still_answers()
    raw.stop()
    raw.assert_no_traceback()


# -- headers that cannot be trusted -----------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        b"Content-Length: 99999999999\r\n\r\n",  # ~100 GB, and never sent
        b"Content-Length: 67108865\r\n\r\n",  # 64 MiB + 1
        b"Content-Length: -5\r\n\r\n",
        b"Content-Length: twelve\r\n\r\n",
        b"Content-Length: 12 \r\nContent-Length: 1e9\r\n\r\n",
        b"Content-Type: application/json\r\n\r\n",  # no length at all
        b"X" * 100_000,  # a header line with no end
    ],
)
def test_an_untrusted_header_ends_the_session_without_reading_the_body(
    raw: RawServer, header: bytes
) -> None:
    raw.still_answers()
    raw.write(header)  # stdin stays open: the server must not wait for the announced body
    # A server that waited for the body would never answer: `answer` and `wait` give up
    # after TIMEOUT (a guard against a hang, not a measure of speed) and fail the test.
    error = _error(raw.answer(None))
    assert error["code"] == INVALID_REQUEST
    assert raw.wait() == 1
    raw.assert_no_traceback()
    assert b"Content-Length" in raw.stderr or b"header" in raw.stderr


def test_stray_blank_lines_between_messages_are_tolerated(raw: RawServer) -> None:
    raw.write(b"\r\n\r\n")
    raw.still_answers()
    raw.stop()
    raw.assert_no_traceback()


# -- well-formed requests on a document that is not open (pytest-lsp's client) ----------------


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(
        lsp.InitializeParams(capabilities=client_capabilities("visual-studio-code"))
    )
    yield
    await lsp_client.shutdown_session()


NOT_OPEN = "file:///tmp/storyc-never-opened.story"


@pytest.mark.asyncio
async def test_requests_on_a_document_never_opened_are_refused_plainly(
    client: LanguageClient,
) -> None:
    doc = lsp.TextDocumentIdentifier(uri=NOT_OPEN)
    at = lsp.Position(line=0, character=0)
    requests = [
        client.text_document_formatting_async(
            lsp.DocumentFormattingParams(
                text_document=doc, options=lsp.FormattingOptions(tab_size=4, insert_spaces=True)
            )
        ),
        client.text_document_hover_async(lsp.HoverParams(text_document=doc, position=at)),
        client.text_document_completion_async(lsp.CompletionParams(text_document=doc, position=at)),
        client.text_document_folding_range_async(lsp.FoldingRangeParams(text_document=doc)),
        client.text_document_document_symbol_async(lsp.DocumentSymbolParams(text_document=doc)),
        client.text_document_definition_async(lsp.DefinitionParams(text_document=doc, position=at)),
    ]
    for pending in requests:
        with pytest.raises(JsonRpcException) as caught:
            await pending
        error = caught.value
        assert error.code == INVALID_PARAMS
        assert error.message == f"document {NOT_OPEN} is not open"
        assert error.data is None

"""An OpenAI-compatible chat completions server for tests and benchmarks.

It speaks the real wire protocol over real HTTP (`POST /v1/chat/completions`, answered
with `text/event-stream` in chunked transfer encoding, or JSON errors), and follows a
script: each request takes the next `Reply`, or the default one when the script is empty.
"""

import json
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    pieces: list[str] = field(default_factory=lambda: ["Hello", " there."])
    status: int = 200
    first_token_delay: float = 0.0
    token_delay: float = 0.0
    cut_after: int | None = None  # drop the connection after this many pieces


def first_source(body: dict) -> str:
    """The text of source 1 in a chat request Keel sent, to answer from it."""
    sources = next(m["content"] for m in body["messages"] if m["content"].startswith("SOURCES"))
    return sources.split("\n", 2)[2].split("</source>")[0]


class FakeLLMServer:
    def __init__(
        self, *, default: Reply | None = None, respond: Callable[[dict], Reply] | None = None
    ):
        self.default = default or Reply()
        self.respond = respond  # when set, builds each unscripted reply from the request
        self.script: deque[Reply] = deque()
        self.requests: list[dict] = []
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> "FakeLLMServer":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next_reply(self, body: dict) -> Reply:
        if self.script:
            return self.script.popleft()
        return self.respond(body) if self.respond else self.default

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output quiet
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                headers = {name.lower(): value for name, value in self.headers.items()}
                server.requests.append({"path": self.path, "headers": headers, **body})
                reply = server._next_reply(body)
                if reply.status != 200:
                    self._error(reply.status)
                    return
                time.sleep(reply.first_token_delay)
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for index, piece in enumerate(reply.pieces):
                    if reply.cut_after is not None and index == reply.cut_after:
                        self.wfile.flush()
                        self.connection.shutdown(2)  # mid-stream, no closing chunk
                        self.close_connection = True
                        return
                    if index:
                        time.sleep(reply.token_delay)
                    self._event(_chunk(body["model"], {"content": piece}, None))
                self._event(_chunk(body["model"], {}, "stop"))
                self._send_chunk(b"data: [DONE]\n\n")
                self._send_chunk(b"")

            def _event(self, payload: dict) -> None:
                self._send_chunk(f"data: {json.dumps(payload)}\n\n".encode())

            def _send_chunk(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            def _error(self, status: int) -> None:
                data = json.dumps(
                    {"error": {"message": "scripted failure", "type": "server_error"}}
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        """A client that hangs up (a timed-out test, a closed benchmark) is no error here."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _chunk(model: str, delta: dict, finish_reason: str | None) -> dict:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }

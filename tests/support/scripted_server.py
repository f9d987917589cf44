"""A real OpenAI-compatible HTTP server that replays a script, for tests and end-to-end runs.

It speaks just enough of the OpenAI API for litellm (and any OpenAI client) to talk to it:
``POST /v1/chat/completions`` (streaming server-sent events, or plain JSON) and
``GET /v1/models``. Every request body is recorded, and so is the moment a client hangs up
in the middle of a reply, so tests can check both what was sent and that a cancelled
stream really closed its connection.

Use it in-process (the ``scripted_server`` pytest fixture wraps this)::

    server = ScriptedServer(["Hello!", {"status": 429, "retry_after": 0}]).start()
    ... api_base=server.url ...   # "http://127.0.0.1:PORT/v1"
    server.requests[0].body["messages"]
    server.stop()

or as a process (end-to-end tests run the real ``autopilot`` binary against it)::

    python -m tests.support.scripted_server --port 0 --script script.json [--log req.jsonl]

which prints its base URL (``http://127.0.0.1:PORT/v1``) as the first line of stdout, then
serves until it is terminated. ``--log`` appends every request body as a JSON line.

Script format (JSON, or the same structure in Python)
-----------------------------------------------------
The script is either a list of replies (used in order, one per chat request) or an object::

    {"replies": [reply, ...],                 # used in order, one per request
     "rules":   [{"match": "regex", "reply": reply, "times": 1}, ...],
     "default": reply}                        # when no rule matches and no reply is left

For each chat request the server first tries the rules in order: a rule applies when its
regex (``re.search``, DOTALL) matches the text of the last user message; ``times``
(optional) limits how often it may be used. Otherwise the next queued reply is used, then
``default``. With nothing left it answers 500 with "scripted server: no reply left", so a
test that runs out of script fails loudly.

A reply is one of:

- ``"some text"`` — streamed in chunks of 4 characters;
- ``{"text": "...", "chunks": ["a", "b"], "chunk_size": 4, "delay_s": 0.0,
  "hang_after": 2, "usage": {"prompt_tokens": 10, "completion_tokens": 3}}`` — ``chunks``
  gives the exact pieces (else ``text`` is split every ``chunk_size`` characters),
  ``delay_s`` is slept before each chunk, ``hang_after`` sends that many chunks and then
  hangs (for cancellation tests), ``usage`` overrides the estimated token counts;
- ``{"status": 429, "message": "...", "type": "...", "code": "...", "retry_after": 1}`` —
  an error response with an OpenAI-style body (``{"error": {...}}``) and, when given, a
  ``Retry-After`` header;
- ``"hang"`` or ``{"hang": true}`` — read the request and never answer (timeouts).

Like real servers it honours ``stop``: the text is cut before the first stop sequence. When
the request sets ``stream_options.include_usage`` a final chunk carries the usage.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

Reply = str | Mapping[str, Any]
POLL_S = 0.01  # how often a sleeping or hanging reply checks whether the client left


@dataclass
class RecordedRequest:
    """One request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    received_at: float
    outcome: str = "pending"  # "done", "error", "client_closed", "stopped"
    ended_at: float | None = None

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", [])) if isinstance(self.body, dict) else []


@dataclass
class _Rule:
    pattern: re.Pattern[str]
    reply: Reply
    times: int | None = None


@dataclass
class ScriptedServer:
    """The server; ``start()`` binds 127.0.0.1 on a free port and serves in a thread."""

    script: Sequence[Reply] | Mapping[str, Any] = ()
    port: int = 0
    log_path: Path | None = None
    requests: list[RecordedRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._replies: list[Reply] = []
        self._rules: list[_Rule] = []
        self._default: Reply | None = None
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.load(self.script)

    # --- script ---------------------------------------------------------------------------

    def load(self, script: Sequence[Reply] | Mapping[str, Any]) -> None:
        """Replace the script (a list of replies or a ``{"replies", "rules", "default"}``)."""
        if isinstance(script, Mapping):
            replies = list(script.get("replies", []))
            rules = [
                _Rule(re.compile(r["match"], re.DOTALL), r["reply"], r.get("times"))
                for r in script.get("rules", [])
            ]
            default = script.get("default")
        else:
            replies, rules, default = list(script), [], None
        with self._lock:
            self._replies, self._rules, self._default = replies, rules, default

    def push(self, *replies: Reply) -> None:
        """Queue more replies."""
        with self._lock:
            self._replies.extend(replies)

    def _next_reply(self, body: Any) -> Reply:
        last_user = _last_user_text(body)
        with self._lock:
            for rule in self._rules:
                if rule.times == 0 or not rule.pattern.search(last_user):
                    continue
                if rule.times is not None:
                    rule.times -= 1
                return rule.reply
            if self._replies:
                return self._replies.pop(0)
            if self._default is not None:
                return self._default
        return {"status": 500, "message": "scripted server: no reply left", "type": "server_error"}

    # --- lifecycle ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The OpenAI base URL, ``http://127.0.0.1:PORT/v1``."""
        if self._httpd is None:
            raise RuntimeError("server not started")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def start(self) -> ScriptedServer:
        self._httpd = _HTTPServer(("127.0.0.1", self.port), _Handler, self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- observations ---------------------------------------------------------------------

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Wait until ``predicate()`` holds (re-checked whenever a request changes)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True

    def _record(self, request: RecordedRequest) -> None:
        with self._changed:
            self.requests.append(request)
            self._changed.notify_all()
        if self.log_path is not None:
            with self.log_path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps({"path": request.path, "body": request.body}) + "\n")

    def _finish(self, request: RecordedRequest, outcome: str) -> None:
        with self._changed:
            request.outcome = outcome
            request.ended_at = time.monotonic()
            self._changed.notify_all()


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type, owner: ScriptedServer) -> None:
        self.owner = owner
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up between requests is normal (cancellation tests do it).
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _ClientGone(Exception):
    """The client closed the connection in the middle of a reply."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    # --- routing --------------------------------------------------------------------------

    def do_GET(self) -> None:
        owner = self.server.owner
        request = self._recorded(None)
        if self.path.rstrip("/").endswith("/models"):
            data = [{"id": "scripted", "object": "model", "owned_by": "scripted-server"}]
            self._send_json(200, {"object": "list", "data": data})
            owner._finish(request, "done")
        else:
            self._send_error_reply({"status": 404, "message": f"no route {self.path}"})
            owner._finish(request, "error")

    def do_POST(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            body = raw.decode("utf-8", "replace")
        request = self._recorded(body)
        if not self.path.rstrip("/").endswith("/chat/completions") or not isinstance(body, dict):
            self._send_error_reply({"status": 404, "message": f"no route {self.path}"})
            owner._finish(request, "error")
            return
        reply = owner._next_reply(body)
        try:
            outcome = self._answer(body, reply)
        except (_ClientGone, BrokenPipeError, ConnectionResetError):
            outcome = "client_closed"
            self.close_connection = True
        owner._finish(request, outcome)

    def _recorded(self, body: Any) -> RecordedRequest:
        request = RecordedRequest(
            method=self.command,
            path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            received_at=time.monotonic(),
        )
        self.server.owner._record(request)
        return request

    # --- replies --------------------------------------------------------------------------

    def _answer(self, body: dict[str, Any], reply: Reply) -> str:
        if reply == "hang" or (isinstance(reply, Mapping) and reply.get("hang")):
            self._wait(None)
            return "stopped"
        spec: Mapping[str, Any] = {"text": reply} if isinstance(reply, str) else reply
        if "status" in spec:
            self._send_error_reply(spec)
            return "error"
        chunks = _cut_at_stop(_chunks(spec), body.get("stop"))
        text = "".join(chunks)
        usage = dict(spec.get("usage") or _estimate_usage(body, text))
        model = str(body.get("model", "scripted"))
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return self._stream(model, chunks, spec, usage if include_usage else None)
        message = {"role": "assistant", "content": text}
        choice = {"index": 0, "message": message, "finish_reason": "stop"}
        self._send_json(
            200, {**_envelope(model, "chat.completion"), "choices": [choice], "usage": usage}
        )
        return "done"

    def _stream(
        self,
        model: str,
        chunks: list[str],
        spec: Mapping[str, Any],
        usage: dict[str, int] | None,
    ) -> str:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        delay = float(spec.get("delay_s", 0.0))
        hang_after = spec.get("hang_after")
        envelope = _envelope(model, "chat.completion.chunk")
        for index, piece in enumerate(chunks):
            if hang_after is not None and index >= int(hang_after):
                self._wait(None)
                return "stopped"
            if delay:
                self._wait(delay)
            delta = {"role": "assistant", "content": piece} if index == 0 else {"content": piece}
            choice = {"index": 0, "delta": delta, "finish_reason": None}
            self._event({**envelope, "choices": [choice]})
        if hang_after is not None and len(chunks) <= int(hang_after):
            self._wait(None)
            return "stopped"
        self._event({**envelope, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if usage is not None:
            self._event({**envelope, "choices": [], "usage": usage})
        self._write_chunk(b"data: [DONE]\n\n")
        self._write_chunk(b"")
        return "done"

    def _event(self, payload: Mapping[str, Any]) -> None:
        self._write_chunk(b"data: " + json.dumps(payload).encode() + b"\n\n")

    def _write_chunk(self, data: bytes) -> None:
        """One piece of chunked transfer encoding (an empty one ends the body)."""
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _wait(self, seconds: float | None) -> None:
        """Sleep (forever when ``None``) but notice at once when the client hangs up."""
        deadline = None if seconds is None else time.monotonic() + seconds
        stopping = self.server.owner._stopping
        while not stopping.is_set():
            timeout = POLL_S if deadline is None else min(POLL_S, deadline - time.monotonic())
            if timeout <= 0:
                return
            readable, _, _ = select.select([self.connection], [], [], timeout)
            if readable and _peer_closed(self.connection):
                raise _ClientGone
        if seconds is None:
            self.close_connection = True

    def _send_error_reply(self, spec: Mapping[str, Any]) -> None:
        status = int(spec["status"])
        error = {
            "message": spec.get("message", f"scripted error {status}"),
            "type": spec.get("type", _ERROR_TYPES.get(status, "server_error")),
            "param": None,
            "code": spec.get("code", _ERROR_CODES.get(status)),
        }
        headers = {}
        if spec.get("retry_after") is not None:
            headers["Retry-After"] = str(spec["retry_after"])
        self._send_json(status, {"error": error}, headers)

    def _send_json(
        self, status: int, payload: Any, headers: Mapping[str, str] | None = None
    ) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()


_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    404: "invalid_request_error",
    429: "rate_limit_exceeded",
}
_ERROR_CODES = {401: "invalid_api_key", 404: "model_not_found", 429: "rate_limit_exceeded"}


def _peer_closed(conn: socket.socket) -> bool:
    try:
        return conn.recv(1, socket.MSG_PEEK) == b""
    except (ConnectionResetError, OSError):
        return True


def _envelope(model: str, kind: str) -> dict[str, Any]:
    return {"id": "chatcmpl-scripted", "object": kind, "created": int(time.time()), "model": model}


def _chunks(spec: Mapping[str, Any]) -> list[str]:
    if "chunks" in spec:
        return [str(c) for c in spec["chunks"]]
    text = str(spec.get("text", ""))
    size = max(1, int(spec.get("chunk_size", 4)))
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _cut_at_stop(chunks: list[str], stop: Any) -> list[str]:
    """Cut the reply before the first stop sequence, keeping the chunk boundaries."""
    stops = [stop] if isinstance(stop, str) else [s for s in (stop or []) if s]
    text = "".join(chunks)
    cut = min((i for i in (text.find(s) for s in stops) if i >= 0), default=-1)
    if cut < 0:
        return chunks
    kept, used = [], 0
    for chunk in chunks:
        if used + len(chunk) >= cut:
            if cut > used:
                kept.append(chunk[: cut - used])
            break
        kept.append(chunk)
        used += len(chunk)
    return kept or [""]


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def _last_user_text(body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    for message in reversed(body.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            return _content_text(message.get("content"))
    return ""


def _estimate_usage(body: Mapping[str, Any], text: str) -> dict[str, int]:
    prompt_chars = sum(len(_content_text(m.get("content"))) for m in body.get("messages") or [])
    prompt, completion = max(1, prompt_chars // 4), max(1, len(text) // 4)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


@contextlib.contextmanager
def server_process(script: Any, workdir: Path, *, log: Path | None = None) -> Iterator[str]:
    """Run the server as its own process (for tests of the real binary); yields its URL.

    ``script`` is written to ``workdir/script*.json`` in the format described above."""
    path = workdir / f"script-{time.monotonic_ns()}.json"
    path.write_text(json.dumps(script))
    argv = [
        sys.executable,
        "-m",
        "tests.support.scripted_server",
        "--port",
        "0",
        "--script",
        str(path),
    ]
    if log is not None:
        argv += ["--log", str(log)]
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(argv, cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip()
    finally:
        process.terminate()
        # SIGTERM is its normal way out: anything but a clean exit is a bug in the server.
        assert process.wait(10) == 0, f"scripted server exited with {process.returncode}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve a scripted OpenAI-compatible API.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--script", type=Path, required=True, help="JSON script (see docstring)")
    parser.add_argument("--log", type=Path, help="append each request body here as JSON lines")
    args = parser.parse_args(argv)
    script = json.loads(args.script.read_text(encoding="utf-8"))
    server = ScriptedServer(script, port=args.port, log_path=args.log).start()
    print(server.url, flush=True)
    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    while not stopped.wait(0.2):
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

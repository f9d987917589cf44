"""The host's connection to one runner: a reader thread, futures, and dispatch.

A :class:`Transport` is a blocking byte pipe to the runner (Docker's attach socket, or a
subprocess's pipes). A reader thread blocks on it, cuts the bytes into frames and hands
them to the event loop in batches (one wake-up per read, not per frame), so the hot path
has no polling and no sleeps.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import threading
from collections.abc import Callable
from typing import Any, Protocol

from autopilot.sandbox._protocol import FrameDecoder, encode_frame

Frame = tuple[dict[str, Any], bytes]
MAX_BATCHES_IN_FLIGHT = 64  # each batch is at most one 1 MiB read
MAX_BACKGROUND_BYTES = 1 << 20


class Transport(Protocol):
    def send(self, data: bytes) -> None: ...

    def recv(self) -> bytes:
        """Protocol bytes from the runner; ``b""`` once it is gone."""

    def close(self) -> None: ...


class CellHandlers:
    """Where one running cell's messages go."""

    def __init__(
        self,
        on_output: Callable[[str, bytes], None],
        on_image: Callable[[dict[str, Any], bytes], None],
        on_tool_call: Callable[[dict[str, Any]], None],
    ) -> None:
        self.on_output = on_output
        self.on_image = on_image
        self.on_tool_call = on_tool_call


class RunnerClient:
    """Speaks the runner protocol over a transport; one instance per runner process."""

    def __init__(self, transport: Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport = transport
        self.loop = loop
        self.ready: asyncio.Future[dict[str, Any]] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self._results: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._handlers: dict[int, CellHandlers] = {}
        self._pongs: dict[int, asyncio.Future[None]] = {}
        self._ping_counter = 0
        self._send_lock = threading.Lock()
        self._background: collections.deque[tuple[str, bytes]] = collections.deque()
        self._background_bytes = 0
        # Backpressure: at most this many read batches wait for the loop, so a flood the
        # front end cannot keep up with stalls the runner instead of filling memory.
        self._in_flight = threading.Semaphore(MAX_BATCHES_IN_FLIGHT)
        self._stopping = False
        self._thread = threading.Thread(
            target=self._read_loop, name="autopilot-runner-reader", daemon=True
        )
        self._thread.start()

    # --- sending ------------------------------------------------------------------------

    def send(self, header: dict[str, Any], payload: bytes = b"") -> None:
        data = encode_frame(header, payload)
        with self._send_lock:
            self.transport.send(data)

    def execute(
        self, cell_id: int, name: str, code: str, handlers: CellHandlers
    ) -> asyncio.Future[dict[str, Any]]:
        future: asyncio.Future[dict[str, Any]] = self.loop.create_future()
        self._results[cell_id] = future
        self._handlers[cell_id] = handlers
        self.send(
            {"type": "exec", "id": cell_id, "name": name}, code.encode("utf-8", "surrogatepass")
        )
        return future

    def interrupt(self, cell_id: int) -> None:
        self.send({"type": "interrupt", "id": cell_id})

    async def ping(self) -> None:
        self._ping_counter += 1
        future: asyncio.Future[None] = self.loop.create_future()
        self._pongs[self._ping_counter] = future
        self.send({"type": "ping", "id": self._ping_counter})
        await future

    def close(self) -> None:
        self._stopping = True
        with contextlib.suppress(Exception):
            self.transport.close()

    # --- receiving ----------------------------------------------------------------------

    def _read_loop(self) -> None:
        decoder = FrameDecoder()
        try:
            while True:
                data = self.transport.recv()
                if not data:
                    break
                frames = decoder.feed(data)
                if not frames:
                    continue
                if not self._wait_for_room():
                    break
                self.loop.call_soon_threadsafe(self._dispatch, frames)
        except Exception:  # a broken socket is the same as the runner going away
            pass
        with contextlib.suppress(RuntimeError):  # the loop may be closed already
            self.loop.call_soon_threadsafe(self._on_closed)

    def _wait_for_room(self) -> bool:
        """Backpressure; False when closing, so the reader stops (and still says closed)."""
        while not self._in_flight.acquire(timeout=1.0):
            if self._stopping or self.loop.is_closed():
                return False
        return True

    def _dispatch(self, frames: list[Frame]) -> None:
        try:
            self._dispatch_frames(frames)
        finally:
            self._in_flight.release()

    def _dispatch_frames(self, frames: list[Frame]) -> None:
        for header, payload in frames:
            kind = header.get("type")
            cell_id = header.get("id")
            handlers = self._handlers.get(cell_id) if cell_id is not None else None
            if kind == "out":
                if handlers is not None:
                    handlers.on_output(header.get("stream", "stdout"), payload)
                else:
                    self._keep_background(header.get("stream", "stdout"), payload)
            elif kind == "result":
                self._handlers.pop(cell_id, None)
                future = self._results.pop(cell_id, None)
                if future is not None and not future.done():
                    future.set_result(header)
            elif kind == "image" and handlers is not None:
                handlers.on_image(header, payload)
            elif kind == "tool_call":
                if handlers is not None:
                    handlers.on_tool_call(header)
                else:  # from a thread that outlived its cell: answer, never leave it hanging
                    message = "host tools can only be called while a cell runs"
                    error = {"kind": "ToolError", "message": message}
                    with contextlib.suppress(OSError):
                        self.send(
                            {
                                "type": "tool_result",
                                "call_id": header.get("call_id"),
                                "ok": False,
                                "error": error,
                            }
                        )
            elif kind == "ready" and not self.ready.done():
                self.ready.set_result(header)
            elif kind == "pong":
                pong = self._pongs.pop(header.get("id"), None)
                if pong is not None and not pong.done():
                    pong.set_result(None)

    def _keep_background(self, stream: str, data: bytes) -> None:
        """Output between cells (background threads, processes): the latest MiB is kept."""
        self._background.append((stream, data))
        self._background_bytes += len(data)
        while self._background_bytes > MAX_BACKGROUND_BYTES and len(self._background) > 1:
            _stream, dropped = self._background.popleft()
            self._background_bytes -= len(dropped)

    def take_background_output(self) -> list[tuple[str, bytes]]:
        """What was printed since the last cell ended, oldest first; clears it."""
        taken = list(self._background)
        self._background.clear()
        self._background_bytes = 0
        return taken

    def _on_closed(self) -> None:
        if not self.closed.done():
            self.closed.set_result(None)
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("the runner exited before it was ready"))
            self.ready.exception()  # mark retrieved: callers may never await it
        for future in [*self._results.values(), *self._pongs.values()]:
            if not future.done():
                future.set_exception(ConnectionError("the runner went away"))
                future.exception()
        self._results.clear()
        self._pongs.clear()
        self._handlers.clear()

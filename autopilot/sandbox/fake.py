"""``FakeSandbox``: an in-process test double for the ``Sandbox`` Protocol, shipped in the library.

It really runs cells — ``exec`` in one dict namespace on a worker thread, so state persists
between cells, ``print`` output streams chunk by chunk, the value of a trailing expression
comes back, and :meth:`interrupt` raises ``KeyboardInterrupt`` inside the running cell. It
isolates nothing: use it for tests and demos only.

``respond`` scripts results: a callable that receives each cell's code and returns an
``ExecResult`` (or a :class:`ScriptedRun` with output chunks to stream first) to use
instead of running it, or ``None`` to run it. A scripted result with ``state_lost=True``
throws the namespace away, as a real sandbox restart would. ``start_error`` makes
:meth:`start` fail (Docker down), ``start_delay_s`` makes it slow.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import ctypes
import threading
import time
import traceback
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from autopilot.sandbox.base import (
    ExecError,
    ExecResult,
    OutputCallback,
    OutputChunk,
    SandboxStateName,
    ToolHandler,
    ToolSpec,
)


@dataclass(frozen=True)
class ScriptedRun:
    """A scripted cell: stream ``chunks`` (``delay_s`` apart), then return ``result``."""

    result: ExecResult
    chunks: tuple[OutputChunk, ...] = ()
    delay_s: float = 0.0


Responder = Callable[[str], "ExecResult | ScriptedRun | None"]

_DONE = object()


@dataclass
class FakeSandbox:
    respond: Responder | None = None
    start_error: BaseException | None = None
    start_delay_s: float = 0.0
    interrupt_grace_s: float = 1.0
    calls: list[str] = field(default_factory=list)
    starts: int = 0
    restarts: int = 0
    tool_handler: ToolHandler | None = None
    tool_specs: list[ToolSpec] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._state: SandboxStateName = "new"
        self.namespace: dict[str, Any] = {"__name__": "__main__"}
        self._thread: threading.Thread | None = None
        self._scripted_wake: asyncio.Event | None = None

    @property
    def state(self) -> SandboxStateName:
        return self._state

    async def start(self) -> None:
        if self._state in ("ready", "busy"):
            return
        self._state = "starting"
        self.starts += 1
        if self.start_delay_s:
            await asyncio.sleep(self.start_delay_s)
        if self.start_error is not None:
            self._state = "failed"
            raise self.start_error
        self._state = "ready"

    async def run(
        self, code: str, *, timeout: float | None = None, on_output: OutputCallback | None = None
    ) -> ExecResult:
        result = ExecResult()
        async for item in self.stream(code, timeout=timeout):
            if isinstance(item, ExecResult):
                result = item
            elif on_output is not None:
                on_output(item)
        return result

    async def stream(
        self, code: str, *, timeout: float | None = None
    ) -> AsyncIterator[OutputChunk | ExecResult]:
        await self.start()
        self.calls.append(code)
        self._state = "busy"
        try:
            scripted = self.respond(code) if self.respond else None
            if scripted is not None:
                async for item in self._replay(scripted):
                    yield item
            else:
                async for item in self._execute(code, timeout):
                    yield item
        finally:
            if self._state == "busy":
                self._state = "ready"

    async def _replay(
        self, scripted: ExecResult | ScriptedRun
    ) -> AsyncIterator[OutputChunk | ExecResult]:
        run = scripted if isinstance(scripted, ScriptedRun) else ScriptedRun(scripted)
        self._scripted_wake = asyncio.Event()
        try:
            for chunk in run.chunks:
                yield chunk
                if run.delay_s:
                    try:
                        await asyncio.wait_for(self._scripted_wake.wait(), run.delay_s)
                    except TimeoutError:
                        continue
                    yield ExecResult(interrupted=True, error=ExecError("KeyboardInterrupt", ""))
                    return
        finally:
            self._scripted_wake = None
        if run.result.state_lost:
            self._reset()
        yield run.result

    async def _execute(
        self, code: str, timeout: float | None
    ) -> AsyncIterator[OutputChunk | ExecResult]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        namespace = self.namespace

        def post(*items: Any) -> None:
            for item in items:
                with contextlib.suppress(RuntimeError):  # the loop closed under an abandoned cell
                    loop.call_soon_threadsafe(queue.put_nowait, item)

        def work() -> None:
            result = _run_cell(code, namespace, post)
            try:
                post(result, _DONE)
            except KeyboardInterrupt:  # an interrupt that arrived just after the cell ended
                post(result, _DONE)

        thread = threading.Thread(target=work, name="fake-sandbox-cell", daemon=True)
        self._thread = thread
        started = time.monotonic()
        thread.start()
        deadline = None if timeout is None else started + timeout
        interrupted_at: float | None = None
        try:
            while True:
                wait = None
                if interrupted_at is not None:
                    wait = max(0.0, interrupted_at + self.interrupt_grace_s - time.monotonic())
                elif deadline is not None:
                    wait = max(0.0, deadline - time.monotonic())
                try:
                    item = await asyncio.wait_for(queue.get(), wait)
                except TimeoutError:
                    if interrupted_at is None:  # the timeout: interrupt, then wait a grace period
                        interrupted_at = time.monotonic()
                        _raise_in_thread(thread, KeyboardInterrupt)
                        continue
                    # The cell ignored the interrupt: abandon it and lose the state.
                    self._reset()
                    yield ExecResult(
                        error=ExecError("TimeoutError", f"the cell ran longer than {timeout} s"),
                        duration_s=time.monotonic() - started,
                        state_lost=True,
                        timed_out=True,
                    )
                    return
                if item is _DONE:
                    return
                if isinstance(item, ExecResult):
                    timed_out = interrupted_at is not None
                    item = _replace(
                        item, duration_s=time.monotonic() - started, timed_out=timed_out
                    )
                yield item
        finally:
            self._thread = None

    async def interrupt(self) -> None:
        if self._scripted_wake is not None:
            self._scripted_wake.set()
        thread = self._thread
        if thread is not None and thread.is_alive():
            _raise_in_thread(thread, KeyboardInterrupt)

    async def restart(self) -> None:
        self._reset()
        self._state = "ready"

    async def close(self) -> None:
        await self.interrupt()
        self._state = "stopped"

    def set_tool_handler(
        self, handler: ToolHandler | None, tools: list[ToolSpec] | None = None
    ) -> None:
        self.tool_handler = handler
        self.tool_specs = list(tools or [])

    def _reset(self) -> None:
        self.restarts += 1
        self.namespace = {"__name__": "__main__"}


def _replace(result: ExecResult, **changes: Any) -> ExecResult:
    import dataclasses

    return dataclasses.replace(result, **changes)


def _raise_in_thread(thread: threading.Thread, exc: type[BaseException]) -> None:
    if thread.ident is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(thread.ident), ctypes.py_object(exc)
        )


def _run_cell(
    code: str, namespace: dict[str, Any], emit: Callable[[OutputChunk], None]
) -> ExecResult:
    """Run ``code`` like a notebook cell; ``print`` inside it streams through ``emit``."""
    out: list[str] = []
    err: list[str] = []

    def fake_print(
        *args: Any, sep: str = " ", end: str = "\n", file: Any = None, flush: bool = False
    ) -> None:
        import sys

        text = sep.join(str(a) for a in args) + end
        stream = "stderr" if file is sys.stderr else "stdout"
        (err if stream == "stderr" else out).append(text)
        emit(OutputChunk(stream, text))

    namespace["print"] = fake_print
    value: str | None = None
    error: ExecError | None = None
    interrupted = False
    try:
        tree = ast.parse(code, "<cell>")
        last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        if last is not None:
            tree.body.pop()
        exec(compile(tree, "<cell>", "exec"), namespace)
        if last is not None:
            result = eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace)
            if result is not None:
                value = repr(result)
    except KeyboardInterrupt:
        interrupted = True
        error = ExecError("KeyboardInterrupt", "")
    except BaseException as exc:  # the cell's own error, reported like a real sandbox would
        frames = traceback.format_exception(
            type(exc), exc, exc.__traceback__.tb_next if exc.__traceback__ else None
        )
        error = ExecError(type(exc).__name__, str(exc), "".join(frames))
    return ExecResult(
        stdout="".join(out), stderr="".join(err), value=value, error=error, interrupted=interrupted
    )

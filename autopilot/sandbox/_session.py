"""What every runner-backed sandbox shares: cells, timeouts, recovery, the tool bridge.

A backend (Docker, a local subprocess) only knows how to launch a runner and give back a
:class:`Transport`, how to destroy it, and how to explain why it died. Everything else —
running cells one at a time, streaming output, capping what the model sees, timeouts and
interrupts with escalation to a restart, crash recovery, host tool calls — lives here.
"""

from __future__ import annotations

import asyncio
import base64
import codecs
import contextlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from autopilot.config import SandboxConfig
from autopilot.errors import PermissionDenied, SandboxError, ToolError
from autopilot.sandbox._client import CellHandlers, RunnerClient, Transport
from autopilot.sandbox._output import OutputCollector
from autopilot.sandbox.base import (
    ExecError,
    ExecImage,
    ExecResult,
    OutputCallback,
    OutputChunk,
    SandboxStateName,
    ToolHandler,
    ToolRequest,
    ToolSpec,
)
from autopilot.sandbox.runner import BOOTSTRAP

# How long a cell gets to stop after KeyboardInterrupt before the runner is replaced.
INTERRUPT_GRACE_S = 2.0
READY_TIMEOUT_S = 60.0
OUTPUTS_DIR = Path(".autopilot") / "outputs"


def runner_source() -> bytes:
    return (Path(__file__).with_name("runner.py")).read_bytes()


def bootstrap_command(python: str = "python3") -> list[str]:
    return [python, "-c", BOOTSTRAP]


class RunnerSandbox:
    """The Sandbox Protocol over a runner; subclasses provide the process it runs in."""

    backend = "runner"

    def __init__(self, config: SandboxConfig, *, session_id: str, workspace: Path) -> None:
        self.config = config
        self.session_id = session_id
        self.workspace = Path(workspace).resolve()
        self.interrupt_grace_s = INTERRUPT_GRACE_S
        self._state: SandboxStateName = "new"
        self._client: RunnerClient | None = None
        self._start_task: asyncio.Task[None] | None = None
        self._run_lock = asyncio.Lock()
        self._life_lock = asyncio.Lock()
        self._generation = 0
        self._cells = 0
        self._interrupt_event: asyncio.Event | None = None
        self._state_lost_note: str | None = None
        self._settling: asyncio.Task[None] | None = None
        self._tool_handler: ToolHandler | None = None
        self._tools: list[ToolSpec] = []

    # --- what a backend provides (blocking; called in a worker thread) -----------------

    def _launch(self) -> Transport:
        raise NotImplementedError

    def _destroy(self) -> None:
        raise NotImplementedError

    def _death_reason(self) -> tuple[str, str]:
        """``(error type, why)`` after the runner went away, e.g. ``("MemoryError", ...)``."""
        return "SandboxCrashed", "the sandbox process exited"

    def _shown_output_path(self, name: str) -> str:
        return str(self.workspace / OUTPUTS_DIR / f"{name}.txt")

    # --- lifecycle ----------------------------------------------------------------------

    @property
    def state(self) -> SandboxStateName:
        return self._state

    async def start(self) -> None:
        """Start the runner (idempotent). Kick it off early with ``create_task(sb.start())``."""
        if self._state == "stopped":
            raise SandboxError("the sandbox is closed", hint="create a new sandbox")
        if self._start_task is None or (self._start_task.done() and self._start_task.exception()):
            self._start_task = asyncio.ensure_future(self._start_runner())
        await asyncio.shield(self._start_task)

    async def _start_runner(self) -> None:
        self._state = "starting"
        loop = asyncio.get_running_loop()
        try:
            transport = await asyncio.to_thread(self._launch)
            source = runner_source()
            transport.send(len(source).to_bytes(4, "big") + source)
            client = RunnerClient(transport, loop)
            try:
                await asyncio.wait_for(asyncio.shield(client.ready), READY_TIMEOUT_S)
            except (ConnectionError, TimeoutError) as exc:
                client.close()
                _kind, why = await asyncio.to_thread(self._death_reason)
                raise SandboxError(
                    f"the sandbox runner did not start: {why}",
                    hint="check `autopilot sandbox ps` and rebuild with `autopilot sandbox build --force`",
                ) from exc
        except BaseException:
            self._state = "failed"
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self._destroy)
            raise
        self._client = client
        if self._tools:
            client.send({"type": "define_tools", "tools": [_spec_dict(t) for t in self._tools]})
        self._state = "ready"

    async def _replace_runner(self, generation: int) -> None:
        """Throw the runner away and start a new one, unless someone already did."""
        async with self._life_lock:
            if generation != self._generation or self._state == "stopped":
                return
            self._generation += 1
            self._state = "restarting"
            if self._client is not None:
                self._client.close()
                self._client = None
            await asyncio.to_thread(self._destroy)
            self._start_task = asyncio.ensure_future(self._start_runner())
            await asyncio.shield(self._start_task)

    async def restart(self) -> None:
        await self.start()
        await self._replace_runner(self._generation)
        self._state_lost_note = None

    async def close(self) -> None:
        if self._state == "stopped":
            return
        self._state = "stopped"
        if self._start_task is not None and not self._start_task.done():
            with contextlib.suppress(BaseException):
                await self._start_task
        if self._client is not None:
            self._client.close()
            self._client = None
        await asyncio.to_thread(self._destroy)

    async def __aenter__(self) -> RunnerSandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def interrupt(self) -> None:
        if self._interrupt_event is not None:
            self._interrupt_event.set()

    def set_tool_handler(
        self, handler: ToolHandler | None, tools: list[ToolSpec] | None = None
    ) -> None:
        self._tool_handler = handler
        if tools is not None:
            self._tools = list(tools)
            if self._client is not None and not self._client.closed.done():
                payload = [_spec_dict(t) for t in self._tools]
                with contextlib.suppress(OSError):
                    self._client.send({"type": "define_tools", "tools": payload})

    # --- running cells ------------------------------------------------------------------

    async def stream(
        self, code: str, *, timeout: float | None = None
    ) -> AsyncIterator[OutputChunk | ExecResult]:
        queue: asyncio.Queue[OutputChunk | None] = asyncio.Queue()
        task = asyncio.ensure_future(self.run(code, timeout=timeout, on_output=queue.put_nowait))
        task.add_done_callback(lambda _t: queue.put_nowait(None))
        try:
            while (item := await queue.get()) is not None:
                yield item
            yield task.result()
        finally:
            if not task.done():
                task.cancel()

    async def run_shell(
        self, command: str, *, timeout: float | None = None, on_output: OutputCallback | None = None
    ) -> ExecResult:
        """Run a shell command (bash where present) in the sandbox as one cell."""
        result = await self.run(shell_code(command), timeout=timeout, on_output=on_output)
        return shell_result(result)

    async def run(
        self, code: str, *, timeout: float | None = None, on_output: OutputCallback | None = None
    ) -> ExecResult:
        async with self._run_lock:
            if self._settling is not None:
                await self._settling
                self._settling = None
            return await self._run_cell(code, timeout, on_output)

    async def _run_cell(
        self, code: str, timeout: float | None, on_output: OutputCallback | None
    ) -> ExecResult:
        client = await self._live_client()
        generation = self._generation
        self._cells += 1
        cell_id = self._cells
        cell = _Cell(self, f"{self.session_id}-{cell_id:04d}", on_output)
        if self._state_lost_note:
            note = f"[{self._state_lost_note}: variables, imports and functions from earlier cells are lost]\n"
            cell.output("stderr", note.encode())
        for stream, data in client.take_background_output():  # printed between cells
            cell.output(stream, data)
        tool_tasks: set[asyncio.Task[None]] = set()

        def on_tool_call(header: dict[str, Any]) -> None:
            task = asyncio.ensure_future(self._answer_tool(client, header, cell))
            tool_tasks.add(task)
            task.add_done_callback(tool_tasks.discard)

        timeout = self.config.timeout_s if timeout is None else timeout
        self._interrupt_event = interrupt_event = asyncio.Event()
        self._state = "busy"
        started = time.monotonic()
        try:
            handlers = CellHandlers(cell.output, cell.image, on_tool_call)
            try:
                future = client.execute(cell_id, cell.name, code, handlers)
            except OSError:
                future = asyncio.get_running_loop().create_future()
                future.set_exception(ConnectionError("the runner went away"))
            header, stop = await self._await_result(
                client, cell_id, future, timeout, interrupt_event
            )
        except asyncio.CancelledError:
            self._settling = asyncio.ensure_future(
                self._settle(client, cell_id, future, generation)
            )
            raise
        finally:
            self._interrupt_event = None
            for task in tool_tasks:
                task.cancel()
            if self._state == "busy":
                self._state = "ready"
        duration = time.monotonic() - started
        if header is None:
            error = await self._loss_error(stop, timeout)
            await self._replace_runner(generation)
            return cell.result(None, error, duration, state_lost=True, stop=stop)
        error = _error_from(header.get("error"))
        if stop == "timeout" and error is not None and error.type == "KeyboardInterrupt":
            error = ExecError(
                "TimeoutError",
                f"the cell ran longer than {timeout:g} s and was interrupted; the namespace is kept",
                error.traceback,
            )
        lost_note, self._state_lost_note = self._state_lost_note, None
        result = cell.result(
            header.get("value"), error, duration, state_lost=bool(lost_note), stop=stop
        )
        if header.get("interrupted") and not result.interrupted:
            result = _replace(result, interrupted=True)
        return result

    async def _live_client(self) -> RunnerClient:
        """The runner's client; a runner that died while idle is replaced (and noted)."""
        await self.start()
        client = self._client
        if client is None or client.closed.done():
            _kind, why = await asyncio.to_thread(self._death_reason)
            await self._replace_runner(self._generation)
            self._state_lost_note = f"{why}; it was restarted"
            client = self._client
        if client is None:
            raise SandboxError("the sandbox is not running", hint="start a new session")
        return client

    async def _loss_error(self, stop: str | None, timeout: float) -> ExecError:
        """What to tell the model when a cell ended with the runner gone or replaced."""
        if stop == "crash":
            kind, why = await asyncio.to_thread(self._death_reason)
            return ExecError(
                kind,
                f"{why}: the sandbox was restarted; variables, imports and functions are lost "
                "(files in the workspace are kept)",
            )
        what = f"ran longer than {timeout:g} s" if stop == "timeout" else "was interrupted"
        return ExecError(
            "TimeoutError" if stop == "timeout" else "KeyboardInterrupt",
            f"the cell {what} and did not stop on KeyboardInterrupt: the sandbox was restarted; "
            "variables, imports and functions are lost",
        )

    async def _await_result(
        self,
        client: RunnerClient,
        cell_id: int,
        future: asyncio.Future[dict[str, Any]],
        timeout: float,
        interrupt_event: asyncio.Event,
    ) -> tuple[dict[str, Any] | None, str | None]:
        """``(result header or None, why it stopped early: timeout|interrupt|crash|None)``."""
        waiter = asyncio.ensure_future(interrupt_event.wait())
        try:
            await asyncio.wait(
                {future, waiter}, timeout=timeout or None, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            waiter.cancel()
        if future.done():
            return (None, "crash") if future.exception() else (future.result(), None)
        stop = "interrupt" if interrupt_event.is_set() else "timeout"
        try:
            client.interrupt(cell_id)
            return await asyncio.wait_for(asyncio.shield(future), self.interrupt_grace_s), stop
        except ConnectionError:
            return None, "crash"
        except (TimeoutError, OSError):
            return None, stop

    async def _settle(
        self,
        client: RunnerClient,
        cell_id: int,
        future: asyncio.Future[dict[str, Any]],
        generation: int,
    ) -> None:
        """A caller gave up on a cell: stop it, and replace the runner if it will not stop."""
        if future.done():
            return
        with contextlib.suppress(OSError):
            client.interrupt(cell_id)
        try:
            await asyncio.wait_for(asyncio.shield(future), self.interrupt_grace_s)
        except (TimeoutError, ConnectionError):
            self._state_lost_note = "the previous cell did not stop"
            await self._replace_runner(generation)

    # --- the tool bridge ----------------------------------------------------------------

    async def _answer_tool(self, client: RunnerClient, header: dict[str, Any], cell: _Cell) -> None:
        request = ToolRequest(
            call_id=str(header.get("call_id")),
            tool=str(header.get("tool")),
            args=header.get("args") or {},
            cell=cell.name,
        )
        reply: dict[str, Any] = {"type": "tool_result", "call_id": request.call_id}
        try:
            if self._tool_handler is None:
                raise ToolError(f"{request.tool}: no host tools are available in this session")
            result = _encode_images(await self._tool_handler(request), cell)
            json.dumps(result)
            reply.update(ok=True, result=result)
        except asyncio.CancelledError:
            # The cell ended (or was stopped) first. A thread it started may still wait on
            # this call inside the runner: answer it, or it blocks there forever.
            message = f"{request.tool}: the cell ended before the tool answered"
            with contextlib.suppress(OSError):
                client.send(
                    {**reply, "ok": False, "error": {"kind": "ToolError", "message": message}}
                )
            raise
        except PermissionDenied as exc:
            reply.update(ok=False, error={"kind": "PermissionDenied", "message": str(exc)})
        except ToolError as exc:
            reply.update(ok=False, error={"kind": "ToolError", "message": str(exc)})
        except (TypeError, ValueError) as exc:
            reply.update(ok=False, error={"kind": "ToolError", "message": f"{request.tool}: {exc}"})
        except Exception as exc:
            reply.update(
                ok=False,
                error={
                    "kind": "ToolError",
                    "message": f"{request.tool} failed: {type(exc).__name__}: {exc}",
                },
            )
        with contextlib.suppress(OSError):
            client.send(reply)


class _Cell:
    """Accumulates one cell's output and images, and calls back as they arrive."""

    def __init__(self, sandbox: RunnerSandbox, name: str, on_output: OutputCallback | None) -> None:
        self.name = name
        self.on_output = on_output
        host_path = sandbox.workspace / OUTPUTS_DIR / f"{name}.txt"
        self.collector = OutputCollector(
            sandbox.config.output_cap_chars,
            host_path,
            sandbox._shown_output_path(name),
            root=sandbox.workspace,
        )
        self.decoders = {
            s: codecs.getincrementaldecoder("utf-8")("replace") for s in ("stdout", "stderr")
        }
        self.images: list[ExecImage] = []
        self._seen: set[bytes] = set()
        self.cap = sandbox.config.output_cap_chars

    def output(self, stream: str, data: bytes) -> None:
        text = self.decoders[stream].decode(data)
        if not text:
            return
        self.collector.add(stream, text)
        if self.on_output is not None:
            self.on_output(OutputChunk(stream, text))  # type: ignore[arg-type]

    def image(self, header: dict[str, Any], png: bytes) -> None:
        self.add_image(
            ExecImage(png, int(header.get("width") or 0), int(header.get("height") or 0))
        )

    def add_image(self, image: ExecImage) -> None:
        if image.png not in self._seen:
            self._seen.add(image.png)
            self.images.append(image)

    def result(
        self,
        value: str | None,
        error: ExecError | None,
        duration: float,
        *,
        state_lost: bool,
        stop: str | None,
    ) -> ExecResult:
        for stream, decoder in self.decoders.items():
            tail = decoder.decode(b"", final=True)
            if tail:
                self.collector.add(stream, tail)
                if self.on_output is not None:
                    self.on_output(OutputChunk(stream, tail))  # type: ignore[arg-type]
        stdout, stderr, truncated, path = self.collector.finish()
        if value is not None and self.cap > 0 and len(value) > self.cap:
            half = self.cap // 2
            value = f"{value[:half]}\n[... {len(value) - 2 * half:,} characters cut ...]\n{value[-half:]}"
        return ExecResult(
            stdout=stdout,
            stderr=stderr,
            value=value,
            error=error,
            images=tuple(self.images),
            duration_s=duration,
            state_lost=state_lost,
            interrupted=stop in ("interrupt", "timeout"),
            timed_out=stop == "timeout",
            truncated=truncated,
            full_output_path=path,
        )


def shell_code(command: str) -> str:
    """A cell that runs ``command`` with bash (sh without it) and evaluates to its status.

    Works through any Sandbox's ``run`` (the agent runs ```bash blocks this way); pass the
    result to :func:`shell_result`. One expression, so the namespace only gains ``_``.
    """
    return (
        "__import__('subprocess').run("
        f"{command!r}, shell=True, stdin=__import__('subprocess').DEVNULL, "
        "executable=__import__('shutil').which('bash')).returncode"
    )


def shell_result(result: ExecResult) -> ExecResult:
    """The result of a :func:`shell_code` cell: no value, a ``ShellError`` when status != 0."""
    if result.error is not None or result.value is None:
        return result
    try:
        status = int(result.value)
    except ValueError:
        return result
    error = ExecError("ShellError", f"exit status {status}") if status else None
    return _replace(result, value=None, error=error)


def _spec_dict(spec: ToolSpec) -> dict[str, str]:
    return {"group": spec.group, "name": spec.name, "signature": spec.signature, "doc": spec.doc}


def _error_from(data: dict[str, Any] | None) -> ExecError | None:
    if not data:
        return None
    return ExecError(
        str(data.get("type", "Error")), str(data.get("message", "")), str(data.get("traceback", ""))
    )


def _encode_images(value: Any, cell: _Cell) -> Any:
    """Tool results: ExecImage / {"__image__": b64} become {"__image__": b64} and cell images."""
    if isinstance(value, ExecImage):
        cell.add_image(value)
        return {"__image__": base64.b64encode(value.png).decode()}
    if isinstance(value, dict):
        if set(value) == {"__image__"} and isinstance(value["__image__"], str):
            png = base64.b64decode(value["__image__"])
            cell.add_image(ExecImage(png, *_png_size(png)))
            return value
        return {str(k): _encode_images(v, cell) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode_images(v, cell) for v in value]
    return value


def _png_size(png: bytes) -> tuple[int, int]:
    if len(png) >= 24 and png[:8] == b"\x89PNG\r\n\x1a\n":
        return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    return 0, 0


def _replace(result: ExecResult, **changes: Any) -> ExecResult:
    import dataclasses

    return dataclasses.replace(result, **changes)

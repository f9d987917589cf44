"""Running cells: the sandbox's readiness (start + prelude), one cell's events, images.

The sandbox starts in the background as soon as possible; the first cell awaits it, and a
failure (Docker down) surfaces only then, so a reply without code never needs it. After a
restart that lost the state the prelude runs again before the next cell.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from autopilot import events as ev
from autopilot.agent import cells
from autopilot.agent.control import Failure, TurnControl, TurnInterrupted
from autopilot.config import Config
from autopilot.errors import AutopilotError, SandboxError
from autopilot.llm.base import ImagePart
from autopilot.sandbox.base import ExecError, ExecResult, OutputChunk, Sandbox

INTERRUPT_GRACE_S = 0.4  # how long an interrupted cell may take to stop before it is abandoned

Record = Callable[[ev.Event], ev.Event]


class CellRunner:
    def __init__(
        self,
        sandbox: Sandbox,
        config: Config,
        control: TurnControl,
        record: Record,
        image_folder: Callable[[], Path | None],
    ) -> None:
        self.sandbox = sandbox
        self.config = config
        self.control = control
        self.record = record
        self._image_folder = image_folder
        self._image_dir: Path | None = None
        self.ready_task: asyncio.Task[None] | None = None
        self.ready = False

    # --- readiness ------------------------------------------------------------------------

    def start_in_background(self) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop yet: the first cell starts it
        if self.ready_task is None and not self.ready:
            self.ready_task = asyncio.create_task(self._prepare(), name="sandbox-start")

    async def _prepare(self) -> None:
        await self.sandbox.start()
        result = await self.sandbox.run(cells.PRELUDE, timeout=30)
        if result.error is not None:
            raise SandboxError(
                f"the sandbox prelude failed: {result.error.type}: {result.error.message}"
            )

    async def _ensure_ready(self) -> AsyncIterator[ev.Event]:
        if self.ready:
            return
        if self.ready_task is None:
            self.ready_task = asyncio.create_task(self._prepare(), name="sandbox-start")
        task = self.ready_task
        if not task.done():
            yield self.record(ev.SandboxState(state="starting"))
        try:
            await self.control.race(asyncio.shield(task))
        except TurnInterrupted:
            raise
        except Exception as exc:
            self.ready_task = None  # the next cell tries again (Docker may be back)
            yield self.record(ev.SandboxState(state="failed", detail=str(exc)))
            if isinstance(exc, AutopilotError):
                raise
            raise SandboxError(f"the sandbox could not start: {exc}") from exc
        self.ready = True
        self.ready_task = None
        yield self.record(ev.SandboxState(state="ready"))

    # --- one cell -------------------------------------------------------------------------

    async def run(
        self,
        block_id: str,
        language: str,
        code: str,
        out: list[ExecResult],
        images: list[tuple[ImagePart, str]],
    ) -> AsyncIterator[ev.Event]:
        """Run a block, yielding its events; append its result to ``out`` and images."""
        async for event in self._ensure_ready():
            yield event
        source = cells.shell_cell(code) if language == "bash" else code
        queue = self.control.new_queue("code")
        loop = asyncio.get_running_loop()
        loop_thread = threading.get_ident()

        def on_output(chunk: OutputChunk) -> None:
            if threading.get_ident() == loop_thread:
                queue.put_nowait(chunk)
            else:
                loop.call_soon_threadsafe(queue.put_nowait, chunk)

        async def work() -> None:
            try:
                timeout = self.config.sandbox.timeout_s
                queue.put_nowait(
                    await self.sandbox.run(source, timeout=timeout, on_output=on_output)
                )
            except asyncio.CancelledError:
                raise
            except BaseException as exc:
                queue.put_nowait(Failure(exc))

        task = asyncio.create_task(work(), name=f"cell-{block_id}")
        started = time.monotonic()
        yield self.record(ev.CodeStarted(block_id=block_id, code=code, language=language))
        shown: list[str] = []
        result: ExecResult | None = None
        deadline: float | None = None
        try:
            while result is None:
                if self.control.interrupted and deadline is None:
                    deadline = time.monotonic() + INTERRUPT_GRACE_S
                try:
                    if deadline is None:
                        item = await queue.get()
                    else:
                        left = max(0.0, deadline - time.monotonic())
                        item = await asyncio.wait_for(queue.get(), left)
                except TimeoutError:
                    # The cell ignored the interrupt: abandon it; its state is unknown.
                    task.cancel()
                    self.ready = False
                    error = ExecError("KeyboardInterrupt", "")
                    result = ExecResult(stdout="".join(shown), interrupted=True, error=error)
                    break
                if isinstance(item, OutputChunk):
                    shown.append(item.text)
                    yield self.record(
                        ev.Output(block_id=block_id, stream=item.stream, text=item.text)
                    )
                elif isinstance(item, ExecResult):
                    result = item
                elif isinstance(item, Failure):
                    self.ready = False
                    if isinstance(item.error, AutopilotError):
                        raise item.error
                    raise SandboxError(f"the sandbox failed: {item.error}") from item.error
                elif isinstance(item, ev.Event):
                    yield self.record(item)
        finally:
            self.control.back_to_turn()
            if not task.done():
                task.cancel()
        async for event in self._finish(block_id, result, started, images):
            yield event
        out.append(result)

    async def _finish(
        self,
        block_id: str,
        result: ExecResult,
        started: float,
        images: list[tuple[ImagePart, str]],
    ) -> AsyncIterator[ev.Event]:
        if result.state_lost:
            self.ready = False  # the prelude runs again before the next cell
            yield self.record(
                ev.SandboxState(state="restarted", state_lost=True, detail="state lost")
            )
        for number, image in enumerate(result.images, 1):
            path = self._save_image(block_id, number, image.png)
            images.append((ImagePart(image.png, note=path), path))
            yield self.record(
                ev.ImageOutput(block_id=block_id, path=path, width=image.width, height=image.height)
            )
        error = result.error
        yield self.record(
            ev.CodeFinished(
                block_id=block_id,
                ok=result.ok,
                duration_s=result.duration_s or time.monotonic() - started,
                value=result.value,
                error_type=error.type if error else None,
                error_message=error.message if error else None,
                traceback=error.traceback if error else None,
                state_lost=result.state_lost,
                interrupted=result.interrupted,
                images=len(result.images),
            )
        )

    async def take_final_answer(self) -> str | None:
        """The answer ``final_answer(...)`` recorded in the namespace, if any (and clear it)."""
        try:
            taken = await self.sandbox.run(cells.TAKE_FINAL_ANSWER, timeout=10)
        except Exception:
            return None
        return cells.decode_value(taken.value) if taken.ok else None

    def _save_image(self, block_id: str, number: int, png: bytes) -> str:
        if self._image_dir is None:
            base = self._image_folder() or Path(tempfile.mkdtemp(prefix="autopilot-"))
            self._image_dir = base / "images"
            self._image_dir.mkdir(parents=True, exist_ok=True)
        path = self._image_dir / f"{block_id}-{number}.png"
        path.write_bytes(png)
        return str(path)

    async def close(self) -> None:
        if self.ready_task is not None:
            self.ready_task.cancel()
            await asyncio.gather(self.ready_task, return_exceptions=True)
        await self.sandbox.close()

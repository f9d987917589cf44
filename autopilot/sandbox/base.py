"""The sandbox contract: values and the ``Sandbox`` Protocol every backend implements.

The agent only talks to this Protocol; ``DockerSandbox`` is the real adapter, the local
backend runs the same runner as a host subprocess, and ``FakeSandbox`` (in
``autopilot.sandbox.fake``) is the test double shipped with the library.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

SandboxStateName = Literal["new", "starting", "ready", "busy", "restarting", "stopped", "failed"]


@dataclass(frozen=True)
class ExecImage:
    """An image a cell produced (a matplotlib figure, a PIL image), as PNG bytes."""

    png: bytes
    width: int = 0
    height: int = 0


@dataclass(frozen=True)
class ExecError:
    """An exception raised by a cell. Traceback line numbers refer to the cell's lines."""

    type: str
    message: str
    traceback: str = ""


@dataclass(frozen=True)
class ExecResult:
    """Everything one cell produced.

    ``stdout``/``stderr`` are what is kept for the model: capped (head + tail with a marker
    saying how much was cut). ``full_output_path`` names the file in the workspace that holds
    everything when something was cut. ``state_lost`` says the namespace is gone (timeout
    that ignored the interrupt, crash, OOM) and the sandbox was restarted.
    """

    stdout: str = ""
    stderr: str = ""
    value: str | None = None
    error: ExecError | None = None
    images: tuple[ExecImage, ...] = ()
    duration_s: float = 0.0
    state_lost: bool = False
    interrupted: bool = False
    timed_out: bool = False
    truncated: bool = False
    full_output_path: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.state_lost and not self.interrupted


@dataclass(frozen=True)
class OutputChunk:
    """A piece of a running cell's output, streamed as produced."""

    stream: Literal["stdout", "stderr"]
    text: str


@dataclass(frozen=True)
class ToolRequest:
    """A call from sandboxed code to a host tool (``web.search(...)`` and the like)."""

    call_id: str
    tool: str
    args: dict[str, Any] = field(default_factory=dict)
    cell: str = ""  # the cell that made the call ("" when unknown): one agent step


# Answers a ToolRequest on the host: returns a JSON-able result, or raises
# autopilot.errors.ToolError / PermissionDenied, which re-raise inside the sandbox.
ToolHandler = Callable[[ToolRequest], Awaitable[Any]]

OutputCallback = Callable[[OutputChunk], None]


@dataclass(frozen=True)
class ToolSpec:
    """What the sandbox needs to generate a stub for a host tool: no source, no secrets."""

    group: str
    name: str
    signature: str
    doc: str = ""


@runtime_checkable
class Sandbox(Protocol):
    """A persistent Python namespace that runs cells."""

    @property
    def state(self) -> SandboxStateName: ...

    async def start(self) -> None:
        """Start (or finish starting) the sandbox; idempotent."""

    async def run(
        self,
        code: str,
        *,
        timeout: float | None = None,
        on_output: OutputCallback | None = None,
    ) -> ExecResult:
        """Run one cell; ``on_output`` receives stdout/stderr chunks as they come."""

    def stream(
        self, code: str, *, timeout: float | None = None
    ) -> AsyncIterator[OutputChunk | ExecResult]:
        """Run one cell, yielding output chunks and finally the ``ExecResult``."""

    async def interrupt(self) -> None:
        """Raise KeyboardInterrupt in the running cell (no-op when idle)."""

    async def restart(self) -> None:
        """Throw the namespace away and start fresh."""

    async def close(self) -> None:
        """Stop and remove everything the sandbox started."""

    def set_tool_handler(
        self, handler: ToolHandler | None, tools: list[ToolSpec] | None = None
    ) -> None:
        """Route host-tool calls from sandboxed code to ``handler``; define stubs for ``tools``."""

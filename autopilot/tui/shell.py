"""``!cmd``: run a shell command in the sandbox directly, as events the TUI renders."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from autopilot import events as ev
from autopilot.errors import SandboxError
from autopilot.sandbox.base import ExecResult, OutputChunk


def shell_cell(command: str) -> str:
    """Python for the sandbox that streams the command's merged output and its exit code."""
    return (
        "import subprocess as _ap_sp\n"
        f"_ap_p = _ap_sp.Popen({command!r}, shell=True, stdout=_ap_sp.PIPE,"
        " stderr=_ap_sp.STDOUT, text=True, errors='replace')\n"
        "for _ap_line in _ap_p.stdout:\n"
        "    print(_ap_line, end='', flush=True)\n"
        "_ap_rc = _ap_p.wait()\n"
        "if _ap_rc:\n"
        "    print(f'[exit status {_ap_rc}]')\n"
    )


async def run_in_sandbox(sandbox: Any, block_id: str, command: str) -> AsyncIterator[ev.Event]:
    if sandbox is None:
        raise SandboxError(
            "the sandbox is not running yet", hint="wait until the status line says ready"
        )
    await sandbox.start()
    yield ev.CodeStarted(block_id=block_id, code=command, language="bash")
    started = time.monotonic()
    result: ExecResult | None = None
    async for item in sandbox.stream(shell_cell(command)):
        if isinstance(item, OutputChunk):
            yield ev.Output(block_id=block_id, stream=item.stream, text=item.text)
        elif isinstance(item, ExecResult):
            result = item
    ok = result is not None and result.ok
    yield ev.CodeFinished(
        block_id=block_id,
        ok=ok,
        duration_s=result.duration_s if result else time.monotonic() - started,
        error_type=result.error.type if result and result.error else None,
        error_message=result.error.message if result and result.error else None,
        interrupted=bool(result and result.interrupted),
        state_lost=bool(result and result.state_lost),
    )

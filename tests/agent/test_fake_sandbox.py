"""FakeSandbox keeps the Sandbox contract the agent relies on."""

from __future__ import annotations

import asyncio

from autopilot.sandbox.base import ExecResult, OutputChunk, Sandbox
from autopilot.sandbox.fake import FakeSandbox, ScriptedRun


async def test_it_is_a_sandbox_with_persistent_state_and_values() -> None:
    sandbox = FakeSandbox()
    assert isinstance(sandbox, Sandbox)
    await sandbox.start()
    assert (await sandbox.run("x = 2")).ok
    result = await sandbox.run("print('x is', x)\nx * 21")
    assert (result.stdout, result.value) == ("x is 2\n", "42")


async def test_errors_come_back_with_a_traceback() -> None:
    result = await FakeSandbox().run("def f():\n    return 1/0\nf()")
    assert result.error is not None and result.error.type == "ZeroDivisionError"
    assert (
        "line 2" in result.error.traceback
        and "ZeroDivisionError: division by zero" in result.error.traceback
    )


async def test_output_streams_before_the_cell_ends() -> None:
    sandbox = FakeSandbox()
    seen: list[object] = []
    async for item in sandbox.stream("import time\nprint('a')\ntime.sleep(0.2)\nprint('b')"):
        seen.append(item)
        if len(seen) == 1:
            assert item == OutputChunk("stdout", "a\n")
    assert isinstance(seen[-1], ExecResult) and seen[-1].stdout == "a\nb\n"


async def test_interrupt_and_timeout() -> None:
    sandbox = FakeSandbox()
    task = asyncio.create_task(sandbox.run("import time\nwhile True:\n    time.sleep(0.01)"))
    await asyncio.sleep(0.1)
    await sandbox.interrupt()
    result = await asyncio.wait_for(task, 1)
    assert result.interrupted and not result.ok
    result = await sandbox.run("import time\nwhile True:\n    time.sleep(0.01)", timeout=0.1)
    assert result.timed_out and not result.state_lost


async def test_scripted_results_and_state_loss() -> None:
    chunks = (OutputChunk("stdout", "one\n"), OutputChunk("stderr", "two\n"))
    sandbox = FakeSandbox(
        respond=lambda code: (
            ScriptedRun(ExecResult(state_lost=True), chunks) if code == "crash" else None
        )
    )
    await sandbox.run("x = 1")
    seen: list[OutputChunk] = []
    result = await sandbox.run("crash", on_output=seen.append)
    assert list(seen) == list(chunks) and result.state_lost
    assert (await sandbox.run("x")).error.type == "NameError"

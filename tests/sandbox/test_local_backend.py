"""The local backend: the same runner as a host subprocess, only when explicitly chosen."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from autopilot.config import SandboxConfig
from autopilot.sandbox import create_sandbox
from autopilot.sandbox.base import Sandbox, ToolRequest, ToolSpec
from autopilot.sandbox.docker_sandbox import DockerSandbox
from autopilot.sandbox.local import LocalSandbox


def test_factory_picks_docker_unless_local_is_chosen(tmp_path: Path) -> None:
    docker = create_sandbox(SandboxConfig(), session_id="s", workspace=tmp_path)
    local = create_sandbox(SandboxConfig(backend="local"), session_id="s", workspace=tmp_path)
    assert isinstance(docker, DockerSandbox) and isinstance(local, LocalSandbox)
    assert isinstance(docker, Sandbox) and isinstance(local, Sandbox)
    assert "unisolated" in local.warning


async def test_local_backend_runs_cells_with_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "host-secret-xyz")
    config = SandboxConfig(backend="local", timeout_s=10.0, output_cap_chars=500)
    async with create_sandbox(config, session_id="local", workspace=tmp_path) as sandbox:
        await sandbox.run("import os\nvalue = 6")
        result = await sandbox.run("print(value * 7)\nos.getcwd()")
        assert result.stdout == "42\n"
        assert result.value == repr(str(sandbox.workspace))
        secret = await sandbox.run("'host-secret-xyz' in repr(dict(os.environ))")
        assert secret.value == "False"
        shell = await sandbox.run_shell("echo from-shell; echo err >&2")
        assert (shell.stdout, shell.stderr) == ("from-shell\n", "err\n")
        flood = await sandbox.run("print('z' * 5000)")
        assert flood.truncated and flood.full_output_path is not None
        saved = await asyncio.to_thread(Path(flood.full_output_path).read_text)
        assert saved == "z" * 5000 + "\n"


async def test_local_backend_interrupts_and_recovers(tmp_path: Path) -> None:
    sandbox = create_sandbox(
        SandboxConfig(backend="local"), session_id="local-int", workspace=tmp_path
    )
    assert isinstance(sandbox, LocalSandbox)
    sandbox.interrupt_grace_s = 0.5
    async with sandbox:
        await sandbox.run("kept = 1")
        timed_out = await sandbox.run("while True: pass", timeout=0.5)
        assert timed_out.timed_out and not timed_out.state_lost
        assert (await sandbox.run("kept")).value == "1"
        stubborn = (
            "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(30)"
        )
        lost = await asyncio.wait_for(sandbox.run(stubborn, timeout=0.5), 10)
        assert lost.state_lost
        died = await sandbox.run("import os\nos._exit(5)")
        assert died.state_lost and died.error is not None and "status 5" in died.error.message
        assert (await sandbox.run("'kept' in globals()")).value == "False"


async def test_local_backend_tool_bridge(tmp_path: Path) -> None:
    async def handler(request: ToolRequest) -> object:
        return {"tool": request.tool, "args": request.args}

    sandbox = create_sandbox(
        SandboxConfig(backend="local"), session_id="local-tools", workspace=tmp_path
    )
    sandbox.set_tool_handler(handler, [ToolSpec("web", "search", "(query, limit=3)", "")])
    async with sandbox:
        result = await sandbox.run("web.search('cats')")
    assert result.value == "{'tool': 'web.search', 'args': {'query': 'cats', 'limit': 3}}"


async def test_a_tool_call_cut_off_by_the_end_of_its_cell_is_answered(tmp_path: Path) -> None:
    """A thread's call still waiting on the host when the cell ends must not hang forever."""
    never = asyncio.Event()

    async def handler(request: ToolRequest) -> object:
        await never.wait()  # e.g. the person has not answered the approval yet
        return "too late"

    sandbox = create_sandbox(
        SandboxConfig(backend="local"), session_id="local-cut", workspace=tmp_path
    )
    sandbox.set_tool_handler(handler, [ToolSpec("demo", "wait", "()", "")])
    code = (
        "import threading, time\n"
        "late = {}\n"
        "def call():\n"
        "    try:\n"
        "        late['value'] = demo.wait()\n"
        "    except ToolError as exc:\n"
        "        late['error'] = str(exc)\n"
        "worker = threading.Thread(target=call)\n"
        "worker.start()\n"
        "time.sleep(0.3)"  # the call is in flight when the cell ends
    )
    async with sandbox:
        await sandbox.run(code)
        result = await sandbox.run("worker.join(5)\n(worker.is_alive(), late)")
    assert result.value is not None and result.value.startswith("(False, {'error': ")
    assert "cell ended" in result.value


async def test_a_cell_forging_a_huge_frame_only_loses_its_runner(tmp_path: Path) -> None:
    """Code can write to the channel's descriptor: a forged 2 GiB frame ends that runner
    (and is reported), it never makes the host buffer gigabytes or hang."""
    sandbox = create_sandbox(
        SandboxConfig(backend="local", timeout_s=20.0), session_id="local-forge", workspace=tmp_path
    )
    forge = (
        "import os, struct, time\n"
        "os.write(601, "  # the runner parks the channel at 600 (in) and 601 (out)
        "struct.pack('>II', 2, 2**31) + b'{}' + b'x' * 65536)\n"
        "time.sleep(30)"
    )
    async with sandbox:
        result = await asyncio.wait_for(sandbox.run(forge), 15)
        assert result.state_lost and result.error is not None
        assert (await sandbox.run("1 + 1")).value == "2"

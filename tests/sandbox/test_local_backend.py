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

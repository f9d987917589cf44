"""``LocalModelClient``: a server that dies under a stream is named, not taken for an answer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from autopilot.config import LocalConfig
from autopilot.llm import Message, ScriptedLLM, TextDelta
from autopilot.llm.local import (
    LocalModelClient,
    LocalModelError,
    LocalModelServer,
    watch_local_server,
)


def dead_server(tmp_path: Path) -> LocalModelServer:
    server = LocalModelServer(LocalConfig(context=2048), tmp_path / "m.gguf", log_dir=tmp_path)
    suicide = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    server._process = subprocess.Popen([sys.executable, "-c", suicide])
    server._process.wait()
    return server


async def test_a_stream_cut_by_a_dead_server_is_an_error(tmp_path: Path) -> None:
    client = LocalModelClient(ScriptedLLM(["a cut rep"]), dead_server(tmp_path))
    received = []
    with pytest.raises(LocalModelError, match=r"server stopped \(killed by signal 9\)") as info:
        async for chunk in client.stream([Message("user", "hi")]):
            received.append(chunk)
    assert any(isinstance(c, TextDelta) for c in received)  # what came is still shown
    assert str(tmp_path) in (info.value.hint or "") and info.value.exit_code == 1


async def test_an_error_from_a_dead_server_is_renamed(tmp_path: Path) -> None:
    client = LocalModelClient(ScriptedLLM([ConnectionError("reset")]), dead_server(tmp_path))
    with pytest.raises(LocalModelError) as info:
        async for _ in client.stream([Message("user", "hi")]):
            pass
    assert isinstance(info.value.__cause__, ConnectionError)


def test_the_client_reports_the_servers_window_and_passes_the_rest(tmp_path: Path) -> None:
    inner = ScriptedLLM([], model="openai/local")
    client = LocalModelClient(inner, dead_server(tmp_path))
    assert client.context_window == 2048 and client.model == "openai/local"
    assert watch_local_server(inner, "http://127.0.0.1:1/v1") is inner  # not one of ours

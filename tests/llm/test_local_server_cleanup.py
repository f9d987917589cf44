"""The embedded model server never outlives a start that was interrupted or failed."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import pytest

from autopilot.config import LocalConfig
from autopilot.llm import local


def test_ctrl_c_while_the_model_loads_stops_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[subprocess.Popen[bytes]] = []
    real_popen = subprocess.Popen

    def fake_server(argv: list[str], **kwargs: object) -> subprocess.Popen[bytes]:
        # A stand-in for llama_cpp.server that never answers, in its own session like it.
        process = real_popen([sys.executable, "-c", "import time; time.sleep(60)"], **kwargs)  # type: ignore[call-overload]
        started.append(process)
        return process

    def interrupted(self: local.LocalModelServer) -> None:
        raise KeyboardInterrupt

    # start() only checks that llama-cpp-python is importable; the stand-in replaces it.
    for name in ("llama_cpp", "llama_cpp.server"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setattr(local.subprocess, "Popen", fake_server)
    monkeypatch.setattr(local.LocalModelServer, "_wait_ready", interrupted)
    server = local.LocalModelServer(LocalConfig(), tmp_path / "model.gguf", log_dir=tmp_path)
    try:
        with pytest.raises(KeyboardInterrupt), server:
            pytest.fail("the server must not be entered")
        assert len(started) == 1
        assert started[0].poll() is not None, "the server process was left running"
        assert not server.alive()
    finally:
        for process in started:
            process.kill()
            process.wait(timeout=5)

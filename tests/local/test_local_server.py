"""The embedded local model: file checks, the real llama-cpp-python server, litellm through it."""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import replace
from pathlib import Path

import pytest

from autopilot.config import Config, LocalConfig
from autopilot.errors import ConfigError, UserError
from autopilot.llm.local import (
    LocalModelError,
    LocalModelServer,
    resolve_model_file,
    serve_local_model,
)


def test_missing_model_file_is_a_config_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.gguf"
    with pytest.raises(ConfigError, match=r"local.model_path: .*nope.gguf does not exist") as info:
        resolve_model_file(LocalConfig(model_path=str(missing)))
    assert info.value.exit_code == 2


def test_corrupt_model_file_is_named(tmp_path: Path) -> None:
    corrupt = tmp_path / "model.gguf"
    corrupt.write_bytes(b"<html>not a model</html>")
    with pytest.raises(ConfigError, match="is not a GGUF model file"):
        resolve_model_file(LocalConfig(model_path=str(corrupt)))


def test_taken_port_says_how_to_fix(test_gguf: Path) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        server = LocalModelServer(LocalConfig(port=port), test_gguf)
        with pytest.raises(UserError, match=f"port {port} on 127.0.0.1 is taken") as info:
            server.start()
        assert "local.port 0" in (info.value.hint or "")
        assert not server.alive()


@pytest.mark.integration
def test_truncated_model_makes_the_server_fail_clearly(tmp_path: Path, test_gguf: Path) -> None:
    broken = tmp_path / "truncated.gguf"
    with test_gguf.open("rb") as src:
        broken.write_bytes(src.read(1 << 20))  # a GGUF header, then nothing
    server = LocalModelServer(LocalConfig(startup_timeout_s=60), broken, log_dir=tmp_path)
    start = time.monotonic()
    with pytest.raises(LocalModelError, match="exited with code") as info:
        server.start()
    assert time.monotonic() - start < 60
    assert str(tmp_path) in (info.value.hint or "")
    assert not server.alive()


@pytest.mark.integration
def test_real_server_streams_through_litellm(test_gguf: Path) -> None:
    from autopilot.llm import Message, TextDelta, create_llm

    config = Config(local=LocalConfig(model_path=str(test_gguf), context=2048))
    with serve_local_model(config) as local:
        assert local.model == "openai/local"
        assert local.api_base.startswith("http://127.0.0.1:")
        llm = create_llm(replace(local, llm=replace(local.llm, temperature=0.0)))

        async def ask() -> str:
            text = ""
            async for chunk in llm.stream(
                [Message("user", "What is 2+3? Answer with just the number.")]
            ):
                if isinstance(chunk, TextDelta):
                    text += chunk.text
            return text

        reply = asyncio.run(ask())
    assert "5" in reply

"""P1 acceptance through the real binary: `autopilot run` against a scripted HTTP model."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.scripted_server import ScriptedServer

pytestmark = pytest.mark.integration


def run(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "autopilot", "run", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
    )


def assert_one_line_error(
    result: subprocess.CompletedProcess[str], code: int, *needles: str
) -> None:
    assert result.returncode == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    for needle in needles:
        assert needle in lines[0]


def test_say_hi_streams_the_reply_and_exits_0(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    scripted_server.push({"text": "Hi there, human!", "chunk_size": 3})
    result = run(
        "say hi", "--model", "openai/scripted", "--api-base", scripted_server.url, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "Hi there, human!" in result.stdout
    sent = scripted_server.requests[-1].body
    assert sent["stream"] is True
    assert sent["messages"][-1]["content"].endswith("say hi")


def test_missing_key_says_how_to_set_one(tmp_path: Path) -> None:
    result = run("say hi", "--model", "openai/gpt-4o-mini", cwd=tmp_path)
    assert_one_line_error(
        result, 2, "no API key for openai", "autopilot keys set openai", "OPENAI_API_KEY"
    )


def test_unreachable_endpoint_names_the_url(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    result = run("say hi", "--model", "openai/x", "--api-base", url, cwd=tmp_path)
    assert_one_line_error(result, 1, f"nothing answers at {url}")


def test_unknown_model_is_named(scripted_server: ScriptedServer, tmp_path: Path) -> None:
    scripted_server.push(
        {
            "status": 404,
            "message": "The model `nope` does not exist",
            "type": "invalid_request_error",
            "code": "model_not_found",
        }
    )
    result = run(
        "say hi", "--model", "openai/nope", "--api-base", scripted_server.url, cwd=tmp_path
    )
    assert_one_line_error(result, 1, "does not know the model 'openai/nope'")


def test_unknown_provider_is_named(tmp_path: Path) -> None:
    result = run("hi", "--model", "nonprovider/foo", cwd=tmp_path)
    assert result.returncode in (1, 2)
    assert "nonprovider/foo" in result.stderr and "Traceback" not in result.stderr


def test_malformed_config_is_one_line_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "config.toml"
    bad.write_text("approval_mode = 'whenever'\n")
    result = run("say hi", "--config", str(bad), cwd=tmp_path)
    assert_one_line_error(result, 2, str(bad), "'approval_mode'", "allowed: 'ask', 'auto'")


def test_no_model_configured_says_how_to_choose_one(tmp_path: Path) -> None:
    result = run("say hi", cwd=tmp_path)
    assert result.returncode == 2
    assert "autopilot config set model" in result.stderr

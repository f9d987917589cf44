"""End to end: the real ``autopilot`` TUI in tmux, a scripted model server, real Docker.

Types a task, approves the code block with ``y``, sees the cell's output and the answer set
apart, quits with ctrl+q, and checks the exit status and the stored session.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from autopilot import events as ev
from autopilot.config import user_data_dir_for
from tests.support.scripted_server import server_process

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

ROOT = Path(__file__).resolve().parents[2]
AUTOPILOT = Path(sys.executable).with_name("autopilot")
SCRIPT = [
    "I will add them up.\n\n```python\nprint(sum(range(101)))\n```\n",
    "The sum of 1 to 100 is **5050**.",
]


@pytest.fixture
def model_url(tmp_path: Path) -> Iterator[str]:
    with server_process(SCRIPT, tmp_path) as url:
        yield url


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Callable[..., str]]:
    socket = f"autopilot-tui-{tmp_path.name}"

    def run(*args: str) -> str:
        done = subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True)
        return done.stdout

    yield run
    subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True)


def wait_for(screen: Callable[[], str], text: str, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    shown = ""
    while time.monotonic() < deadline:
        shown = screen()
        if text in shown:
            return shown
        time.sleep(0.2)
    raise AssertionError(f"{text!r} did not appear within {timeout}s; the screen was:\n{shown}")


def test_type_a_task_approve_and_see_output_and_answer(
    tmux: Callable[..., str], model_url: str, tmp_path: Path, isolated_home: Path
) -> None:
    env = {
        "AUTOPILOT_DATA_DIR": str(isolated_home / "data"),
        "AUTOPILOT_CONFIG_DIR": str(isolated_home / "config"),
        "AUTOPILOT_KEYRING": "0",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "TERM": "xterm-256color",
    }
    command = " ".join(
        [
            "env",
            *(f"{k}={shlex.quote(v)}" for k, v in env.items()),
            shlex.quote(str(AUTOPILOT)),
            "--user e2e --model openai/scripted --api-base",
            shlex.quote(model_url),
            "; echo EXIT=$?; sleep 30",
        ]
    )
    tmux("new-session", "-d", "-s", "e2e", "-x", "100", "-y", "30", "-c", str(tmp_path), command)

    def screen() -> str:
        return tmux("capture-pane", "-p", "-t", "e2e")

    wait_for(screen, "Type a task")
    wait_for(screen, "sandbox ready")  # the sandbox warmed up while nobody typed
    tmux("send-keys", "-t", "e2e", "add the numbers 1 to 100", "Enter")
    shown = wait_for(screen, "Run it?")
    assert "print(sum(range(101)))" in shown and "awaiting approval" in shown
    tmux("send-keys", "-t", "e2e", "y")
    shown = wait_for(screen, "Answer")
    assert "5050" in shown.split("Answer")[0]  # the cell's output, above the answer
    assert "The sum of 1 to 100 is 5050." in shown
    assert "● done" in shown
    tmux("send-keys", "-t", "e2e", "C-q")
    wait_for(screen, "EXIT=0", timeout=30)

    logs = list((user_data_dir_for("e2e") / "sessions").glob("*.jsonl"))
    assert len(logs) == 1
    stored = [ev.from_dict(json.loads(line)) for line in logs[0].read_text().splitlines()]
    outputs = "".join(e.text for e in stored if isinstance(e, ev.Output))
    assert outputs.strip() == "5050"
    assert any(isinstance(e, ev.CodeDecision) and e.decision == "run" for e in stored)

"""End to end with the embedded model: the real ``autopilot run --local`` binary, the real
llama-cpp-python server with the default model (Qwen2.5-Coder-1.5B), real litellm and the real
Docker sandbox.

Checked by outcome (the answer's number, the file on disk, the exit code), not by wording.
The model is greedy (temperature 0), so these runs are repeatable on a given build.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from autopilot.agent.session import find_session, read_events
from autopilot.config import Config
from tests.sandbox.conftest import make_workspace

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.timeout(240)]

ROOT = Path(__file__).resolve().parents[2]
USER = "local-e2e"


@pytest.fixture
def workspace(sandbox_image: str) -> Iterator[Path]:
    """A folder the sandbox user (uid 1000) can write to, mounted at /workspace."""
    path = make_workspace()
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def local_env(default_gguf: Path) -> dict[str, str]:
    return {
        **os.environ,
        "AUTOPILOT_LOCAL__MODEL_PATH": str(default_gguf),
        "AUTOPILOT_LOCAL__CONTEXT": "4096",
        "AUTOPILOT_LOCAL__THREADS": "1",
        "AUTOPILOT_USER": USER,
        "AUTOPILOT_SANDBOX__TIMEOUT_S": "30",
        "PYTHONPATH": str(ROOT),
    }


def run_local(task: str, workspace: Path, env: dict[str, str]) -> tuple[int, list[dict], str]:
    process = subprocess.run(
        [sys.executable, "-m", "autopilot", "run", "--local", "--yes", "--json", task],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=200,
    )
    events = [json.loads(line) for line in process.stdout.splitlines() if line.strip()]
    return process.returncode, events, process.stderr


def final_answer(events: list[dict]) -> str:
    answers = [e["text"] for e in events if e["type"] == "final_answer"]
    assert len(answers) == 1, [e["type"] for e in events]
    return answers[0]


def test_arithmetic_task_answers_391(workspace: Path, local_env: dict[str, str]) -> None:
    start = time.monotonic()
    code, events, stderr = run_local("Use Python to compute 17*23.", workspace, local_env)
    assert code == 0, stderr
    assert "391" in final_answer(events)
    assert [e for e in events if e["type"] == "code_finished" and e["ok"]]  # it really ran
    assert events[-1] == {**events[-1], "type": "turn_finished", "reason": "final_answer"}
    assert time.monotonic() - start < 120


def test_csv_task_writes_the_file_and_reads_it_back(
    workspace: Path, local_env: dict[str, str]
) -> None:
    # Asked to count "data rows", both the 0.5B and the 1.5B count the header (and told
    # "not counting the header", the 1.5B subtracts it from a count that never had it): a
    # question with one reading checks the file round trip rather than the models' English.
    task = (
        "Write a CSV file /workspace/people.csv with the columns name and age, and the rows "
        "Ann 31 and Bob 45. Then read the file back and tell me the sum of the ages."
    )
    code, events, stderr = run_local(task, workspace, local_env)
    assert code == 0, stderr
    written = workspace / "people.csv"
    assert written.is_file()
    rows = [
        [cell.strip() for cell in line.split(",")]
        for line in written.read_text().splitlines()
        if line.strip()
    ]
    assert rows == [["name", "age"], ["Ann", "31"], ["Bob", "45"]]
    assert re.search(r"(?<![\d.])76(?![\d])", final_answer(events))
    ran = [e for e in events if e["type"] == "code_started"]
    assert any("people.csv" in e["code"] and "read" in e["code"] for e in ran)  # read back


def _children_named(parent: int, needle: str) -> list[int]:
    """Processes whose parent is ``parent`` and whose command line contains ``needle``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and needle in cmdline:
            found.append(int(entry.name))
    return found


def test_server_crash_mid_stream_fails_clearly_and_keeps_the_log(
    workspace: Path, local_env: dict[str, str]
) -> None:
    task = "Write a long, detailed essay on the history of computing, with many sections."
    process = subprocess.Popen(
        [sys.executable, "-m", "autopilot", "run", "--local", "--yes", "--json", task],
        cwd=workspace,
        env=local_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        killed = []
        for line in process.stdout:  # the model is streaming: kill its server now
            if json.loads(line)["type"] == "assistant_delta":
                killed = _children_named(process.pid, "llama_cpp.server")
                for pid in killed:
                    os.kill(pid, signal.SIGKILL)
                break
        assert killed, "no llama_cpp.server child found while the model streamed"
        rest, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    events = [json.loads(line) for line in rest.splitlines() if line.strip()]
    assert process.returncode == 1, stderr
    error_lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(error_lines) == 1 and error_lines[0].startswith("error: "), stderr
    assert "local model" in error_lines[0]
    assert not [e for e in events if e["type"] == "final_answer"]
    assert events[-1]["type"] == "turn_finished" and events[-1]["reason"] == "error"

    config = Config(user=USER)
    logged = read_events(find_session(config, None))
    assert [e.type for e in logged[-2:]] == ["error", "turn_finished"]
    shown = subprocess.run(
        [sys.executable, "-m", "autopilot", "--user", USER, "sessions", "show"],
        env=local_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    assert "history of computing" in shown.stdout

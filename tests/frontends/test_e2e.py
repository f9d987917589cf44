"""End to end: the real ``autopilot`` program against a scripted model server process."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from autopilot import events as ev
from autopilot.agent import build_agent
from autopilot.agent.session import read_events, sessions_dir
from autopilot.config import Config
from autopilot.interaction import AutoApprove
from autopilot.llm import ScriptedLLM
from autopilot.sandbox.fake import FakeSandbox
from tests.support.scripted_server import server_process

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

ROOT = Path(__file__).resolve().parents[2]
USER = "e2e"


@pytest.fixture
def model_server(tmp_path: Path) -> Iterator[callable]:
    """Start ``python -m tests.support.scripted_server`` with a script; yields a starter."""
    with contextlib.ExitStack() as servers:

        def start(replies: list[str]) -> str:
            return servers.enter_context(server_process(replies, tmp_path))

        yield start


def autopilot(
    *args: str, url: str = "", stdin: str | None = None, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    flags = ["--user", USER, "--model", "openai/scripted"] + (["--api-base", url] if url else [])
    return subprocess.run(
        [sys.executable, "-m", "autopilot", *args[:1], *flags, *args[1:]],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_run_json_three_steps(model_server) -> None:
    url = model_server(
        [
            "```python\nx = 21\nprint(x)\n```",
            "```python\ny = x * 2\nprint(y)\n```",
            "```python\nfinal_answer(f'the answer is {y}')\n```",
        ]
    )
    done = autopilot("run", "--json", "--yes", "--sandbox", "local", "compute", url=url)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    events = [ev.from_dict(row) for row in rows]
    assert [e.text for e in events if isinstance(e, ev.FinalAnswer)] == ["the answer is 42"]
    assert "".join(e.text for e in events if isinstance(e, ev.Output)) == "21\n42\n"
    assert events[-1] == ev.TurnFinished(ts=events[-1].ts, reason="final_answer", steps=3)


def test_usage_errors_exit_2_and_refusal_without_a_terminal_exits_1(model_server) -> None:
    done = autopilot("run", "-", stdin="")
    assert done.returncode == 2 and done.stderr.startswith("error: no task given")
    url = model_server(["```python\nprint(1)\n```"])
    done = autopilot("run", "--sandbox", "local", "go", url=url, stdin="")
    assert done.returncode == 1
    assert "re-run with --yes" in done.stderr
    assert "Traceback" not in done.stderr
    url = model_server(["```python\nprint(1)\n```", "```python\nprint(2)\n```"])
    done = autopilot("run", "--yes", "--max-steps", "1", "--sandbox", "local", "go", url=url)
    assert done.returncode == 1
    assert "stopped after 1 steps (max_steps)" in done.stderr


def wait_for_output(text: str, timeout: float = 60) -> Path:
    """The session log that has an ``output`` event with ``text`` (polling the data folder)."""
    folder = sessions_dir(Config(user=USER))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        logs = sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
        if logs and json.dumps(text) in logs[-1].read_text():
            return logs[-1]
        time.sleep(0.05)
    raise AssertionError(f"no output {text!r} within {timeout} s")


def test_sigint_interrupts_and_exits_130(model_server) -> None:
    url = model_server(
        ["```python\nimport time\nprint('waiting', flush=True)\ntime.sleep(120)\n```"]
    )
    flags = ["--user", USER, "--model", "openai/scripted", "--api-base", url]
    process = subprocess.Popen(
        [sys.executable, "-m", "autopilot", "run", *flags, "--yes", "--sandbox", "local", "wait"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        log = wait_for_output("waiting\n")
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, err
    assert time.monotonic() - sent < 10
    assert "[interrupted]" in err
    events = read_events(log)
    assert events[-1] == ev.TurnFinished(ts=events[-1].ts, reason="interrupted", steps=1)
    assert next(e for e in events if isinstance(e, ev.CodeFinished)).interrupted


def test_kill_9_mid_task_keeps_the_history_for_show_and_resume(model_server) -> None:
    url = model_server(
        [
            "Set it up.\n```python\nx = 21\nprint('x is', x)\n```",
            "```python\nimport time\nprint('working', flush=True)\ntime.sleep(120)\n```",
        ]
    )
    flags = ["--user", USER, "--model", "openai/scripted", "--api-base", url]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "autopilot",
            "run",
            *flags,
            "--yes",
            "--sandbox",
            "local",
            "long task",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    config = Config(user=USER)
    try:
        log = wait_for_output("working\n")
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the crash: no clean-up runs
        process.wait(10)
    session_id = log.stem

    shown = autopilot("sessions", "show", session_id)
    assert shown.returncode == 0, shown.stderr
    for needle in ("> long task", "x = 21", "x is 21", "time.sleep(120)", "working"):
        assert needle in shown.stdout
    exported = autopilot("sessions", "export", session_id[:12], "--format", "json")
    types = [row["type"] for row in json.loads(exported.stdout)]
    assert types.count("code_started") == 2 and "turn_finished" not in types
    markdown = autopilot("sessions", "export", "--format", "md").stdout  # the latest
    assert "## You\n\nlong task" in markdown and "x is 21" in markdown
    listed = autopilot("sessions", "list").stdout
    assert session_id in listed and "long task" in listed

    # --resume in the plain REPL shows the whole conversation, then the prompt.
    resumed = autopilot("--resume", "--plain", stdin="/quit\n")
    assert resumed.returncode == 0, resumed.stderr
    assert "> long task" in resumed.stdout and "time.sleep(120)" in resumed.stdout
    assert f"session {session_id} (resumed)" in resumed.stdout

    # The model gets the history back, told that the sandbox is fresh.
    llm = ScriptedLLM(["Ready."])
    agent = build_agent(config, AutoApprove(), resume=session_id, llm=llm, sandbox=FakeSandbox())
    contents = [m.content for m in agent.history]
    assert contents[0] == "long task"
    assert "x = 21" in contents[1] and "x is 21" in contents[2] and "time.sleep(120)" in contents[3]
    assert "sandbox is a fresh one" in contents[-1] and "x = 21" in contents[-1]
    assert len(read_events(log)) > 10

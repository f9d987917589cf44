"""``autopilot sandbox …`` through the real command line (subprocesses, real Docker)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autopilot.config import SandboxConfig
from autopilot.sandbox._bench import run_bench

pytestmark = pytest.mark.integration


def autopilot(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "autopilot", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_exec_json_prints_one_object_per_cell(sandbox_image: str, workspace: Path) -> None:
    result = autopilot(
        "sandbox",
        "exec",
        "--json",
        "-c",
        "x = 20\nprint('hello')",
        "-c",
        "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nx + 1",
        "-c",
        "x / 0",
        cwd=workspace,
    )
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 3, result.stderr
    assert lines[0]["stdout"] == "hello\n" and lines[0]["error"] is None
    assert lines[1]["value"] == "21" and lines[1]["images"] == 1
    assert lines[2]["error"]["type"] == "ZeroDivisionError"
    assert all(line["state_lost"] is False and line["duration_s"] >= 0 for line in lines)
    assert result.returncode == 1  # a cell failed


def test_exec_plain_streams_output_and_values(sandbox_image: str, workspace: Path) -> None:
    result = autopilot("sandbox", "exec", "-c", "print('out')\n6 * 7", cwd=workspace)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "out\n42\n"


def test_exec_local_backend_warns(workspace: Path) -> None:
    result = autopilot("--sandbox", "local", "sandbox", "exec", "-c", "print(1 + 1)", cwd=workspace)
    assert result.returncode == 0
    assert result.stdout == "2\n"
    assert "unisolated" in result.stderr


def test_ps_and_prune_as_json(sandbox_image: str, workspace: Path) -> None:
    listed = autopilot("sandbox", "ps", "--json", cwd=workspace)
    assert listed.returncode == 0
    assert isinstance(json.loads(listed.stdout), list)
    pruned = autopilot("sandbox", "prune", "--json", cwd=workspace)
    assert pruned.returncode == 0
    assert "removed" in json.loads(pruned.stdout)


def test_build_is_idempotent(sandbox_image: str, workspace: Path) -> None:
    result = autopilot("sandbox", "build", "--offline", cwd=workspace)
    assert result.returncode == 0
    assert "exists" in result.stderr


def test_unreachable_engine_is_a_one_line_user_error(workspace: Path) -> None:
    result = autopilot("sandbox", "ps", cwd=workspace, env={"DOCKER_HOST": "tcp://127.0.0.1:1"})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "Docker engine is not reachable" in result.stderr and "--sandbox local" in result.stderr


def test_missing_image_names_the_build_command(workspace: Path) -> None:
    env = {"AUTOPILOT_SANDBOX__IMAGE": "autopilot-sandbox:never-built"}
    result = autopilot("sandbox", "exec", "-c", "1", cwd=workspace, env=env)
    assert result.returncode == 1
    assert "never-built is not built" in result.stderr
    assert "autopilot sandbox build" in result.stderr


async def test_bench_reports_every_figure(sandbox_image: str) -> None:
    report = await run_bench(SandboxConfig(image=sandbox_image), round_trips=20)
    assert report["round_trip_ms"]["runs"] == 20
    assert report["throughput"]["mb"] > 50
    assert report["oom_recovery_s"]["state_lost"] and report["oom_recovery_s"]["answered"]
    assert report["baselines_ms"]["docker_exec_over_ours"] > 1
    assert report["baselines_ms"]["new_container_over_ours"] > 1

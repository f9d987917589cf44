"""Sandbox benchmark: our persistent runner against the per-call approaches peers use.

Measures, through the public API: start to first result, warm ``print(1)`` round trips,
output throughput (with the host's memory growth), interrupt latency, recovery after an
OOM kill; and as baselines ``docker exec python3 -c CODE`` per cell and a new container
per cell. Used by ``bench/sandbox.py`` and ``autopilot sandbox bench``.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from autopilot.config import SandboxConfig
from autopilot.sandbox.base import OutputChunk
from autopilot.sandbox.orphans import owner_labels

Progress = Callable[[str], None]


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def _rss_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


async def run_bench(
    config: SandboxConfig, *, progress: Progress | None = None, round_trips: int = 200
) -> dict[str, Any]:
    say = progress or (lambda _line: None)
    workspace = Path(tempfile.mkdtemp(prefix="autopilot-bench-"))
    try:  # a failed or interrupted run must not leave the folder behind
        _make_writable(workspace)
        return await _measure(config, workspace, say, round_trips)
    finally:
        shutil.rmtree(workspace, ignore_errors=True)


async def _measure(
    config: SandboxConfig, workspace: Path, say: Progress, round_trips: int
) -> dict[str, Any]:
    from autopilot.sandbox.docker_sandbox import DockerSandbox

    config = replace(config, backend="docker", network=False, timeout_s=60.0)
    report: dict[str, Any] = {"image": config.image}

    say("start to first result")
    starts = []
    for index in range(3):
        sandbox = DockerSandbox(config, session_id=f"bench-start-{index}", workspace=workspace)
        began = time.perf_counter()
        await sandbox.start()
        await sandbox.run("print(1)")
        starts.append(time.perf_counter() - began)
        await sandbox.close()
    report["start_to_first_result_s"] = {"median": statistics.median(starts), "all": starts}

    async with DockerSandbox(config, session_id="bench", workspace=workspace) as sandbox:
        say(f"{round_trips} warm round trips")
        for _ in range(10):
            await sandbox.run("print(1)")
        trips = []
        for _ in range(round_trips):
            began = time.perf_counter()
            await sandbox.run("print(1)")
            trips.append(time.perf_counter() - began)
        report["round_trip_ms"] = {
            "p50": _percentile(trips, 0.5) * 1000,
            "p99": _percentile(trips, 0.99) * 1000,
            "mean": statistics.fmean(trips) * 1000,
            "runs": round_trips,
        }

        say("output throughput (50 MB)")
        received = 0

        def count(chunk: OutputChunk) -> None:
            nonlocal received
            received += len(chunk.text)

        rss_before = _rss_mb()
        code = "import sys\nline = 'x' * 1023 + '\\n'\nfor _ in range(51_200):\n    sys.stdout.write(line)"
        began = time.perf_counter()
        await sandbox.run(code, on_output=count)
        elapsed = time.perf_counter() - began
        report["throughput"] = {
            "mb": received / 1e6,
            "seconds": elapsed,
            "mb_per_s": received / 1e6 / elapsed,
            "host_rss_growth_mb": max(0.0, _rss_mb() - rss_before),
        }

        say("interrupt latency")
        latencies = []
        for _ in range(5):
            task = asyncio.ensure_future(sandbox.run("while True:\n    pass"))
            await asyncio.sleep(0.2)
            began = time.perf_counter()
            await sandbox.interrupt()
            result = await task
            latencies.append(time.perf_counter() - began)
            assert result.interrupted and not result.state_lost
        report["interrupt_to_result_s"] = {
            "median": statistics.median(latencies),
            "max": max(latencies),
        }

        say("recovery after an OOM kill")
        small = DockerSandbox(
            replace(config, memory="256m"), session_id="bench-oom", workspace=workspace
        )
        async with small:
            began = time.perf_counter()
            result = await small.run(
                "chunks = []\nwhile True:\n    chunks.append(b'x' * 20_000_000)"
            )
            bomb = time.perf_counter() - began
            after = await small.run("print('back')")
            recovered = time.perf_counter() - began
        report["oom_recovery_s"] = {
            "bomb_to_result": bomb,
            "bomb_to_next_answer": recovered,
            "state_lost": result.state_lost,
            "error": result.error.type if result.error else None,
            "answered": after.stdout == "back\n",
        }

        say("baseline: docker exec python3 -c per cell")
        api = sandbox.docker.api
        execs = []
        for _ in range(20):
            began = time.perf_counter()
            made = api.exec_create(sandbox.container_id, ["python3", "-c", "print(1)"])
            api.exec_start(made["Id"])
            execs.append(time.perf_counter() - began)

    say("baseline: a new container per cell")
    client = sandbox.docker
    fresh = []
    for _ in range(5):
        began = time.perf_counter()
        client.containers.run(
            config.image,
            ["python3", "-c", "print(1)"],
            remove=True,
            network_mode="none",
            mem_limit=config.memory,
            cap_drop=["ALL"],
            read_only=True,
            labels=owner_labels("bench-baseline"),
        )
        fresh.append(time.perf_counter() - began)
    ours = report["round_trip_ms"]["p50"]
    exec_ms = statistics.median(execs) * 1000
    fresh_ms = statistics.median(fresh) * 1000
    report["baselines_ms"] = {
        "docker_exec_per_cell_p50": exec_ms,
        "new_container_per_cell_p50": fresh_ms,
        "docker_exec_over_ours": exec_ms / ours,
        "new_container_over_ours": fresh_ms / ours,
    }
    return report


def _make_writable(path: Path) -> None:
    import os

    from autopilot.sandbox.image import SANDBOX_UID

    if os.getuid() == 0:
        os.chown(path, SANDBOX_UID, SANDBOX_UID)

"""Start-up cost of the ``autopilot`` command and of the heavy libraries it keeps out of it.

Prints JSON: median/min/max wall time (ms) over N runs of ``autopilot --help`` and
``--version`` (the issue's target: under 300 ms), and for comparison the import time of
each heavy library that must only be imported where it is used.

    python bench/startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time


def time_command(argv: list[str], runs: int) -> dict[str, float]:
    samples = []
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
        )
        samples.append((time.perf_counter() - start) * 1000)
    return {
        "median_ms": round(statistics.median(samples), 1),
        "min_ms": round(min(samples), 1),
        "max_ms": round(max(samples), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    exe = shutil.which("autopilot") or os.path.join(os.path.dirname(sys.executable), "autopilot")
    entry = [exe] if os.path.exists(exe) else [sys.executable, "-m", "autopilot"]
    report: dict[str, object] = {
        "autopilot --help": time_command([*entry, "--help"], args.runs),
        "autopilot --version": time_command([*entry, "--version"], args.runs),
        "python -c pass (interpreter floor)": time_command(
            [sys.executable, "-c", "pass"], args.runs
        ),
        "target_ms": 300,
    }
    heavy = {}
    for module in ("litellm", "chromadb", "docker", "textual.app", "playwright.async_api"):
        heavy[module] = time_command(
            [sys.executable, "-c", f"import {module}"], max(3, args.runs // 5)
        )
    report["heavy imports (kept out of start-up)"] = heavy
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

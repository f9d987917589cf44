"""Agent overhead benchmark: prints JSON.

- ``overhead_ms_per_step``: the agent's own time per step (parse the stream, events,
  approvals, observation, history, compaction check, session log with fsync) with an LLM
  and a sandbox that cost nothing — so LLM and execution time are excluded by construction.
  Each reply is ``CHUNKS`` small chunks, like a real stream.
- ``fence_to_cell_ms``: from the moment the chunk holding the closing fence is handed to
  the agent to the moment ``Sandbox.run`` is called for that cell.

Run: ``.venv/bin/python bench/agent.py [--steps N]``. Targets: <= 5 ms and <= 10 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autopilot.agent import Agent
from autopilot.agent.session import SessionLog
from autopilot.config import Config
from autopilot.interaction import AutoApprove
from autopilot.llm.base import LLMChunk, LLMUsage, Message, TextDelta
from autopilot.sandbox.base import ExecResult, OutputChunk
from autopilot.sandbox.fake import FakeSandbox

CHUNKS = 60
CODE = "import math\nvalue = math.sqrt(16) * 10\nprint(value)\n"


class InstantLLM:
    """Streams a reply of CHUNKS small pieces ending in a code block; records fence times."""

    model = "bench/instant"
    context_window = 128_000
    supports_vision = False

    def __init__(self, steps: int) -> None:
        self.left = steps
        self.fence_sent: list[float] = []

    async def stream(
        self, messages: Sequence[Message], *, stop: Sequence[str] | None = None
    ) -> AsyncIterator[LLMChunk]:
        self.left -= 1
        if self.left < 0:
            yield TextDelta("All done, the value is 40.")
            yield LLMUsage(10, 10)
            return
        words = [f"word{i} " for i in range(CHUNKS - 4)]
        for piece in [*words, "\n```py", "thon\n", CODE]:
            yield TextDelta(piece)
        self.fence_sent.append(time.perf_counter())
        yield TextDelta("```\n")
        yield TextDelta("Output: 40 (invented, never read)")


class InstantSandbox(FakeSandbox):
    """Answers every cell at once (no thread, no exec); records when each cell starts."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.cell_started: list[float] = []

    async def stream(
        self, code: str, *, timeout: float | None = None
    ) -> AsyncIterator[OutputChunk | ExecResult]:
        if code == CODE:
            self.cell_started.append(time.perf_counter())
        yield OutputChunk("stdout", "40.0\n")
        yield ExecResult(stdout="40.0\n")


async def measure(steps: int, *, with_log: bool) -> dict[str, float]:
    llm = InstantLLM(steps)
    sandbox = InstantSandbox()
    config = Config(approval_mode="auto", max_steps=steps + 1, user="bench")
    folder = Path(tempfile.mkdtemp(prefix="autopilot-bench-"))
    session = SessionLog(folder / "bench.jsonl") if with_log else None
    agent = Agent(
        llm=llm, sandbox=sandbox, interaction=AutoApprove(), config=config, session=session
    )
    await sandbox.start()
    started = time.perf_counter()
    events = 0
    async for _ in agent.turn("benchmark"):
        events += 1
    took = time.perf_counter() - started
    await agent.aclose()
    gaps = [(c - f) * 1000 for f, c in zip(llm.fence_sent, sandbox.cell_started, strict=True)]
    return {
        "steps": steps + 1,
        "events": events,
        "overhead_ms_per_step": round(took * 1000 / (steps + 1), 3),
        "fence_to_cell_ms_median": round(statistics.median(gaps), 3),
        "fence_to_cell_ms_p95": round(sorted(gaps)[int(len(gaps) * 0.95) - 1], 3),
        "fence_to_cell_ms_max": round(max(gaps), 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(measure(20, with_log=True))  # warm-up
    report = {
        "benchmark": "agent",
        "chunks_per_reply": CHUNKS,
        "cpus": os.cpu_count(),
        "with_session_log": asyncio.run(measure(args.steps, with_log=True)),
        "without_session_log": asyncio.run(measure(args.steps, with_log=False)),
        "targets": {"overhead_ms_per_step": 5.0, "fence_to_cell_ms": 10.0},
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""TUI benchmark: prints one JSON object.

- ``first_paint_s``: wall time from spawning ``python`` to the app's first painted frame
  (a child process, so the imports count), with no model configured.
- ``stream_200tps``: event-loop stalls while the assistant streams Markdown at 200 tokens/s.
  A probe wakes every 5 ms; its lateness is the time the loop (and so every frame and
  keypress) was blocked — ``max_ms`` is the worst frame delay.
- ``output_1mb``: the same while a cell prints 1 MB (4 KiB chunks, as fast as they come).
- ``session_500_steps``: RSS and widget count after a 500-step session replayed as fast as
  the app takes it (older items leave the screen past ``renderer.MAX_ITEMS``).

Stalls include time other processes took the CPU from us; ``max_own_cpu_ms`` counts only
the main thread's own CPU time between two wakes, and ``cpu_s`` is the app's CPU time.

Run: ``.venv/bin/python bench/tui.py`` (add ``--quick`` for a short run).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SIZE = (100, 30)


def first_paint() -> float:
    """Spawn a child that exits right after its first frame; wall time in seconds."""
    env = dict(os.environ, AUTOPILOT_DATA_DIR="/tmp/autopilot-bench-data", PYTHONPATH=str(ROOT))
    env.pop("AUTOPILOT_MODEL", None)
    started = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--child-first-paint"], check=True, env=env, cwd=ROOT)
    return time.perf_counter() - started


def _child_first_paint() -> None:
    from autopilot.config import Config
    from autopilot.tui.app import AutopilotApp

    class FirstPaint(AutopilotApp):
        def on_mount(self) -> None:  # type: ignore[override]
            self.call_after_refresh(self.exit, 0)

    FirstPaint(Config(user="bench"), tune_gc=True).run(headless=True, size=SIZE)


class ScriptAgent:
    """Just enough Agent: replays an async generator of events."""

    def __init__(self, script: Any) -> None:
        self.script = script

    def turn(self, text: str) -> AsyncIterator[Any]:
        return self.script()

    async def interrupt(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


class LagProbe:
    def __init__(self, period: float = 0.005) -> None:
        self.period = period
        self.lags: list[float] = []
        self.cpu: list[float] = []  # main-thread CPU used between two wakes of the probe
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + self.period
            cpu = time.thread_time()
            await asyncio.sleep(self.period)
            self.lags.append(max(0.0, loop.time() - due))
            self.cpu.append(time.thread_time() - cpu)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    def stop(self) -> dict[str, float]:
        assert self._task is not None
        self._task.cancel()
        lags = sorted(self.lags) or [0.0]
        return {
            "samples": len(lags),
            "p50_ms": round(1000 * statistics.median(lags), 2),
            "p95_ms": round(1000 * lags[int(0.95 * (len(lags) - 1))], 2),
            "max_ms": round(1000 * lags[-1], 2),
            "over_50ms": sum(1 for lag in lags if lag > 0.05),
            # The longest our own code held the loop (CPU time, so other processes on a
            # busy machine do not count): the worst frame the app itself caused.
            "max_own_cpu_ms": round(1000 * max(self.cpu or [0.0]), 2),
            "own_cpu_over_50ms": sum(1 for c in self.cpu if c > 0.05),
        }


async def _drive(script: Any, *, until: str, timeout: float = 120.0) -> dict[str, Any]:
    from autopilot.config import Config
    from autopilot.tui.app import AutopilotApp

    def factory(config: Any, interaction: Any, *, resume: str | None = None) -> ScriptAgent:
        return ScriptAgent(script)

    app = AutopilotApp(
        Config(model="bench/fake", user="bench"), agent_factory=factory, tune_gc=True
    )
    async with app.run_test(size=SIZE):
        while app.controller.agent is None:  # noqa: ASYNC110 — polling the app is the point
            await asyncio.sleep(0.01)
        probe = LagProbe()
        probe.start()
        started = time.perf_counter()
        cpu_started = time.process_time()
        app.prompt.load_text("go")
        app.prompt.submit()  # (pilot.press would wait for an idle app, which never comes)
        deadline = time.perf_counter() + timeout
        while (app.controller.busy or not app.query(until)) and time.perf_counter() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)  # let the last coalesced repaint happen under the probe
        result = probe.stop()
        result["wall_s"] = round(time.perf_counter() - started, 2)
        # CPU the app used: unlike the stalls, not inflated by other processes on the box.
        result["cpu_s"] = round(time.process_time() - cpu_started, 2)
        result["widgets"] = len(list(app.query("*")))
        result["rss_mb"] = _rss_mb()
    return result


def stream_script(tokens: int, rate: float) -> Any:
    from autopilot import events as ev

    # Prose like a model writes: sentences, a paragraph break every ~40 tokens, a short
    # bullet list every ~120 and inline code, so blocks keep being added while streaming.
    words = [
        "The",
        "data",
        "has",
        "**three**",
        "columns",
        "and",
        "the",
        "`price`",
        "one",
        "needs",
        "cleaning",
        "first",
    ]

    async def script() -> AsyncIterator[Any]:
        yield ev.StepStarted(step=1)
        loop = asyncio.get_running_loop()
        start = loop.time()
        text = []
        for i in range(tokens):
            delay = start + i / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            piece = words[i % len(words)] + " "
            if i % 120 == 119:
                piece += "\n\n- first point\n- second point\n\n"
            elif i % 40 == 39:
                piece += "\n\n"
            text.append(piece)
            yield ev.AssistantDelta(text=piece, step=1)
        yield ev.AssistantMessage(text="".join(text), step=1)
        yield ev.FinalAnswer(text="done")
        yield ev.TurnFinished(reason="final_answer", steps=1)

    return script


def output_script(total_bytes: int, chunk: int = 4096) -> Any:
    from autopilot import events as ev

    line = "".join(chr(48 + i % 43) for i in range(79)) + "\n"
    block = (line * (chunk // len(line) + 1))[:chunk]

    async def script() -> AsyncIterator[Any]:
        yield ev.CodeStarted(block_id="b1", code="print(big)")
        for _ in range(total_bytes // chunk):
            yield ev.Output(block_id="b1", stream="stdout", text=block)
            await asyncio.sleep(0)
        yield ev.CodeFinished(block_id="b1", ok=True, duration_s=1.0)
        yield ev.FinalAnswer(text="done")
        yield ev.TurnFinished(reason="final_answer", steps=1)

    return script


def session_script(steps: int) -> Any:
    from autopilot import events as ev

    async def script() -> AsyncIterator[Any]:
        for step in range(1, steps + 1):
            bid = f"b{step}"
            reply = f"Step {step}: let me look at the data.\n\n```python\nprint({step})\n```"
            yield ev.StepStarted(step=step)
            for i in range(0, len(reply), 8):
                yield ev.AssistantDelta(text=reply[i : i + 8], step=step)
            yield ev.AssistantMessage(text=reply, step=step)
            yield ev.CodeProposed(block_id=bid, language="python", code=f"print({step})")
            yield ev.CodeDecision(block_id=bid, decision="run", by="mode")
            yield ev.CodeStarted(block_id=bid, code=f"print({step})")
            yield ev.Output(
                block_id=bid, stream="stdout", text="".join(f"row {i}\n" for i in range(20))
            )
            yield ev.CodeFinished(block_id=bid, ok=True, duration_s=0.01)
            yield ev.Usage(
                model="bench", prompt_tokens=1000, completion_tokens=50, context_window=128_000
            )
        yield ev.FinalAnswer(text="done")
        yield ev.TurnFinished(reason="final_answer", steps=steps)

    return script


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def main() -> None:
    if "--child-first-paint" in sys.argv:
        _child_first_paint()
        return
    quick = "--quick" in sys.argv
    os.environ.setdefault("AUTOPILOT_DATA_DIR", "/tmp/autopilot-bench-data")
    paints = [first_paint() for _ in range(1 if quick else 3)]
    tokens = 200 if quick else 1000
    report: dict[str, Any] = {
        "first_paint_s": {"runs": [round(p, 3) for p in paints], "best": round(min(paints), 3)},
        "stream_200tps": asyncio.run(_drive(stream_script(tokens, 200.0), until="FinalAnswerView")),
        "output_1mb": asyncio.run(_drive(output_script(1 << 20), until="FinalAnswerView")),
        "session_500_steps": asyncio.run(
            _drive(session_script(50 if quick else 500), until="FinalAnswerView", timeout=600)
        ),
        "session_steps": 50 if quick else 500,
    }
    report["stream_200tps"]["tokens"] = tokens
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

"""Score the whole agent with a small local model on twelve simple tasks.

One llama-cpp-python server for the run; a fresh agent, Docker sandbox and workspace per
task; each task is judged by its outcome (the number in the answer, the file on disk), not
by wording. Prints one JSON line per task, then a JSON summary.

    python bench/small_model_tasks.py [--model-path FILE.gguf] [--style auto|full|compact]
                                      [--only arith,csv] [--max-steps 8]

Measured on 2 cores (greedy): with the first, full prompt the 0.5B scored 3/12 and the 1.5B
11/12; with the compact prompt `--local` now uses, 9/12 and 12/12.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.support

from autopilot import events as ev
from autopilot.config import Config, LocalConfig, SandboxConfig
from autopilot.llm.local import LocalModelServer, local_config, resolve_model_file

Check = Callable[[str, Path], bool]


def number_in(answer: str, number: str) -> bool:
    return re.search(rf"(?<![\d.]){re.escape(number)}(?![\d])", answer.replace(",", "")) is not None


def file_lines(workspace: Path, name: str) -> list[str]:
    path = workspace / name
    return [line.strip() for line in path.read_text().strip().splitlines()] if path.exists() else []


def csv_ok(answer: str, workspace: Path) -> bool:
    rows_listed = re.sub(r"\[.*?\]|'[^']*'", "", answer)  # a listing of the rows is no count
    return file_lines(workspace, "numbers.csv") == ["n,square", "1,1", "2,4", "3,9"] and number_in(
        rows_listed, "3"
    )


def hello_ok(answer: str, workspace: Path) -> bool:
    path = workspace / "hello.txt"
    return (
        path.exists()
        and path.read_text().strip() == "hello world"
        and number_in(answer, str(path.stat().st_size))
    )


def nums_ok(answer: str, workspace: Path) -> bool:
    return file_lines(workspace, "nums.txt") == [str(i) for i in range(1, 11)] and number_in(
        answer, "55"
    )


def seed_three_files(workspace: Path) -> None:
    for name in ("a.txt", "b.csv", "c.json"):
        (workspace / name).write_text("x\n")
        os.chown(workspace / name, 1000, 1000)


@dataclass(frozen=True)
class Task:
    name: str
    text: str
    check: Check
    seed: Callable[[Path], None] | None = None


TASKS = [
    Task("arith", "Use Python to compute 17*23.", lambda a, w: number_in(a, "391")),
    Task(
        "csv",
        "Write a CSV file /workspace/numbers.csv with a header line 'n,square' and the rows for "
        "n = 1, 2, 3. Then read it back and print how many data rows it has.",
        csv_ok,
    ),
    Task(
        "sum100", "What is the sum of the numbers from 1 to 100?", lambda a, w: number_in(a, "5050")
    ),
    Task(
        "hello",
        "Create /workspace/hello.txt containing 'hello world' and tell me its size in bytes",
        hello_ok,
    ),
    Task(
        "days",
        "How many days are there between 2024-01-01 and 2024-03-01?",
        lambda a, w: number_in(a, "60"),
    ),
    Task("primes", "How many prime numbers are there below 100?", lambda a, w: number_in(a, "25")),
    Task("reverse", "Reverse the string 'autopilot' using Python.", lambda a, w: "tolipotua" in a),
    Task(
        "nums",
        "Write the numbers 1 to 10, one per line, to /workspace/nums.txt, then tell me their sum.",
        nums_ok,
    ),
    Task("pow", "What is 2 to the power of 20?", lambda a, w: number_in(a, "1048576")),
    Task(
        "vowels",
        "Count the vowels (a, e, i, o, u) in the word 'encyclopedia'.",
        lambda a, w: number_in(a, "5"),
    ),
    Task(
        "listdir",
        "How many files are in /workspace?",
        lambda a, w: number_in(a, "3"),
        seed_three_files,
    ),
    Task(
        "words",
        "How many words are in the sentence 'the quick brown fox jumps over the lazy dog'?",
        lambda a, w: number_in(a, "9"),
    ),
]


async def run_task(config: Config, task: Task) -> dict[str, object]:
    from autopilot.agent import build_agent
    from autopilot.interaction import AutoApprove

    workspace = Path(tempfile.mkdtemp(prefix="autopilot-bench-"))
    os.chown(workspace, 1000, 1000)  # the sandbox user writes here
    if task.seed:
        task.seed(workspace)
    task_config = replace(
        config, approval_mode="auto", sandbox=replace(config.sandbox, workspace=str(workspace))
    )
    agent = build_agent(task_config, AutoApprove())
    start = time.perf_counter()
    answer, reason, steps = "", "", 0
    try:
        async for event in agent.turn(task.text):
            if isinstance(event, ev.FinalAnswer):
                answer = event.text
            elif isinstance(event, ev.TurnFinished):
                reason, steps = event.reason, event.steps
    finally:
        await agent.aclose()
    ok = reason in ("final_answer", "no_code") and task.check(answer, workspace)
    shutil.rmtree(workspace, ignore_errors=True)
    return {
        "task": task.name,
        "ok": bool(ok),
        "reason": reason,
        "steps": steps,
        "seconds": round(time.perf_counter() - start, 1),
        "answer": answer[:150],
    }


def main() -> None:
    from tests.support.fetch_test_model import DEFAULT_DIR, MODELS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-path", default=str(DEFAULT_DIR / MODELS["0.5b"].filename))
    parser.add_argument("--style", choices=["auto", "full", "compact"], default="auto")
    parser.add_argument("--only", default="", help="comma-separated task names")
    parser.add_argument("--max-steps", type=int, default=8)
    args = parser.parse_args()
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    os.environ.setdefault("AUTOPILOT_DATA_DIR", tempfile.mkdtemp(prefix="autopilot-bench-data-"))
    base = Config(
        max_steps=args.max_steps,
        prompt_style=args.style,
        local=LocalConfig(model_path=args.model_path, context=4096, threads=1),
        sandbox=SandboxConfig(timeout_s=30),
    )
    chosen = [t for t in TASKS if not args.only or t.name in args.only.split(",")]
    with LocalModelServer(base.local, resolve_model_file(base.local)) as server:
        config = local_config(base, server)
        results = []
        for task in chosen:
            result = asyncio.run(run_task(config, task))
            print(json.dumps(result), flush=True)
            results.append(result)
    summary = {
        "model": Path(args.model_path).name,
        "style": args.style,
        "score": f"{sum(bool(r['ok']) for r in results)}/{len(results)}",
        "total_seconds": round(sum(float(r["seconds"]) for r in results), 1),  # type: ignore[arg-type]
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

"""The embedded local model: start-up, time to first token, tokens/s, server memory, and the
end-to-end time of the arithmetic task through the whole agent (real Docker sandbox).

    python bench/local_model.py [--model-path FILE.gguf] [--threads N] [--skip-agent]

Prints JSON. Defaults to the 0.5B test model assembled by ``tests.support.fetch_test_model``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import replace
from pathlib import Path

from autopilot.config import Config, LocalConfig
from autopilot.llm.local import LocalModelServer, local_config, resolve_model_file


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


async def stream_once(config: Config, prompt: str) -> dict[str, float]:
    from autopilot.llm import Message, TextDelta, create_llm

    llm = create_llm(config)
    start = time.perf_counter()
    first = None
    pieces = 0
    usage_tokens = 0
    async for chunk in llm.stream([Message("user", prompt)]):
        if isinstance(chunk, TextDelta):
            pieces += 1
            first = first or time.perf_counter()
        else:
            usage_tokens = chunk.completion_tokens
    end = time.perf_counter()
    tokens = usage_tokens or pieces
    generation_s = max(end - (first or end), 1e-9)
    return {
        "time_to_first_token_s": round((first or end) - start, 3),
        "completion_tokens": tokens,
        "tokens_per_s": round(max(tokens - 1, 0) / generation_s, 1),
        "total_s": round(end - start, 3),
    }


def agent_task(config: Config) -> dict[str, object]:
    from autopilot.agent import build_agent
    from autopilot.interaction import AutoApprove

    start = time.perf_counter()
    agent = build_agent(replace(config, approval_mode="auto"), AutoApprove())
    answer = agent.run("Use Python to compute 17*23.")
    return {
        "answer": answer[:200],
        "correct": "391" in answer,
        "seconds": round(time.perf_counter() - start, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model-path", default="")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--skip-agent", action="store_true")
    args = parser.parse_args()
    model_path = args.model_path
    if not model_path:
        import sys

        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.support
        from tests.support.fetch_test_model import DEFAULT_DIR, MODELS

        model_path = str(DEFAULT_DIR / MODELS["0.5b"].filename)
    import os

    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm  # noqa: F401  (its seconds-long import is not the model's time)

    base = Config(local=LocalConfig(model_path=model_path, threads=args.threads))
    model_file = resolve_model_file(base.local)
    report: dict[str, object] = {"model": model_file.name}
    start = time.perf_counter()
    with LocalModelServer(base.local, model_file) as server:
        report["server_start_s"] = round(time.perf_counter() - start, 2)
        config = local_config(base, server)
        prompt = "Write a Python function that returns the n-th Fibonacci number, with a docstring."
        report["cold"] = asyncio.run(stream_once(config, prompt))
        report["warm (same prompt: prompt cache)"] = asyncio.run(stream_once(config, prompt))
        assert server.pid is not None
        report["server_rss_mb"] = rss_mb(server.pid)
        if not args.skip_agent:
            report["agent: 17*23"] = agent_task(config)
            report["server_rss_mb_after_agent"] = rss_mb(server.pid)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

"""Benchmark the host tools; prints JSON.

    .venv/bin/python bench/tools.py [--rounds N] [--sandbox]

- ``bridge_noop``: host-side overhead of one allowed no-op call through ``ToolBridge.handle``
  (lookup, binding, policy, events, JSON), sync (thread) and async tools.
- ``sandbox_roundtrip``: with ``--sandbox``, a no-op tool called from Python code in the
  real Docker sandbox → host bridge → back (needs the sandbox image).
- ``browser_open_snapshot``: ``browser.open`` of a local page + snapshot, warm browser.
- ``desktop_screenshot``: ``desktop.screenshot()`` to PNG on a 1280x800 Xvfb display.

Targets: round trip p50 <= 5 ms; open + snapshot <= 1 s warm; screenshot <= 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autopilot.config import Config
from autopilot.interaction import AutoApprove
from autopilot.policy import Policy, load_policy, parse_rules
from autopilot.sandbox.base import ToolRequest
from autopilot.tools import ToolBridge, ToolRegistry, create_registry, desktop

PAGE = (
    b"""<!doctype html><html><head><title>Bench</title></head><body><h1>Bench page</h1>
<form><label for=q>Query</label><input id=q><button>Go</button></form>
<ul>"""
    + b"".join(b'<li><a href="/p%d">Link %d</a></li>' % (i, i) for i in range(40))
    + b"""</ul>
</body></html>"""
)


def stats(samples_s: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in samples_s)
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 3),
        "p95_ms": round(ms[int(len(ms) * 0.95) - 1], 3),
        "min_ms": round(ms[0], 3),
    }


def noop() -> str:
    """Does nothing."""
    return "ok"


async def anoop() -> str:
    """Does nothing, asynchronously."""
    return "ok"


def _bench_registry() -> ToolRegistry:
    registry = ToolRegistry()
    registry.add_group("bench", [noop, anoop])
    return registry


async def bench_bridge(rounds: int) -> dict[str, Any]:
    import tomllib

    policy = Policy(
        parse_rules(tomllib.loads('[[rule]]\ntool = "bench.*"\neffect = "allow"\n'), "bench").rules
    )
    bridge = ToolBridge(_bench_registry(), policy, AutoApprove(), lambda e: None, step_budget=10**9)
    out: dict[str, Any] = {}
    for tool in ("bench.noop", "bench.anoop"):
        samples = []
        for i in range(rounds):
            started = time.perf_counter()
            await bridge.handle(ToolRequest(str(i), tool, {}))
            samples.append(time.perf_counter() - started)
        out[tool.split(".")[1]] = stats(samples)
    return out


async def bench_sandbox(rounds: int) -> dict[str, Any]:
    import tomllib

    from autopilot.sandbox import create_sandbox

    policy = Policy(
        parse_rules(tomllib.loads('[[rule]]\ntool = "bench.*"\neffect = "allow"\n'), "bench").rules
    )
    bridge = ToolBridge(_bench_registry(), policy, AutoApprove(), lambda e: None, step_budget=10**9)
    with tempfile.TemporaryDirectory() as workspace:
        sandbox = create_sandbox(
            Config().sandbox, session_id="bench-tools", workspace=Path(workspace)
        )
        try:
            sandbox.set_tool_handler(bridge.handle, bridge.specs())
            await sandbox.start()
            code = (
                "import time\n_t = []\n"
                f"for _ in range({rounds}):\n"
                "    _s = time.perf_counter(); bench.noop(); _t.append(time.perf_counter() - _s)\n"
                "_t.sort()\nprint(_t[len(_t)//2] * 1000, _t[int(len(_t)*0.95)-1] * 1000)\n"
            )
            result = await sandbox.run(code, timeout=120)
            if result.error:
                return {"error": f"{result.error.type}: {result.error.message}"}
            p50, p95 = (float(x) for x in result.stdout.split())
            return {"n": rounds, "p50_ms": round(p50, 3), "p95_ms": round(p95, 3)}
        finally:
            await sandbox.close()


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args: Any) -> None:
        pass


async def bench_browser(rounds: int) -> dict[str, Any]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    registry = create_registry(Config(), AutoApprove(), groups=("browser",))
    bridge = ToolBridge(registry, load_policy(Config()), AutoApprove(), step_budget=10**9)
    try:
        started = time.perf_counter()
        await bridge.handle(ToolRequest("cold", "browser.open", {"url": url}))
        cold = time.perf_counter() - started
        samples = []
        for i in range(rounds):
            started = time.perf_counter()
            obs = await bridge.handle(ToolRequest(str(i), "browser.open", {"url": f"{url}?{i}"}))
            samples.append(time.perf_counter() - started)
        assert "Bench page" in obs["snapshot"]
        return {"cold_first_open_ms": round(cold * 1000, 1), "warm": stats(samples)}
    finally:
        await registry.aclose()
        server.shutdown()


def bench_screenshot(rounds: int) -> dict[str, Any]:
    xvfb = None
    if not os.environ.get("DISPLAY"):
        read_fd, write_fd = os.pipe()
        xvfb = subprocess.Popen(
            [shutil.which("Xvfb") or "Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24"],
            pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(write_fd)
        with os.fdopen(read_fd) as pipe:
            os.environ["DISPLAY"] = ":" + pipe.readline().strip()
    try:
        desktop.screenshot()  # warm-up
        samples = []
        size = 0
        for _ in range(rounds):
            started = time.perf_counter()
            shot = desktop.screenshot()
            samples.append(time.perf_counter() - started)
            size = len(shot.png)
        busy = _busy_screen()
        encode = []
        for _ in range(min(rounds, 20)):
            started = time.perf_counter()
            busy_png = desktop.encode_png(busy)
            encode.append(time.perf_counter() - started)
        return {
            "width": shot.width,
            "height": shot.height,
            "png_bytes": size,
            **stats(samples),
            "encode_busy_screen": {"png_bytes": len(busy_png.png), **stats(encode)},
        }
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait()


def _busy_screen() -> Any:
    """A 1280x800 image with lots of text and a photo-like noisy area (a worst-ish case)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (1280, 800), "white")
    draw = ImageDraw.Draw(image)
    for row in range(0, 800, 14):
        draw.text(
            (8, row), f"line {row}: the quick brown fox jumps over the lazy dog " * 3, fill="black"
        )
    image.paste(Image.effect_noise((400, 300), 60).convert("RGB"), (800, 400))
    return image


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument(
        "--sandbox", action="store_true", help="also measure the sandbox round trip"
    )
    args = parser.parse_args()
    report: dict[str, Any] = {"bridge_noop": await bench_bridge(max(args.rounds, 500))}
    if args.sandbox:
        try:
            report["sandbox_roundtrip"] = await bench_sandbox(args.rounds)
        except Exception as exc:
            report["sandbox_roundtrip"] = {"error": f"{type(exc).__name__}: {exc}"}
    report["browser_open_snapshot"] = await bench_browser(min(args.rounds, 30))
    report["desktop_screenshot"] = bench_screenshot(min(args.rounds, 50))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())

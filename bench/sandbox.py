"""Sandbox benchmark: prints one JSON object (see autopilot/sandbox/_bench.py).

Run: ``.venv/bin/python bench/sandbox.py`` (needs Docker and the image:
``autopilot sandbox build --offline``). Progress goes to stderr.
"""

from __future__ import annotations

import asyncio
import json
import sys


def main() -> int:
    from autopilot.config import load
    from autopilot.sandbox._bench import run_bench

    config = load().sandbox
    report = asyncio.run(run_bench(config, progress=lambda line: print(line, file=sys.stderr)))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

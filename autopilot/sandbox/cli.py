"""``autopilot sandbox build|exec|ps|prune|bench``.

Imported at every ``autopilot`` start to build the parser: only the standard library and
Autopilot's light modules at the top; docker and the backends load inside the handlers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from autopilot.config import Config
from autopilot.errors import EXIT_FAILURE, EXIT_OK


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sandbox",
        help="build and manage the Docker sandbox",
        description="Build and manage the Docker sandbox code runs in.",
    )
    commands = parser.add_subparsers(dest="sandbox_command", metavar="SUBCOMMAND", required=True)

    build = commands.add_parser("build", help="build the sandbox image")
    build.add_argument(
        "--offline", action="store_true", help="build from Debian packages (no registry)"
    )
    build.add_argument("--force", action="store_true", help="rebuild even if the image exists")

    run = commands.add_parser("exec", help="run cells in one fresh sandbox and print the results")
    run.add_argument(
        "-c",
        "--code",
        action="append",
        default=[],
        metavar="CODE",
        help="a cell (repeat for more; stdin is read when none is given)",
    )
    run.add_argument("--json", action="store_true", help="one JSON object per cell")
    run.add_argument("--timeout", type=float, default=None, help="seconds per cell")

    ps = commands.add_parser("ps", help="list sandbox containers")
    ps.add_argument("--json", action="store_true", help="JSON output")

    prune = commands.add_parser("prune", help="remove orphaned sandbox containers")
    prune.add_argument(
        "--all", action="store_true", help="remove every sandbox container of this host"
    )
    prune.add_argument("--json", action="store_true", help="JSON output")

    bench = commands.add_parser("bench", help="measure the sandbox against per-call baselines")
    bench.add_argument("--json", action="store_true", help="JSON output")

    parser.set_defaults(handler=handle_sandbox)


def handle_sandbox(args: argparse.Namespace, config: Config) -> int:
    handlers = {"build": _build, "exec": _exec, "ps": _ps, "prune": _prune, "bench": _bench}
    return handlers[args.sandbox_command](args, config)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _build(args: argparse.Namespace, config: Config) -> int:
    from autopilot.sandbox.image import build_image

    build_image(config.sandbox.image, offline=args.offline, force=args.force, progress=_say)
    return EXIT_OK


def _exec(args: argparse.Namespace, config: Config) -> int:
    import asyncio

    cells = list(args.code) or [sys.stdin.read()]
    workspace = Path(config.sandbox.workspace or os.getcwd()).expanduser()
    return asyncio.run(_exec_cells(cells, workspace, args, config))


async def _exec_cells(
    cells: list[str], workspace: Path, args: argparse.Namespace, config: Config
) -> int:
    from autopilot.sandbox import create_sandbox
    from autopilot.sandbox.base import OutputChunk

    sandbox = create_sandbox(config.sandbox, session_id=f"cli-{os.getpid()}", workspace=workspace)
    warning = getattr(sandbox, "warning", None)
    if warning:
        _say(f"warning: {warning}")

    def echo(chunk: OutputChunk) -> None:
        stream = sys.stdout if chunk.stream == "stdout" else sys.stderr
        stream.write(chunk.text)
        stream.flush()

    failed = False
    async with sandbox:
        for code in cells:
            result = await sandbox.run(
                code, timeout=args.timeout, on_output=None if args.json else echo
            )
            failed = failed or not result.ok
            if args.json:
                print(json.dumps(_result_dict(result)), flush=True)
                continue
            if result.value is not None:
                print(result.value)
            if result.images:
                print(f"[{len(result.images)} image(s)]")
            if result.error is not None:
                _say(
                    result.error.traceback.rstrip()
                    or f"{result.error.type}: {result.error.message}"
                )
                if result.state_lost:
                    _say(f"[{result.error.message}]")
    return EXIT_FAILURE if failed else EXIT_OK


def _result_dict(result: Any) -> dict[str, Any]:
    error = None
    if result.error is not None:
        error = {
            "type": result.error.type,
            "message": result.error.message,
            "traceback": result.error.traceback,
        }
    return {
        "stdout": result.stdout,
        "stderr": result.stderr,
        "value": result.value,
        "error": error,
        "images": len(result.images),
        "duration_s": round(result.duration_s, 6),
        "state_lost": result.state_lost,
        "timed_out": result.timed_out,
        "truncated": result.truncated,
        "full_output_path": result.full_output_path,
    }


def _ps(args: argparse.Namespace, config: Config) -> int:
    from autopilot.sandbox._docker import docker_client
    from autopilot.sandbox.orphans import list_sandboxes

    containers = list_sandboxes(docker_client())
    if args.json:
        print(json.dumps([c.to_dict() for c in containers], indent=2))
        return EXIT_OK
    if not containers:
        print("no sandbox containers")
        return EXIT_OK
    print(f"{'CONTAINER':<13} {'SESSION':<24} {'OWNER':>8}  {'STATUS':<22} ORPHANED")
    for c in containers:
        print(
            f"{c.id:<13} {c.session[:24]:<24} {c.owner_pid:>8}  {c.status[:22]:<22} {'yes' if c.orphaned else 'no'}"
        )
    return EXIT_OK


def _prune(args: argparse.Namespace, config: Config) -> int:
    from autopilot.sandbox._docker import docker_client
    from autopilot.sandbox.orphans import prune

    removed = prune(docker_client(), everything=args.all)
    if args.json:
        print(json.dumps({"removed": removed}))
    else:
        print(
            f"removed {len(removed)} container(s)" + (": " + " ".join(removed) if removed else "")
        )
    return EXIT_OK


def _bench(args: argparse.Namespace, config: Config) -> int:
    import asyncio

    from autopilot.sandbox._bench import run_bench

    report = asyncio.run(run_bench(config.sandbox, progress=_say))
    if args.json:
        print(json.dumps(report, indent=2))
        return EXIT_OK
    trips = report["round_trip_ms"]
    base = report["baselines_ms"]
    print(f"start to first result  {report['start_to_first_result_s']['median'] * 1000:8.0f} ms")
    print(f"warm round trip        p50 {trips['p50']:.2f} ms, p99 {trips['p99']:.2f} ms")
    print(f"output throughput      {report['throughput']['mb_per_s']:8.0f} MB/s")
    print(f"interrupt to result    {report['interrupt_to_result_s']['median'] * 1000:8.1f} ms")
    print(f"OOM to next answer     {report['oom_recovery_s']['bomb_to_next_answer']:8.2f} s")
    print(
        f"docker exec per cell   {base['docker_exec_per_cell_p50']:8.1f} ms ({base['docker_exec_over_ours']:.0f}x)"
    )
    print(
        f"container per cell     {base['new_container_per_cell_p50']:8.1f} ms ({base['new_container_over_ours']:.0f}x)"
    )
    return EXIT_OK

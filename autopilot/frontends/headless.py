"""``autopilot run "task"``: one task, no UI, streamed to stdout; JSON lines with ``--json``.

Exit codes: 0 answered (a plain reply counts), 1 failed, 2 usage or configuration (the
error's ``exit_code``), 130 interrupted. Approvals: ``--yes`` runs everything; with a
terminal the person is asked y/n/e/a; without one, code is refused with a clear message.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from typing import Any, TextIO

from autopilot import errors
from autopilot import events as ev
from autopilot.config import Config

EXIT_BY_REASON = {
    "final_answer": errors.EXIT_OK,
    "no_code": errors.EXIT_OK,
    "max_steps": errors.EXIT_FAILURE,
    "interrupted": errors.EXIT_INTERRUPTED,
    "error": errors.EXIT_FAILURE,
}


def overrides_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """``run``'s own flags as config overrides. The main CLI has already applied the global
    ones (``--model``, ``--api-base``, ``--sandbox``, ``--max-steps`` …) to ``config``."""
    return {"approval_mode": "auto" if getattr(args, "yes", False) else None}


def read_task(args: argparse.Namespace, stdin: TextIO) -> str:
    task = getattr(args, "task", None)
    if task == "-":
        task = stdin.read()
    if not task or not task.strip():
        raise errors.UsageError(
            "no task given", hint='pass it as an argument (autopilot run "task") or on stdin with -'
        )
    return task.strip()


def run(args: argparse.Namespace, config: Config) -> int:
    debug = bool(getattr(args, "debug", False) or config.debug)
    try:
        config = config.with_overrides(overrides_from_args(args))
        task = read_task(args, sys.stdin)
        return asyncio.run(run_task(task, config, as_json=bool(getattr(args, "json", False))))
    except errors.AutopilotError as exc:
        _print_error(exc, debug)
        return exc.exit_code
    except KeyboardInterrupt:
        return errors.EXIT_INTERRUPTED


def _print_error(exc: errors.AutopilotError, debug: bool) -> None:
    if debug:
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    print(f"error: {exc.one_line()}", file=sys.stderr)


def choose_interaction(config: Config, stdin: TextIO) -> Any:
    from autopilot.interaction import AutoApprove, RefuseAll

    if config.approval_mode == "auto":
        return AutoApprove()
    if stdin.isatty():
        from autopilot.frontends.terminal import TerminalInteraction

        return TerminalInteraction()
    return RefuseAll("code needs approval and stdin is not a terminal; re-run with --yes")


async def run_task(
    task: str,
    config: Config,
    *,
    as_json: bool,
    out: TextIO | None = None,
    err: TextIO | None = None,
    agent: Any = None,
) -> int:
    from autopilot.agent import build_agent
    from autopilot.frontends.render import TextRenderer, error_line

    out = out or sys.stdout
    err = err or sys.stderr
    if agent is None:
        agent = build_agent(config, choose_interaction(config, sys.stdin))
    renderer = TextRenderer(out, err)
    loop = asyncio.get_running_loop()
    pending: set[asyncio.Task[None]] = set()  # keeps the interrupt task alive
    sigints = 0

    def on_sigint() -> None:
        nonlocal sigints
        sigints += 1
        if sigints == 1:
            pending.add(loop.create_task(agent.interrupt()))
        else:  # a second Ctrl-C: leave now (an orphaned container is reaped at next start)
            raise KeyboardInterrupt

    try:
        loop.add_signal_handler(signal.SIGINT, on_sigint)
        installed = True
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or Windows
        installed = False
    exit_code = errors.EXIT_FAILURE
    error_code: int | None = None
    try:
        async for event in agent.turn(task):
            if as_json:
                out.write(json.dumps(ev.to_dict(event), ensure_ascii=False, default=str) + "\n")
                out.flush()
                if isinstance(event, ev.ErrorEvent):
                    print(f"error: {error_line(event)}", file=err)
            else:
                renderer.show(event)
            if isinstance(event, ev.ErrorEvent) and error_code is None:
                error_code = _exit_code_of(event.kind)
            if isinstance(event, ev.TurnFinished):
                exit_code = EXIT_BY_REASON[event.reason]
                if event.reason == "error" and error_code is not None:
                    exit_code = error_code
    finally:
        if installed:
            loop.remove_signal_handler(signal.SIGINT)
        await agent.aclose()
    return exit_code


def _exit_code_of(kind: str) -> int:
    cls = getattr(errors, kind, None)
    if isinstance(cls, type) and issubclass(cls, errors.AutopilotError):
        return cls.exit_code
    return errors.EXIT_FAILURE

"""The ``autopilot`` command line.

This module is imported for every invocation, including ``--help`` and ``--version``, so it
imports only the standard library and Autopilot's light modules at the top. Each package
that adds commands exposes ``register(subparsers)`` in a cheap ``cli`` module; the heavy
work happens inside the handlers.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

from autopilot import __version__
from autopilot.errors import EXIT_INTERRUPTED, EXIT_USAGE, AutopilotError, UsageError

# Packages that add subcommands, in the order they appear in --help.
COMMAND_MODULES = (
    "autopilot.agent.cli",  # run, sessions
    "autopilot.config_cli",  # config, keys, doctor
    "autopilot.sandbox.cli",  # sandbox
    "autopilot.policy.cli",  # policy
)

# Global flags and the config keys they override.
FLAG_TO_KEY = {
    "model": "model",
    "api_base": "api_base",
    "user": "user",
    "mode": "approval_mode",
    "sandbox": "sandbox.backend",
    "max_steps": "max_steps",
    "network": "sandbox.network",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line, exit 2, as for every usage error
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"autopilot: error: {message}\n")


def add_global_flags(parser: argparse.ArgumentParser) -> None:
    """Flags accepted before or after any subcommand (defaults suppressed so both work)."""
    s = argparse.SUPPRESS
    parser.add_argument(
        "--debug", action="store_true", default=s, help="show tracebacks and debug logs"
    )
    parser.add_argument(
        "--model",
        default=s,
        metavar="MODEL",
        help="any litellm model string, e.g. openai/gpt-4o-mini",
    )
    parser.add_argument(
        "--api-base",
        default=s,
        metavar="URL",
        help="the model endpoint (OpenAI-compatible servers, proxies)",
    )
    parser.add_argument("--user", default=s, help="whose memory, skills and sessions to use")
    parser.add_argument(
        "--mode",
        choices=["ask", "auto"],
        default=s,
        help="approve each code block (ask) or run them (auto)",
    )
    parser.add_argument(
        "--sandbox",
        choices=["docker", "local"],
        default=s,
        help="where code runs; local is UNISOLATED",
    )
    parser.add_argument(
        "--network", action="store_true", default=s, help="give the sandbox network access"
    )
    parser.add_argument(
        "--config", default=s, metavar="PATH", help="config file to use instead of the default"
    )
    parser.add_argument(
        "--local",
        action="store_true",
        default=s,
        help="use the embedded local model (llama-cpp-python; no API key needed)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="autopilot",
        description="A terminal autopilot: chat, and it acts by running Python in a sandbox.",
        epilog="Run `autopilot doctor` to check this machine; `autopilot COMMAND --help` for more.",
    )
    parser.add_argument("--version", action="version", version=f"autopilot {__version__}")
    add_global_flags(parser)
    parser.add_argument(
        "--plain",
        action="store_true",
        default=argparse.SUPPRESS,
        help="a plain prompt instead of the full-screen TUI",
    )
    parser.add_argument(
        "--resume",
        nargs="?",
        const="latest",
        default=argparse.SUPPRESS,
        metavar="ID",
        help="continue a session (the latest when no ID is given)",
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    for choice in subparsers.choices.values():
        add_global_flags(choice)
        for action in choice._actions:  # nested commands (config show, keys set …)
            if isinstance(action, argparse._SubParsersAction):
                for nested in action.choices.values():
                    add_global_flags(nested)
    return parser


def overrides_from_args(args: argparse.Namespace) -> dict[str, Any]:
    values = vars(args)
    return {key: values[flag] for flag, key in FLAG_TO_KEY.items() if values.get(flag) is not None}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv or os.environ.get("AUTOPILOT_DEBUG") == "1"
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("\nautopilot: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except AutopilotError as exc:
        if debug:
            import traceback

            traceback.print_exc()
        print(f"autopilot: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # a bug: still one line unless --debug
        if debug:
            raise
        print(
            f"autopilot: internal error: {type(exc).__name__}: {exc} (re-run with --debug for details)",
            file=sys.stderr,
        )
        return 1


def _main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "debug", False):
        os.environ["AUTOPILOT_DEBUG"] = "1"
        import logging

        # Our own debug logs only: litellm's and asyncio's would drown them (and may echo keys).
        logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
        logging.getLogger("autopilot").setLevel(logging.DEBUG)
    config = load_config(args)
    if getattr(args, "local", False) and _needs_model(args):
        from autopilot.llm.local import serve_local_model

        with serve_local_model(config) as local:
            return _dispatch(args, local)
    return _dispatch(args, config)


def _needs_model(args: argparse.Namespace) -> bool:
    """Only the chat and ``run`` talk to a model: don't start one for ``config show``."""
    # A command that needs one says so: ``set_defaults(handler=..., needs_model=True)``.
    return getattr(args, "handler", None) is None or bool(getattr(args, "needs_model", False))


def _dispatch(args: argparse.Namespace, config: Any) -> int:
    handler = getattr(args, "handler", None)
    if handler is not None:
        return int(handler(args, config) or 0)
    return _chat(args, config)


def load_config(args: argparse.Namespace):  # -> Config, imported lazily for speed
    from pathlib import Path

    from autopilot import config as config_module

    path = getattr(args, "config", None)
    overrides = overrides_from_args(args)
    if getattr(args, "debug", False):
        overrides["debug"] = True
    return config_module.load(Path(path) if path else None, overrides=overrides)


def _chat(args: argparse.Namespace, config: Any) -> int:
    """Plain ``autopilot``: the TUI, or the plain REPL with ``--plain`` or without a terminal."""
    resume = getattr(args, "resume", None)  # None, "latest" or a session id
    wants_plain = getattr(args, "plain", False) or not (sys.stdin.isatty() and sys.stdout.isatty())
    if not wants_plain:
        try:
            from autopilot.tui import run_app
        except ImportError:
            run_app = None
        if run_app is not None:
            return int(run_app(config, resume=resume) or 0)
    try:
        from autopilot.frontends.plain import main as plain_main
    except ImportError as exc:
        raise UsageError("the chat front end is not available in this build") from exc
    return int(plain_main(config, resume=resume) or 0)


if __name__ == "__main__":
    sys.exit(main())

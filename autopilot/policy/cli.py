"""``autopilot policy show`` and ``autopilot policy check TOOL '{json args}'``.

Imported by the CLI at startup: only the stdlib and the shared config/errors at the top.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from autopilot.config import Config
from autopilot.errors import UsageError


def register(subparsers: Any) -> None:
    policy = subparsers.add_parser(
        "policy",
        help="show the tool privilege policy or check a call against it",
        description="The rules that allow, deny or ask about host tool calls.",
    )
    commands = policy.add_subparsers(dest="policy_command", metavar="{show,check}")
    show = commands.add_parser("show", help="print the effective rules in the order they apply")
    show.set_defaults(handler=show_policy)
    check = commands.add_parser(
        "check", help="print the decision for one tool call and the rule that made it"
    )
    check.add_argument("tool", help="tool name, e.g. web.fetch")
    check.add_argument(
        "args", nargs="?", default="{}", help="the call's arguments as a JSON object"
    )
    check.set_defaults(handler=check_call)
    policy.set_defaults(handler=show_policy)


def show_policy(args: argparse.Namespace, config: Config) -> int:
    from autopilot.policy.loader import load_policy, user_policy_path

    policy = load_policy(config)
    path = user_policy_path(config)
    print(f"# user policy file: {path or 'none'} (its rules come before the defaults)")
    print("# first match wins; nothing matched -> deny")
    for line in policy.describe():
        print(line)
    return 0


def check_call(args: argparse.Namespace, config: Config) -> int:
    from autopilot.policy.loader import load_policy

    try:
        call_args = json.loads(args.args)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"arguments are not valid JSON ({exc.msg})",
            hint="""quote them for the shell: autopilot policy check web.fetch '{"url": "https://example.org"}'""",
        ) from None
    if not isinstance(call_args, dict):
        raise UsageError(
            "arguments must be a JSON object", hint="""e.g. '{"url": "https://example.org"}'"""
        )
    decision = load_policy(config).decide(args.tool, call_args)
    print(f"{decision.effect}  {args.tool} {json.dumps(call_args)}")
    print(f"rule: {decision.rule.describe()}")
    if decision.effect == "deny":
        print(f"message to the model: {decision.message}")
    return 0

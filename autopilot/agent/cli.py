"""The ``run`` and ``sessions`` subcommands, registered on the lead's command line.

Imported at parse time, so only cheap modules are imported at the top; the agent, the
front ends and everything heavy load inside the handlers. Flags that the main parser may
define too (``--model`` …) use ``SUPPRESS`` defaults here, so a value given before the
subcommand is not overwritten by this parser's default. The handler of ``run`` is named
``run_command``: the main CLI starts a local model only for handlers of that name.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from autopilot import errors
from autopilot.config import Config


def register(subparsers: Any) -> None:
    # "resolve": the main parser adds its global flags (--model …) to every subcommand
    # after this; theirs then replace these, which are here for standalone use.
    run = subparsers.add_parser(
        "run",
        conflict_handler="resolve",
        help="run one task headless and exit",
        description="Run one task without a UI. Exit codes: 0 answered, 1 failed, "
        "2 usage or configuration, 130 interrupted.",
    )
    run.add_argument("task", nargs="?", help='the task; "-" reads it from stdin')
    run.add_argument(
        "-y",
        "--yes",
        action="store_true",
        default=argparse.SUPPRESS,
        help="run code without asking",
    )
    run.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print events as JSON lines"
    )
    run.add_argument("--model", default=argparse.SUPPRESS, help="the model (litellm name)")
    run.add_argument("--api-base", default=argparse.SUPPRESS, help="the model endpoint URL")
    run.add_argument(
        "--max-steps", type=int, default=argparse.SUPPRESS, help="steps before giving up"
    )
    run.add_argument(
        "--sandbox", choices=["docker", "local"], default=argparse.SUPPRESS, help="where code runs"
    )
    run.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="tracebacks on errors"
    )
    run.set_defaults(handler=run_command, needs_model=True)

    sessions = subparsers.add_parser("sessions", help="list, show or export past sessions")
    actions = sessions.add_subparsers(dest="sessions_action", metavar="{list,show,export}")
    listing = actions.add_parser("list", help="list sessions, newest last")
    listing.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    show = actions.add_parser("show", help="replay a session's transcript")
    show.add_argument("session_id", nargs="?", help="an id or a unique prefix (default: latest)")
    export = actions.add_parser("export", help="export a session as Markdown or JSON")
    export.add_argument("session_id", nargs="?", help="an id or a unique prefix (default: latest)")
    export.add_argument("--format", choices=["md", "json"], default="md")
    export.add_argument("-o", "--output", help="write to this file instead of stdout")
    sessions.set_defaults(handler=_sessions)


def run_command(args: argparse.Namespace, config: Config) -> int:
    from autopilot.frontends import headless

    return headless.run(args, config)


def _sessions(args: argparse.Namespace, config: Config) -> int:
    action = getattr(args, "sessions_action", None) or "list"
    try:
        if action == "list":
            return _list(config, as_json=bool(getattr(args, "json", False)))
        if action == "show":
            return _show(config, args.session_id)
        return _export(config, args.session_id, args.format, args.output)
    except errors.AutopilotError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code


def _list(config: Config, *, as_json: bool) -> int:
    from autopilot.agent.session import list_sessions

    infos = list_sessions(config)
    if as_json:
        print(json.dumps([i.as_dict() for i in infos], ensure_ascii=False))
        return 0
    if not infos:
        print("no sessions yet")
    for info in infos:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.started))
        first = " ".join(info.first_message.split())[:60]
        print(f"{info.session_id}  {when}  {info.turns:>3} turns  {first}")
    return 0


def _show(config: Config, session_id: str | None) -> int:
    from autopilot.agent.session import find_session, read_events
    from autopilot.frontends.render import TextRenderer

    renderer = TextRenderer(sys.stdout, sys.stdout, replay=True)
    for event in read_events(find_session(config, session_id)):
        renderer.show(event)
    return 0


def _export(config: Config, session_id: str | None, fmt: str, output: str | None) -> int:
    from pathlib import Path

    from autopilot.agent.export import to_json, to_markdown
    from autopilot.agent.session import find_session, read_events

    events = read_events(find_session(config, session_id))
    text = to_json(events) if fmt == "json" else to_markdown(events)
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0

"""A session log as Markdown (``sessions export --format md``) or a JSON array."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

from autopilot import events as ev


def to_json(events: Sequence[ev.Event]) -> str:
    return json.dumps([ev.to_dict(e) for e in events], ensure_ascii=False, indent=1, default=str)


def to_markdown(events: Sequence[ev.Event]) -> str:
    lines: list[str] = []
    outputs: dict[str, list[str]] = {}
    for event in events:
        if isinstance(event, ev.SessionStarted):
            when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(event.ts))
            resumed = " (resumed)" if event.resumed else ""
            lines += [
                f"# Session {event.session_id}{resumed}",
                "",
                f"{when} · model `{event.model}`",
                "",
            ]
        elif isinstance(event, ev.UserMessage):
            lines += ["## You", "", event.text, ""]
        elif isinstance(event, ev.AssistantMessage):
            lines += ["## Autopilot", "", event.text.rstrip(), ""]
        elif isinstance(event, ev.Output):
            outputs.setdefault(event.block_id, []).append(event.text)
        elif isinstance(event, ev.CodeDecision) and event.decision in ("skip", "refused", "edit"):
            detail = f"\n\n```\n{event.code.rstrip()}\n```" if event.decision == "edit" else ""
            lines += [
                f"*{event.decision}{': ' + event.reason if event.reason else ''}*{detail}",
                "",
            ]
        elif isinstance(event, ev.CodeFinished):
            text = "".join(outputs.pop(event.block_id, []))
            if event.value is not None:
                text += f"→ {event.value}\n"
            if not event.ok:
                text += f"{event.error_type or 'stopped'}: {event.error_message or ''}\n"
            lines += ["Output:", "", "```text", text.rstrip() or "(nothing)", "```", ""]
        elif isinstance(event, ev.ImageOutput):
            lines += [f"![image]({event.path})", ""]
        elif isinstance(event, ev.FinalAnswer):
            lines += ["**Answer:**", "", event.text, ""]
        elif isinstance(event, ev.ErrorEvent):
            lines += [f"> error: {event.message}" + (f" — {event.hint}" if event.hint else ""), ""]
    return "\n".join(lines).rstrip() + "\n"

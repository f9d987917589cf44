"""Export a conversation (its events) as Markdown for ``/export``."""

from __future__ import annotations

from collections.abc import Iterable

from autopilot import events as ev


def to_markdown(items: Iterable[ev.Event]) -> str:
    parts: list[str] = ["# Autopilot session\n"]
    outputs: dict[str, list[str]] = {}
    for event in items:
        match event:
            case ev.UserMessage(text=text):
                parts.append(f"## You\n\n{text}\n")
            case ev.AssistantMessage(text=text) if text.strip():
                parts.append(f"## Autopilot\n\n{text}\n")
            case ev.CodeStarted(block_id=bid, code=code, language=lang):
                outputs[bid] = []
                parts.append(f"```{lang}\n{code.rstrip()}\n```\n")
            case ev.Output(block_id=bid, text=text):
                outputs.setdefault(bid, []).append(text)
            case ev.CodeFinished(block_id=bid, ok=ok, error_type=etype, error_message=emsg):
                out = "".join(outputs.pop(bid, []))
                if out:
                    parts.append(f"```text\n{out.rstrip()}\n```\n")
                if not ok:
                    parts.append(f"> failed: {etype or 'error'}: {emsg or ''}\n")
            case ev.ImageOutput(path=path):
                parts.append(f"![image]({path})\n")
            case ev.ToolCalled(tool=tool, args=args, decision=decision):
                parts.append(f"- tool `{tool}` {args} — {decision}\n")
            case ev.FinalAnswer(text=text):
                parts.append(f"## Answer\n\n{text}\n")
            case ev.ErrorEvent(message=message, hint=hint):
                parts.append(f"> error: {message}" + (f" — {hint}" if hint else "") + "\n")
            case _:
                pass
    return "\n".join(parts)

"""``ToolCallView``: a host tool call, the policy's decision, its approval and result."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from rich.text import Text
from textual.widgets import Static

from autopilot.events import ToolCalled, ToolFinished
from autopilot.interaction import ToolApproval, ToolApprovalRequest
from autopilot.tui.widgets.approval_bar import TOOL_OPTIONS, ApprovalBar

_DECISION = {
    "allow": ("allowed", "green"),
    "deny": ("denied", "red"),
    "ask": ("asks you", "yellow"),
}


class ToolCallView(Static):
    def __init__(self, call_id: str, tool: str, args: dict[str, Any]) -> None:
        super().__init__(classes="tool-call")
        self.call_id = call_id
        self.tool = tool
        self.args = args
        self.decision = ""
        self.result: Text | None = None
        self._future: asyncio.Future[Any] | None = None

    def on_mount(self) -> None:
        self._redraw()

    def called(self, event: ToolCalled) -> None:
        label, style = _DECISION.get(event.decision, (event.decision, ""))
        who = {"policy": "policy", "person": "you", "session_rule": "this session"}[event.by]
        rule = f", rule {event.rule}" if event.rule else ""
        self.decision = f"[{style}]{label}[/] by {who}{rule}"
        self._redraw()

    def finished(self, event: ToolFinished) -> None:
        if event.ok:
            self.result = Text(f"  ✓ {event.summary}".rstrip(), style="green")
        else:
            self.result = Text(f"  ✗ {event.error or 'failed'}", style="red")
        self._redraw()

    async def ask(self, request: ToolApprovalRequest, future: asyncio.Future[Any]) -> None:
        self._future = future
        why = f" ({request.reason})" if request.reason else ""
        bar = ApprovalBar(TOOL_OPTIONS, prompt=f"Allow {request.tool}?{why}")
        bar.owner = self
        await self.parent.mount(bar, after=self)  # type: ignore[union-attr]
        bar.focus()

    def answer(self, bar: ApprovalBar, choice: str) -> ToolApproval:
        approval = ToolApproval(choice)  # type: ignore[arg-type]
        if self._future is not None and not self._future.done():
            self._future.set_result(approval)
        self._future = None
        bar.remove()
        self.decision = {
            "once": "allowed once by you",
            "always": "allowed this session by you",
        }.get(choice, "[red]denied[/] by you")
        self._redraw()
        return approval

    def _redraw(self) -> None:
        args = ", ".join(f"{k}={_short(v)}" for k, v in self.args.items())
        line = Text.assemble(("⚙ ", "bold"), (f"{self.tool}", "bold"), f"({args})")
        if self.decision:
            line.append(" — ")
            line.append_text(Text.from_markup(self.decision))
        if self.result is not None:
            line.append("\n")
            line.append_text(self.result)
        self.update(line)


def _short(value: Any, width: int = 40) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"

"""``TuiInteraction``: the agent's ``Interaction``, answered from widgets.

Each request creates a future and posts a message; the app mounts the approval widget and
resolves the future when the person chooses. Interrupting cancels whatever is pending.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from textual.message import Message

from autopilot.config import ApprovalMode
from autopilot.interaction import (
    CodeApproval,
    CodeApprovalRequest,
    ToolApproval,
    ToolApprovalRequest,
)
from autopilot.tui.messages import CodeApprovalRequested, QuestionAsked, ToolApprovalRequested


class TuiInteraction:
    def __init__(self, post: Callable[[Message], Any], mode: ApprovalMode = "ask") -> None:
        self._post = post
        self.mode: ApprovalMode = mode
        self._pending: set[asyncio.Future[Any]] = set()

    async def _ask(self, make: Callable[[asyncio.Future[Any]], Message]) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.add(future)
        try:
            self._post(make(future))
            return await future
        finally:
            self._pending.discard(future)

    async def approve_code(self, request: CodeApprovalRequest) -> CodeApproval:
        if self.mode == "auto":
            return CodeApproval("run")
        approval: CodeApproval = await self._ask(lambda f: CodeApprovalRequested(request, f))
        if approval.choice == "always":
            # "Always this session" means no more questions about code: the mode says so.
            self.mode = "auto"
        return approval

    async def approve_tool(self, request: ToolApprovalRequest) -> ToolApproval:
        return await self._ask(lambda f: ToolApprovalRequested(request, f))

    async def ask_user(self, question: str) -> str:
        return await self._ask(lambda f: QuestionAsked(question, f))

    @property
    def waiting(self) -> bool:
        return bool(self._pending)

    def cancel_pending(self) -> None:
        for future in list(self._pending):
            if not future.done():
                future.cancel()

"""Textual messages that carry work results from workers to the app.

Workers never touch widgets: they post one of these and the app's handlers update the
screen on the event loop, in order.
"""

from __future__ import annotations

import asyncio
from typing import Any

from textual.message import Message

from autopilot.events import Event
from autopilot.interaction import CodeApprovalRequest, ToolApprovalRequest


class AgentEventPosted(Message):
    """One agent event to render."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class AgentReady(Message):
    """The agent was built (the sandbox warms in the background)."""

    def __init__(self, agent: Any) -> None:
        super().__init__()
        self.agent = agent


class AgentFailed(Message):
    """Building the agent or running a turn failed outside the event stream."""

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error


class TurnEnded(Message):
    """The worker running a turn is done (normally, interrupted, or failed)."""


class CodeApprovalRequested(Message):
    def __init__(self, request: CodeApprovalRequest, future: asyncio.Future[Any]) -> None:
        super().__init__()
        self.request = request
        self.future = future


class ToolApprovalRequested(Message):
    def __init__(self, request: ToolApprovalRequest, future: asyncio.Future[Any]) -> None:
        super().__init__()
        self.request = request
        self.future = future


class QuestionAsked(Message):
    def __init__(self, question: str, future: asyncio.Future[str]) -> None:
        super().__init__()
        self.question = question
        self.future = future

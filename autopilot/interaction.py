"""How the agent asks the person something: the ``Interaction`` Protocol front ends implement.

The agent never talks to a terminal itself. When it needs a decision — run this code block?
allow this tool call? answer this question? — it awaits the front end's ``Interaction``.
The TUI answers from widgets, the plain REPL from prompts, headless ``run`` from its flags
(``--yes``) and refuses when it cannot ask. ``AutoApprove`` and ``RefuseAll`` ship here for
library use and tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

CodeChoice = Literal["run", "skip", "edit", "always"]
ToolChoice = Literal["once", "always", "deny"]


@dataclass(frozen=True)
class CodeApprovalRequest:
    block_id: str
    language: str
    code: str


@dataclass(frozen=True)
class CodeApproval:
    """The person's answer. ``edit`` carries the new ``code``; ``skip`` may carry a reason."""

    choice: CodeChoice
    code: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class ToolApprovalRequest:
    call_id: str
    tool: str
    args: dict[str, Any]
    rule: str = ""
    reason: str = ""


@dataclass(frozen=True)
class ToolApproval:
    choice: ToolChoice
    reason: str = ""


@runtime_checkable
class Interaction(Protocol):
    async def approve_code(self, request: CodeApprovalRequest) -> CodeApproval: ...

    async def approve_tool(self, request: ToolApprovalRequest) -> ToolApproval: ...

    async def ask_user(self, question: str) -> str:
        """Ask the person a free-text question; raise ToolError when nobody can answer."""


class AutoApprove:
    """Runs every block and allows every `ask` tool call once; cannot answer questions."""

    async def approve_code(self, request: CodeApprovalRequest) -> CodeApproval:
        return CodeApproval("run")

    async def approve_tool(self, request: ToolApprovalRequest) -> ToolApproval:
        return ToolApproval("once")

    async def ask_user(self, question: str) -> str:
        from autopilot.errors import ToolError

        raise ToolError("nobody is there to answer: the session runs without a person")


class RefuseAll:
    """Refuses everything that needs a person (headless without ``--yes`` and no terminal)."""

    def __init__(self, why: str = "no terminal to ask for approval; re-run with --yes") -> None:
        self.why = why

    async def approve_code(self, request: CodeApprovalRequest) -> CodeApproval:
        return CodeApproval("skip", reason=self.why)

    async def approve_tool(self, request: ToolApprovalRequest) -> ToolApproval:
        return ToolApproval("deny", reason=self.why)

    async def ask_user(self, question: str) -> str:
        from autopilot.errors import ToolError

        raise ToolError(f"cannot ask the person: {self.why}")

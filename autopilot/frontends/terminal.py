"""Approvals on a terminal: y / n / e(dit) / a(lways), with prompt-toolkit.

``ask`` and ``edit`` are injectable so tests (and the plain REPL, which shares its prompt
session) can drive it. Ctrl-C or Ctrl-D at a question declines.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from autopilot.interaction import (
    CodeApproval,
    CodeApprovalRequest,
    ToolApproval,
    ToolApprovalRequest,
)

Ask = Callable[[str], Awaitable[str]]
Edit = Callable[[str], Awaitable[str]]


async def prompt_ask(message: str) -> str:
    from prompt_toolkit import PromptSession

    return await PromptSession().prompt_async(message)


async def prompt_edit(code: str) -> str:
    from prompt_toolkit import PromptSession

    return await PromptSession().prompt_async(
        "edit (Esc Enter to run):\n", default=code.rstrip("\n"), multiline=True
    )


class TerminalInteraction:
    def __init__(self, ask: Ask = prompt_ask, edit: Edit = prompt_edit) -> None:
        self._ask = ask
        self._edit = edit

    async def _question(self, message: str) -> str | None:
        try:
            return (await self._ask(message)).strip()
        except (KeyboardInterrupt, EOFError):
            return None

    async def approve_code(self, request: CodeApprovalRequest) -> CodeApproval:
        while True:
            answer = await self._question(
                f"Run this {request.language} block? [y]es [n]o [e]dit [a]lways: "
            )
            if answer is None:
                return CodeApproval("skip", reason="the person declined")
            choice = answer.lower()[:1]
            if choice == "y":
                return CodeApproval("run")
            if choice == "a":
                return CodeApproval("always")
            if choice == "n":
                reason = await self._question("Why not? (optional, the model reads it): ")
                return CodeApproval("skip", reason=reason or "")
            if choice == "e":
                try:
                    code = await self._edit(request.code)
                except (KeyboardInterrupt, EOFError):
                    continue
                return CodeApproval("edit", code=code)

    async def approve_tool(self, request: ToolApprovalRequest) -> ToolApproval:
        args = json.dumps(request.args, ensure_ascii=False)[:300]
        while True:
            answer = await self._question(f"Allow {request.tool}({args})? [o]nce [a]lways [d]eny: ")
            if answer is None:
                return ToolApproval("deny", reason="the person declined")
            choice = answer.lower()[:1]
            if choice in ("o", "y"):
                return ToolApproval("once")
            if choice == "a":
                return ToolApproval("always")
            if choice in ("d", "n"):
                return ToolApproval("deny", reason="the person denied it")

    async def ask_user(self, question: str) -> str:
        from autopilot.errors import ToolError

        answer = await self._question(question.rstrip() + " ")
        if answer is None:
            raise ToolError("the person did not answer")
        return answer

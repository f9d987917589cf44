"""``user.ask``: put a question to the person through the front end's Interaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from autopilot.errors import ToolError
from autopilot.interaction import Interaction


def make_ask(interaction: Interaction) -> Callable[[str], Awaitable[str]]:
    async def ask(question: str) -> str:
        """Ask the person a question and return their answer (text). Use it sparingly: only
        when you cannot go on without their input."""
        if not question.strip():
            raise ToolError("user.ask needs a question")
        return await interaction.ask_user(question)

    return ask

"""The agent: the CodeAct loop, its prompts, and session logs.

``Agent`` and ``build_agent`` load lazily, so importing ``autopilot.agent.cli`` (which the
command line does at start-up) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from autopilot.agent.factory import build_agent
    from autopilot.agent.loop import Agent

__all__ = ["Agent", "build_agent"]


def __getattr__(name: str) -> Any:
    if name == "Agent":
        from autopilot.agent.loop import Agent

        return Agent
    if name == "build_agent":
        from autopilot.agent.factory import build_agent

        return build_agent
    raise AttributeError(f"module 'autopilot.agent' has no attribute {name!r}")

"""Builders shared by the agent tests: a ScriptedLLM + FakeSandbox agent and event helpers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from autopilot import events as ev
from autopilot.agent import Agent
from autopilot.agent.session import SessionLog
from autopilot.config import Config
from autopilot.interaction import AutoApprove, Interaction
from autopilot.llm import ScriptedLLM
from autopilot.sandbox.fake import FakeSandbox


def make_agent(
    replies: Sequence[Any],
    *,
    sandbox: FakeSandbox | None = None,
    interaction: Interaction | None = None,
    config: Config | None = None,
    session: SessionLog | None = None,
    **llm_options: Any,
) -> Agent:
    return Agent(
        llm=ScriptedLLM(list(replies), **llm_options),
        sandbox=sandbox or FakeSandbox(),
        interaction=interaction or AutoApprove(),
        config=config or Config(approval_mode="auto"),
        session=session,
    )


async def collect(agent: Agent, text: str) -> list[ev.Event]:
    return [event async for event in agent.turn(text)]


def of_type(events: Sequence[ev.Event], cls: type) -> list[Any]:
    return [e for e in events if isinstance(e, cls)]


def finished(events: Sequence[ev.Event]) -> ev.TurnFinished:
    last = events[-1]
    assert isinstance(last, ev.TurnFinished), last
    return last


def user_code(sandbox: FakeSandbox) -> list[str]:
    """The cells the model's code ran as (without the agent's own prelude and answer checks)."""
    return [
        c
        for c in sandbox.calls
        if "__autopilot_final__ = None" not in c and c != "__autopilot_take_final__()"
    ]

"""``build_agent``: wire an Agent from the configuration, the way front ends need it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from autopilot.agent.loop import Agent
from autopilot.agent.resume import restore
from autopilot.agent.session import SessionLog, new_session_id
from autopilot.config import Config
from autopilot.interaction import Interaction
from autopilot.llm.base import LLM
from autopilot.sandbox.base import Sandbox


def build_agent(
    config: Config,
    interaction: Interaction,
    *,
    session_id: str | None = None,
    resume: str | None = None,
    llm: LLM | None = None,
    sandbox: Sandbox | None = None,
    tools: Any = None,
) -> Agent:
    """An Agent with its LLM, sandbox, host tools and session log.

    ``resume`` is a session id (or unique prefix), or ``""`` / ``"latest"`` for the latest: its log is reopened, the
    conversation restored, and the model told its sandbox is fresh. The sandbox starts in
    the background at once when an event loop is running (else at the first cell); a
    failure to start shows only when code has to run.
    """
    if resume is not None:
        session = SessionLog.reopen(config, None if resume in ("", "latest") else resume)
    else:
        session = SessionLog.create(config, session_id or new_session_id())
    events = session.events() if resume is not None else []
    if llm is None:
        from autopilot.llm import create_llm

        llm = create_llm(config)
    if sandbox is None:
        from autopilot.sandbox import create_sandbox

        workspace = Path(config.sandbox.workspace or Path.cwd())
        sandbox = create_sandbox(config.sandbox, session_id=session.session_id, workspace=workspace)
    if tools is None:
        # The host tools (web, browser, desktop, user) behind the privilege policy. Cheap to
        # build: the browser and the desktop start only at their first call.
        from autopilot.tools import create_bridge

        tools = create_bridge(config, interaction)
    agent = Agent(
        llm=llm,
        sandbox=sandbox,
        interaction=interaction,
        config=config,
        session=session,
        tools=tools,
    )
    if hasattr(tools, "set_emit"):
        tools.set_emit(agent.emit)  # each tool call and its decision is an event of the turn
    if resume is not None:
        agent.restore(restore(events))
    agent.start_sandbox()
    return agent

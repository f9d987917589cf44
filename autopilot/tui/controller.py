"""``SessionController``: builds the agent and runs its turns in workers.

The agent lives on the app's event loop (async workers), so streaming never needs a
thread; heavy imports happen in a thread before the agent is built. Workers only post
messages (``messages.py``); the app renders them.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import os
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from textual.app import App
from textual.worker import Worker

from autopilot import events as ev
from autopilot.config import Config
from autopilot.tui.messages import AgentEventPosted, AgentFailed, AgentReady, TurnEnded
from autopilot.tui.tui_interaction import TuiInteraction

INTERRUPT_GRACE_S = 1.0


class AgentLike(Protocol):
    def turn(self, text: str) -> Any: ...

    async def interrupt(self) -> None: ...

    async def aclose(self) -> None: ...


AgentFactory = Callable[..., "AgentLike | Awaitable[AgentLike]"]


async def default_agent_factory(
    config: Config, interaction: TuiInteraction, *, resume: str | None = None
) -> AgentLike:
    """The real agent; litellm and docker load in a thread so the screen stays live."""
    await asyncio.to_thread(_preload, config)
    from autopilot.agent import build_agent

    return build_agent(config, interaction, session_id=None, resume=resume)


def _preload(config: Config) -> None:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    importlib.import_module("autopilot.agent")
    for name in ("litellm", "docker"):
        # A missing library is reported by the agent itself, with a hint.
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


class SessionController:
    def __init__(self, app: App[Any], config: Config, factory: AgentFactory) -> None:
        self.app = app
        self.config = config
        self.factory = factory
        self.interaction = TuiInteraction(app.post_message, mode=config.approval_mode)
        self.agent: AgentLike | None = None
        self.building = False
        self.build_error: BaseException | None = None
        self.queue: deque[str] = deque()
        self._turn: Worker[None] | None = None
        self._shell_count = 0

    @property
    def busy(self) -> bool:
        return self._turn is not None and self._turn.is_running

    # --- lifecycle ------------------------------------------------------------------

    def build(self, *, resume: str | None = None) -> None:
        self.building = True
        self.build_error = None
        self.app.run_worker(self._build(resume), group="agent-build", exclusive=True)

    async def _build(self, resume: str | None) -> None:
        try:
            agent = self.factory(self.config, self.interaction, resume=resume)
            if inspect.isawaitable(agent):
                agent = await agent
        except Exception as exc:
            self.app.post_message(AgentFailed(exc))
        else:
            self.app.post_message(AgentReady(agent))

    def ready(self, agent: AgentLike) -> None:
        self.agent = agent
        self.building = False

    def failed(self, error: BaseException) -> None:
        self.building = False
        if self.agent is None:
            self.build_error = error

    async def close(self) -> None:
        self.queue.clear()
        if self.busy:
            await self.interrupt()
        agent, self.agent = self.agent, None
        if agent is not None:
            # Closing is best effort: the sandbox reaps its orphans at the next start.
            with contextlib.suppress(Exception):
                await agent.aclose()

    async def rebuild(self, config: Config, *, resume: str | None = None) -> None:
        await self.close()
        self.config = config
        self.build(resume=resume)

    # --- turns ----------------------------------------------------------------------

    def can_send_now(self) -> bool:
        return self.agent is not None and not self.busy and not self.queue

    def start_turn(self, text: str) -> None:
        assert self.agent is not None
        self._turn = self.app.run_worker(
            self._run_turn(self.agent, text), group="agent-turn", exit_on_error=False
        )

    async def _run_turn(self, agent: AgentLike, text: str) -> None:
        try:
            async for event in agent.turn(text):
                self.app.post_message(AgentEventPosted(event))
        except asyncio.CancelledError:
            self.app.post_message(AgentEventPosted(ev.InterruptedEvent(during="idle")))
            raise
        except Exception as exc:
            self.app.post_message(AgentFailed(exc))
        finally:
            self.app.post_message(TurnEnded())

    async def interrupt(self) -> None:
        """Stop the stream and the running cell; cancel the worker if the agent is slow."""
        self.interaction.cancel_pending()
        turn = self._turn
        if self.agent is None or turn is None or not turn.is_running:
            return
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.agent.interrupt(), INTERRUPT_GRACE_S)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.shield(turn.wait()), INTERRUPT_GRACE_S)
        if turn.is_running:
            turn.cancel()  # the agent did not stop in time: stop consuming its stream

    # --- direct shell commands (!cmd) ---------------------------------------------------

    def run_shell(self, command: str) -> None:
        self._shell_count += 1
        block_id = f"shell-{self._shell_count}"
        self._turn = self.app.run_worker(
            self._shell(block_id, command), group="agent-turn", exit_on_error=False
        )

    async def _shell(self, block_id: str, command: str) -> None:
        from autopilot.tui.shell import run_in_sandbox

        post = self.app.post_message
        try:
            sandbox = getattr(self.agent, "sandbox", None)
            async for event in run_in_sandbox(sandbox, block_id, command):
                post(AgentEventPosted(event))
        except Exception as exc:
            post(AgentFailed(exc))
        finally:
            post(TurnEnded())

"""A scripted stand-in with the Agent's shape (``turn`` / ``interrupt`` / ``aclose``).

Each turn runs a script (an async generator function taking the agent and the user text)
in a task that feeds a queue, so ``interrupt`` can cancel it wherever it waits — as the
real agent stops its LLM stream and running cell.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from autopilot import events as ev
from autopilot.interaction import CodeApprovalRequest, Interaction

Script = Callable[["FakeAgent", str], AsyncIterator[ev.Event]]
_DONE = object()


class FakeAgent:
    def __init__(self, interaction: Interaction, scripts: list[Script]) -> None:
        self.interaction = interaction
        self.scripts = list(scripts)
        self.history: list[str] = []
        self.approvals: list[Any] = []
        self.closed = False
        self.interrupts = 0
        self._task: asyncio.Task[None] | None = None

    async def turn(self, text: str) -> AsyncIterator[ev.Event]:
        self.history.append(text)
        script = self.scripts.pop(0)
        queue: asyncio.Queue[Any] = asyncio.Queue()
        stopped = []

        async def pump() -> None:
            try:
                async for event in script(self, text):
                    await queue.put(event)
            except asyncio.CancelledError:
                stopped.append(True)
                raise
            finally:
                queue.put_nowait(_DONE)

        yield ev.UserMessage(text=text)
        self._task = asyncio.create_task(pump())
        try:
            while (item := await queue.get()) is not _DONE:
                yield item
        finally:
            self._task = None
        if stopped:
            yield ev.InterruptedEvent(during="llm")
            yield ev.TurnFinished(reason="interrupted", steps=1)

    async def approve(self, block_id: str, code: str) -> ev.CodeDecision:
        approval = await self.interaction.approve_code(
            CodeApprovalRequest(block_id, "python", code)
        )
        self.approvals.append(approval)
        return ev.CodeDecision(
            block_id=block_id,
            decision=approval.choice,
            code=approval.code or "",
            reason=approval.reason,
        )

    async def interrupt(self) -> None:
        self.interrupts += 1
        if self._task is not None:
            self._task.cancel()

    async def aclose(self) -> None:
        self.closed = True


def factory(scripts: list[Script], made: list[FakeAgent] | None = None) -> Callable[..., FakeAgent]:
    """An agent factory for ``AutopilotApp(agent_factory=...)``."""

    def build(config: Any, interaction: Interaction, *, resume: str | None = None) -> FakeAgent:
        agent = FakeAgent(interaction, scripts)
        if made is not None:
            made.append(agent)
        return agent

    return build


# --- ready-made scripts ---------------------------------------------------------------


def split(text: str, size: int = 5) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def code_turn(
    *,
    prose: str = "Let me compute that.",
    code: str = "print(6 * 7)",
    output: str = "42\n",
    answer: str = "The answer is **42**.",
    ok: bool = True,
    error: tuple[str, str, str] | None = None,
) -> Script:
    """Stream prose + a fenced block, ask for approval, run it, then answer."""

    async def script(agent: FakeAgent, text: str) -> AsyncIterator[ev.Event]:
        reply = f"{prose}\n\n```python\n{code}\n```\n"
        yield ev.StepStarted(step=1)
        for piece in split(reply):
            yield ev.AssistantDelta(text=piece, step=1)
            await asyncio.sleep(0)
        yield ev.AssistantMessage(text=reply, step=1)
        yield ev.CodeProposed(block_id="b1", language="python", code=code)
        decision = await agent.approve("b1", code)
        yield decision
        if decision.decision == "skip":
            yield ev.StepStarted(step=2)
            yield ev.FinalAnswer(text=f"Skipped: {decision.reason or 'no reason'}")
            yield ev.TurnFinished(reason="final_answer", steps=2)
            return
        ran = decision.code or code
        yield ev.CodeStarted(block_id="b1", code=ran)
        yield ev.Output(block_id="b1", stream="stdout", text=output)
        yield ev.CodeFinished(
            block_id="b1",
            ok=ok,
            duration_s=0.25,
            error_type=error[0] if error else None,
            error_message=error[1] if error else None,
            traceback=error[2] if error else None,
        )
        yield ev.Usage(
            model="fake",
            prompt_tokens=1200,
            completion_tokens=80,
            cost_usd=0.0012,
            context_window=8000,
        )
        yield ev.StepStarted(step=2)
        for piece in split(answer):
            yield ev.AssistantDelta(text=piece, step=2)
        yield ev.AssistantMessage(text=answer, step=2)
        yield ev.FinalAnswer(text=answer)
        yield ev.TurnFinished(reason="final_answer", steps=2)

    return script


def answer_turn(answer: str = "Hello!") -> Script:
    async def script(agent: FakeAgent, text: str) -> AsyncIterator[ev.Event]:
        yield ev.StepStarted(step=1)
        for piece in split(answer):
            yield ev.AssistantDelta(text=piece, step=1)
        yield ev.AssistantMessage(text=answer, step=1)
        yield ev.FinalAnswer(text=answer)
        yield ev.TurnFinished(reason="final_answer", steps=1)

    return script


def hanging_turn(gate: asyncio.Event | None = None) -> Script:
    """Streams a little, then waits (forever, or until ``gate`` is set)."""

    async def script(agent: FakeAgent, text: str) -> AsyncIterator[ev.Event]:
        yield ev.StepStarted(step=1)
        yield ev.AssistantDelta(text="Working on it", step=1)
        if gate is None:
            await asyncio.Event().wait()
        else:
            await gate.wait()
        yield ev.AssistantMessage(text="Working on it", step=1)
        yield ev.FinalAnswer(text=f"done: {text}")
        yield ev.TurnFinished(reason="final_answer", steps=1)

    return script

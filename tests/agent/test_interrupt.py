"""interrupt(): the LLM stream and a running cell stop within 0.5 s; the session stays usable."""

from __future__ import annotations

import asyncio
import time

from autopilot import events as ev
from autopilot.agent import Agent
from autopilot.config import Config
from autopilot.interaction import CodeApproval, CodeApprovalRequest
from autopilot.sandbox.fake import FakeSandbox
from tests.agent.helpers import collect, finished, make_agent, of_type


async def interrupt_when(agent: Agent, text: str, trigger: type) -> tuple[list[ev.Event], float]:
    """Run a turn; interrupt as soon as an event of type ``trigger`` arrives."""
    events: list[ev.Event] = []
    asked_at = 0.0
    async for event in agent.turn(text):
        events.append(event)
        if isinstance(event, trigger) and not asked_at:
            asked_at = time.monotonic()
            asyncio.get_running_loop().create_task(agent.interrupt())
    return events, time.monotonic() - asked_at


async def test_interrupt_mid_stream() -> None:
    slow_reply = ["Thinking"] + [" more"] * 1000
    agent = make_agent([slow_reply, "Redirected."], delay_s=0.05)
    events, took = await interrupt_when(agent, "go", ev.AssistantDelta)
    assert took < 0.5
    assert of_type(events, ev.InterruptedEvent)[0].during == "llm"
    assert finished(events).reason == "interrupted"
    assert "interrupted" in agent.history[-1].content
    # The person redirects; the conversation goes on.
    events = await collect(agent, "do something else")
    assert finished(events).reason == "no_code"
    assert agent.llm.calls[-1].messages[-1].content == "do something else"


async def test_interrupt_mid_cell() -> None:
    code = "import time\nprint('start')\nwhile True:\n    time.sleep(0.01)\n"
    sandbox = FakeSandbox()
    agent = make_agent(
        [f"```python\n{code}```", "```python\nprint('alive')\n```", "ok"], sandbox=sandbox
    )
    events, took = await interrupt_when(agent, "spin", ev.Output)
    assert took < 0.5
    done = of_type(events, ev.CodeFinished)[0]
    assert done.interrupted and not done.ok
    assert of_type(events, ev.InterruptedEvent)[0].during == "code"
    assert finished(events).reason == "interrupted"
    assert agent.history[-1].role == "user" and "interrupted" in agent.history[-1].content
    events = await collect(agent, "continue")
    assert "".join(e.text for e in of_type(events, ev.Output)) == "alive\n"


async def test_a_cell_that_ignores_the_interrupt_is_abandoned_in_time() -> None:
    sandbox = FakeSandbox(interrupt_grace_s=5)
    code = (
        "import time\nend = time.time() + 1.5\nwhile time.time() < end:\n"
        "    try:\n        time.sleep(0.01)\n    except KeyboardInterrupt:\n        pass\n"
    )
    agent = make_agent([f"```python\nprint('x')\n{code}```"], sandbox=sandbox)
    events, took = await interrupt_when(agent, "stubborn", ev.Output)
    assert took < 0.5 + 0.2
    assert finished(events).reason == "interrupted"
    await agent.aclose()


async def test_interrupt_while_waiting_for_approval() -> None:
    class Slow:
        async def approve_code(self, request: CodeApprovalRequest) -> CodeApproval:
            await asyncio.sleep(30)
            return CodeApproval("run")

    sandbox = FakeSandbox()
    agent = make_agent(
        ["```python\nprint(1)\n```"], sandbox=sandbox, interaction=Slow(), config=Config()
    )
    events, took = await interrupt_when(agent, "go", ev.CodeProposed)
    assert took < 0.5
    assert finished(events).reason == "interrupted"
    assert not of_type(events, ev.CodeStarted)


async def test_interrupt_when_idle_does_nothing() -> None:
    agent = make_agent(["hi"])
    await agent.interrupt()
    assert finished(await collect(agent, "hello")).reason == "no_code"


async def test_interrupt_between_steps_stops_before_the_next_request() -> None:
    agent = make_agent(["```python\nprint(1)\n```", "never asked"])
    events = []
    async for event in agent.turn("go"):
        events.append(event)
        if isinstance(event, ev.Observation):
            await agent.interrupt()
    assert finished(events) == ev.TurnFinished(ts=events[-1].ts, reason="interrupted", steps=1)
    assert len(agent.llm.calls) == 1


async def test_a_failure_in_the_last_turn_does_not_nudge_the_next_one() -> None:
    agent = make_agent(["```python\n1/0\n```"], config=Config(approval_mode="auto", max_steps=1))
    await collect(agent, "fail")
    agent.llm.replies.append("You're welcome!")
    events = await collect(agent, "thanks")
    assert finished(events).reason == "no_code" and finished(events).steps == 1

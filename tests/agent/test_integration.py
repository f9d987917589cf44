"""The agent against the real things: the Docker sandbox and litellm over HTTP.

A scripted OpenAI-compatible server plays the model; litellm streams from it; cells run
in the real container.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from autopilot import events as ev
from autopilot.agent import build_agent
from autopilot.config import Config, SandboxConfig
from autopilot.interaction import AutoApprove
from tests.agent.helpers import collect, finished, of_type
from tests.support.scripted_server import ScriptedServer

pytestmark = pytest.mark.integration


def config_for(server: ScriptedServer, workspace: Path, **changes: object) -> Config:
    return Config(
        model="openai/scripted",
        api_base=server.url,
        approval_mode="auto",
        user="integration",
        sandbox=SandboxConfig(workspace=str(workspace), timeout_s=30.0, memory="512m"),
        **changes,  # type: ignore[arg-type]
    )


async def test_three_steps_through_litellm_and_docker(
    scripted_server: ScriptedServer, sandbox_image: str, workspace: Path
) -> None:
    scripted_server.push(
        "I'll define a variable first.\n```python\nx = 21\nprint(x)\n```\nOutput: 21",
        "```python\ny = x * 2\nprint(y)\n```",
        "```python\nfinal_answer(f'the answer is {y}')\n```",
    )
    agent = build_agent(config_for(scripted_server, workspace), AutoApprove())
    try:
        events = await collect(agent, "double 21 in steps")
    finally:
        await agent.aclose()
    assert finished(events).reason == "final_answer"
    assert [e.text for e in of_type(events, ev.FinalAnswer)] == ["the answer is 42"]
    assert "".join(e.text for e in of_type(events, ev.Output)) == "21\n42\n"
    bodies = [r.body for r in scripted_server.requests]
    assert len(bodies) == 3
    assert "stdout:\n21" in bodies[1]["messages"][-1]["content"]
    assert "Output: 21" not in str(bodies[1]["messages"])  # the invented output was cut
    assert "stop" not in bodies[0] or not bodies[0]["stop"]


async def test_bash_block_error_and_interrupt_in_docker(
    scripted_server: ScriptedServer, sandbox_image: str, workspace: Path
) -> None:
    scripted_server.push(
        "```bash\necho from-bash && ls /workspace >/dev/null\n```",
        "```python\n1/0\n```",
        "I hit a ZeroDivisionError.",
        "Checked: 1/0 raises ZeroDivisionError.",  # after the agent's "check after an error"
        "```python\nimport time\nprint('spinning', flush=True)\nwhile True:\n    time.sleep(0.05)\n```",
        "```python\nprint('still alive')\n```",
        "done",
    )
    agent = build_agent(config_for(scripted_server, workspace), AutoApprove())
    try:
        events = await collect(agent, "shell then error")
        assert "from-bash\n" in "".join(e.text for e in of_type(events, ev.Output))
        done = of_type(events, ev.CodeFinished)
        assert [d.ok for d in done] == [True, False]
        assert done[1].error_type == "ZeroDivisionError"
        assert "ZeroDivisionError" in scripted_server.requests[2].body["messages"][-1]["content"]

        events, asked = [], 0.0
        async for event in agent.turn("spin"):
            events.append(event)
            if isinstance(event, ev.Output) and not asked:
                asked = time.monotonic()
                asyncio.get_running_loop().create_task(agent.interrupt())
        took = time.monotonic() - asked
        assert took < 0.5, took
        assert finished(events).reason == "interrupted"
        events = await collect(agent, "carry on")
        assert "still alive\n" in "".join(e.text for e in of_type(events, ev.Output))
    finally:
        await agent.aclose()


async def test_matplotlib_figure_becomes_an_image_event(
    scripted_server: ScriptedServer, sandbox_image: str, workspace: Path
) -> None:
    scripted_server.push(
        "```python\nimport matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
        "plt.plot([1, 2, 3])\nplt.show()\n```",
        "A line.",
    )
    agent = build_agent(config_for(scripted_server, workspace), AutoApprove())
    try:
        events = await collect(agent, "plot")
    finally:
        await agent.aclose()
    images = of_type(events, ev.ImageOutput)
    assert len(images) >= 1
    data = await asyncio.to_thread(Path(images[0].path).read_bytes)
    assert data.startswith(b"\x89PNG")
    assert Path(images[0].path).parent.parent == agent.session.folder


async def wait_for_outcome(server: ScriptedServer, index: int, timeout: float = 3.0) -> str:
    """How the server saw request ``index`` end (it notices a hang-up within ~10 ms)."""

    def poll() -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and server.requests[index].outcome == "pending":
            time.sleep(0.02)
        return server.requests[index].outcome

    return await asyncio.to_thread(poll)


async def test_stream_is_closed_at_the_fence_and_on_interrupt(
    scripted_server: ScriptedServer, sandbox_image: str, workspace: Path
) -> None:
    # The model would go on for seconds after the fence: the agent hangs up instead.
    tail = " and then I invent the output" * 40
    scripted_server.push(
        {"text": "```python\nprint('cut')\n```\n" + tail, "chunk_size": 4, "delay_s": 0.02},
        {"text": "Thinking" + " very slowly" * 200, "chunk_size": 4, "delay_s": 0.05},
        "Fine.",
    )
    agent = build_agent(config_for(scripted_server, workspace), AutoApprove())
    try:
        events, asked = [], 0.0
        async for event in agent.turn("go"):
            events.append(event)
            if isinstance(event, ev.AssistantDelta) and event.step == 2 and not asked:
                asked = time.monotonic()
                asyncio.get_running_loop().create_task(agent.interrupt())
        took = time.monotonic() - asked
        assert await wait_for_outcome(scripted_server, 0) == "client_closed"
        assert "invent" not in agent.history[1].content
        assert took < 0.5, took
        assert of_type(events, ev.InterruptedEvent)[0].during == "llm"
        assert await wait_for_outcome(scripted_server, 1) == "client_closed"
        events = await collect(agent, "ok?")
        assert finished(events).reason == "no_code"
    finally:
        await agent.aclose()

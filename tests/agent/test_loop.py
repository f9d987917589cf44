"""The CodeAct loop against ScriptedLLM + FakeSandbox."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from autopilot import events as ev
from autopilot.config import Config
from autopilot.errors import DockerUnavailableError, RateLimitError
from autopilot.sandbox.base import ExecImage, ExecResult
from autopilot.sandbox.fake import FakeSandbox
from tests.agent.helpers import collect, finished, make_agent, of_type, user_code

THREE_STEPS = [
    "First a variable.\n```python\nx = 21\nprint(x)\n```\n",
    "```python\ny = x * 2\nprint(y)\n```",
    "```python\nfinal_answer(f'the answer is {y}')\n```",
]


async def test_three_steps_share_state_and_end_with_the_final_answer() -> None:
    agent = make_agent(THREE_STEPS)
    events = await collect(agent, "compute")
    assert finished(events).reason == "final_answer"
    assert finished(events).steps == 3
    assert [e.text for e in of_type(events, ev.FinalAnswer)] == ["the answer is 42"]
    assert "".join(e.text for e in of_type(events, ev.Output)) == "21\n42\n"
    # The model saw each output in the next request.
    calls = agent.llm.calls
    assert "stdout:\n21" in calls[1].messages[-1].content
    assert "stdout:\n42" in calls[2].messages[-1].content
    assert calls[0].stop is None  # no stop sequence: the agent cuts at the fence itself
    await agent.aclose()


async def test_event_order_of_one_step() -> None:
    agent = make_agent(["```python\nprint('hi')\n```"])
    agent.llm.replies.append("done")
    events = await collect(agent, "go")
    kinds = [e.type for e in events if e.type != "sandbox_state"]
    assert of_type(events, ev.SandboxState)[-1].state == "ready"
    first_step = kinds[: kinds.index("observation") + 1]
    assert first_step == [
        "session_started", "user_message", "step_started",
        *["assistant_delta"] * first_step.count("assistant_delta"),
        "assistant_message", "usage", "code_proposed", "code_decision",
        "code_started", "output", "code_finished", "observation",
    ]  # fmt: skip
    assert kinds[-2:] == ["final_answer", "turn_finished"]


async def test_generation_stops_at_the_closing_fence_and_invented_output_is_dropped() -> None:
    reply = "```python\nprint(6 * 7)\n```\nOutput:\n41\n\nThe answer is 41."
    agent = make_agent([reply, "It is 42."])
    events = await collect(agent, "6*7?")
    step_one = [e for e in of_type(events, ev.AssistantDelta) if e.step == 1]
    assert "".join(e.text for e in step_one) == "```python\nprint(6 * 7)\n```\n"
    assert agent.history[1].content == "```python\nprint(6 * 7)\n```\n"
    assert "41" not in "".join(m.content for m in agent.history)
    assert finished(events).reason == "no_code"
    assert of_type(events, ev.FinalAnswer)[0].text == "It is 42."


async def test_plain_answer_needs_no_sandbox() -> None:
    sandbox = FakeSandbox(start_error=DockerUnavailableError("connection refused"))
    agent = make_agent(["Hi! How can I help?"], sandbox=sandbox)
    events = await collect(agent, "say hi")
    assert finished(events).reason == "no_code"
    assert of_type(events, ev.FinalAnswer)[0].text == "Hi! How can I help?"
    assert not of_type(events, ev.ErrorEvent)
    await agent.aclose()


async def test_sandbox_failure_surfaces_when_code_runs_with_the_hint() -> None:
    sandbox = FakeSandbox(start_error=DockerUnavailableError("connection refused"))
    agent = make_agent(
        ["```python\nprint(1)\n```", "```python\nprint(2)\n```", "ok"], sandbox=sandbox
    )
    events = await collect(agent, "run something")
    errors = of_type(events, ev.ErrorEvent)
    assert [e.kind for e in errors] == ["DockerUnavailableError"]
    assert "--sandbox local" in (errors[0].hint or "")
    assert finished(events).reason == "error"
    assert agent.history[-1].role == "user" and "could not run" in agent.history[-1].content
    # Docker is back: the next cell starts the sandbox again.
    sandbox.start_error = None
    events = await collect(agent, "again")
    assert "".join(e.text for e in of_type(events, ev.Output)) == "2\n"
    assert sandbox.starts == 2


async def test_sandbox_starts_in_the_background_before_the_first_cell() -> None:
    sandbox = FakeSandbox(start_delay_s=0.05)
    agent = make_agent(["```python\nprint(1)\n```", "done"], sandbox=sandbox)
    agent.start_sandbox()
    assert sandbox.starts == 0  # a task, not a blocking call
    await agent._cells.ready_task
    assert sandbox.starts == 1 and sandbox.state == "ready"
    events = await collect(agent, "go")
    assert [e.state for e in of_type(events, ev.SandboxState)] == ["ready"]


async def test_several_blocks_run_in_order_and_stop_at_the_first_error() -> None:
    reply = "```python\nprint('one')\n```\n```python\n1/0\n```\n```python\nprint('three')\n```\n"
    agent = make_agent([[reply], "I see a ZeroDivisionError; done."])
    events = await collect(agent, "go")
    assert [e.code for e in of_type(events, ev.CodeStarted)] == ["print('one')\n", "1/0\n"]
    done = of_type(events, ev.CodeFinished)
    assert [d.ok for d in done] == [True, False]
    assert done[1].error_type == "ZeroDivisionError"
    observation = of_type(events, ev.Observation)[0].text
    assert (
        "one" in observation and "ZeroDivisionError" in observation and "three" not in observation
    )


async def test_error_goes_back_to_the_model_which_recovers() -> None:
    agent = make_agent(
        [
            "```python\nopen('missing.csv')\n```",
            "```python\nimport os\nprint(os.path.exists('missing.csv'))\n```",
            "The file does not exist.",
        ]
    )
    events = await collect(agent, "read it")
    assert "FileNotFoundError" in agent.llm.calls[1].messages[-1].content
    assert finished(events).reason == "no_code"


async def test_no_code_right_after_an_error_is_checked_once() -> None:
    agent = make_agent(["```python\n1/0\n```", "The answer is 5.", "Still 5."])
    events = await collect(agent, "go")
    assert finished(events).reason == "no_code"
    assert finished(events).steps == 3
    assert "failed" in agent.llm.calls[2].messages[-1].content
    assert of_type(events, ev.FinalAnswer)[0].text == "Still 5."


async def test_final_answer_alone_right_after_an_error_is_checked_once() -> None:
    agent = make_agent(
        [
            "```python\n1/0\n```",
            "```python\nfinal_answer('5')\n```",
            "```python\nfinal_answer('5')\n```",
        ]
    )
    events = await collect(agent, "go")
    assert finished(events).steps == 3
    assert [e.text for e in of_type(events, ev.FinalAnswer)] == ["5"]


async def test_step_limit() -> None:
    replies = [f"```python\nprint({i})\n```" for i in range(5)]
    agent = make_agent(replies, config=Config(approval_mode="auto", max_steps=3))
    events = await collect(agent, "loop forever")
    assert finished(events).reason == "max_steps"
    assert finished(events).steps == 3
    assert len(of_type(events, ev.CodeStarted)) == 3
    assert of_type(events, ev.Notice)[0].level == "warning"


async def test_loop_breaker_from_the_second_identical_failure() -> None:
    # Measured: small greedy models repeat at once, so the note comes at the first repeat
    # (tests/agent/test_repeats.py covers dropping duplicates and giving up).
    failing = "```python\nimport nothing_here\n```"
    agent = make_agent([failing, failing, failing, "I cannot import it.", "Really."])
    await collect(agent, "go")
    observations = [c.messages[-1].content for c in agent.llm.calls[1:4]]
    assert ["the same" in o for o in observations] == [False, True, True]


async def test_bash_block_runs_as_a_shell_command_with_streamed_output() -> None:
    agent = make_agent(["```bash\necho hello; echo world 1>&2; exit 3\n```", "It failed with 3."])
    events = await collect(agent, "shell")
    started = of_type(events, ev.CodeStarted)[0]
    assert started.language == "bash" and started.code.startswith("echo hello")
    assert "".join(e.text for e in of_type(events, ev.Output)) == "hello\nworld\n"
    done = of_type(events, ev.CodeFinished)[0]
    assert not done.ok and done.error_type == "ShellCommandError"
    assert "The command failed (exit status 3)" in agent.llm.calls[1].messages[-1].content


async def test_unsupported_language_is_answered_not_run() -> None:
    sandbox = FakeSandbox()
    agent = make_agent(
        ["```javascript\nconsole.log(1)\n```", "```python\nprint(1)\n```", "done"], sandbox=sandbox
    )
    events = await collect(agent, "go")
    decisions = of_type(events, ev.CodeDecision)
    assert decisions[0].decision == "refused" and decisions[0].reason == "unsupported language"
    assert "only ```python" in agent.llm.calls[1].messages[-1].content
    assert user_code(sandbox) == ["print(1)\n"]


async def test_display_blocks_do_not_run() -> None:
    agent = make_agent(['Here is the data:\n```json\n{"a": 1}\n```\nThat is all.'])
    events = await collect(agent, "show")
    assert not of_type(events, ev.CodeProposed)
    assert finished(events).reason == "no_code"


async def test_trailing_expression_value_is_shown() -> None:
    agent = make_agent(["```python\nx = [1, 2]\nx\n```", "done"])
    events = await collect(agent, "go")
    assert of_type(events, ev.CodeFinished)[0].value == "[1, 2]"
    assert "Last expression (kept in _): [1, 2]" in agent.llm.calls[1].messages[-1].content


async def test_llm_error_ends_the_turn_with_a_clear_error() -> None:
    agent = make_agent([RateLimitError("rate limited by the provider", hint="wait a minute")])
    events = await collect(agent, "go")
    error = of_type(events, ev.ErrorEvent)[0]
    assert (error.kind, error.message, error.hint) == (
        "RateLimitError",
        "rate limited by the provider",
        "wait a minute",
    )
    assert finished(events).reason == "error"


async def test_state_lost_reruns_the_prelude_and_tells_the_model() -> None:
    def respond(code: str) -> ExecResult | None:
        return ExecResult(state_lost=True, timed_out=True) if "boom" in code else None

    sandbox = FakeSandbox(respond=respond)
    agent = make_agent(
        ["```python\nboom = 1\n```", "```python\nx = 1\nfinal_answer('after restart')\n```"],
        sandbox=sandbox,
    )
    events = await collect(agent, "go")
    states = [e.state for e in of_type(events, ev.SandboxState)]
    assert "restarted" in states and states[-1] == "ready"
    assert "state was lost" in agent.llm.calls[1].messages[-1].content
    assert [e.text for e in of_type(events, ev.FinalAnswer)] == ["after restart"]
    assert sum("__autopilot_final__ = None" in c for c in sandbox.calls) == 2


@pytest.mark.parametrize("vision", [True, False])
async def test_images_are_saved_and_sent_by_model_ability(vision: bool) -> None:
    png = b"\x89PNG\r\n\x1a\nfake"
    sandbox = FakeSandbox(
        respond=lambda code: ExecResult(images=(ExecImage(png, 4, 3),)) if "plot" in code else None
    )
    agent = make_agent(
        ["```python\nplot()\n```", "A plot."], sandbox=sandbox, supports_vision=vision
    )
    events = await collect(agent, "draw")
    image = of_type(events, ev.ImageOutput)[0]
    assert await asyncio.to_thread(Path(image.path).read_bytes) == png
    sent = agent.llm.calls[1].messages[-1]
    if vision:
        assert sent.images[0].png == png
    else:
        assert sent.images == () and "cannot see images" in sent.content


def test_run_sync() -> None:
    agent = make_agent(THREE_STEPS)
    assert agent.run("compute") == "the answer is 42"
    agent.close()
    assert agent.sandbox.state == "stopped"

"""The loop breaker: duplicates leave the prompt, a hint is given, and a model that ignores
it ends the turn with an error (ScriptedLLM + FakeSandbox)."""

from __future__ import annotations

import io
import itertools

from autopilot import events as ev
from autopilot.agent.session import SessionLog, read_events
from autopilot.config import Config
from autopilot.frontends import headless
from tests.agent.helpers import collect, finished, make_agent, of_type, user_code

FAILING = "Let me read it.\n```python\nopen('/workspace/missing.csv').read()\n```"
CONFIG = Config(approval_mode="auto", user="tester")


def assistant_texts(messages) -> list[str]:
    return [m.content for m in messages if m.role == "assistant"]


async def test_a_repeat_keeps_one_copy_in_the_prompt_with_a_hint() -> None:
    agent = make_agent([FAILING, FAILING, "The file is missing.", "It is missing."])
    events = await collect(agent, "read missing.csv")
    third_prompt = agent.llm.calls[2].messages
    assert assistant_texts(third_prompt) == [FAILING]  # not two copies to pattern-copy
    note = third_prompt[-1].content
    assert "FileNotFoundError" in note  # the observation itself is still there
    assert "same failing code 2 times" in note
    assert "write it first" in note  # the FileNotFoundError hint
    # The event log keeps both attempts.
    assert len(of_type(events, ev.CodeStarted)) == 2
    assert finished(events).reason == "no_code"


async def test_the_escalated_note_differs_so_a_greedy_model_sees_a_new_prompt() -> None:
    agent = make_agent([FAILING, FAILING, FAILING, "Missing.", "Missing."])
    await collect(agent, "go")
    second, third = (agent.llm.calls[i].messages[-1].content for i in (2, 3))
    assert second != third and "task stops as failed" in third
    assert assistant_texts(agent.llm.calls[3].messages) == [FAILING]


async def test_an_ignored_loop_breaker_ends_the_turn_with_an_error() -> None:
    session = SessionLog.create(CONFIG)
    agent = make_agent([FAILING] * 6, session=session, config=CONFIG)
    events = await collect(agent, "go")
    assert finished(events).reason == "error"
    assert finished(events).steps == 4  # not all 30 steps
    assert len(user_code(agent.sandbox)) == 4
    error = of_type(events, ev.ErrorEvent)[-1]
    assert error.kind == "RuntimeFailure"
    assert "same failing code" in error.message and "4 times" in error.message
    assert "FileNotFoundError" in error.message and "\n" not in error.message
    assert not of_type(events, ev.FinalAnswer)
    logged = read_events(session.path)
    assert logged == events and isinstance(logged[-2], ev.Observation)


async def test_the_history_stays_consistent_for_the_next_turn() -> None:
    agent = make_agent([FAILING] * 4 + ["Hello again."])
    await collect(agent, "go")
    events = await collect(agent, "hi")
    assert finished(events).reason == "no_code"
    roles = [m.role for m in agent.llm.calls[-1].messages]
    assert roles[0] == "system" and roles[-1] == "user"
    assert ("assistant", "assistant") not in set(itertools.pairwise(roles))


async def test_a_cycle_counts_and_a_new_turn_starts_afresh() -> None:
    # Measured: the 0.5B also alternated between two cells with the same outputs.
    other = "```python\nprint('other')\n```"
    agent = make_agent([FAILING, other, FAILING, "Missing.", "Missing.", FAILING, "Gone.", "Gone."])
    await collect(agent, "go")
    assert "same failing code 2 times" in agent.llm.calls[3].messages[-1].content
    # Not directly before the repeat: nothing is dropped.
    assert assistant_texts(agent.llm.calls[3].messages).count(FAILING) == 2
    await collect(agent, "again")
    assert "same" not in agent.llm.calls[6].messages[-1].content


async def test_a_failure_in_an_earlier_turn_is_not_dropped() -> None:
    agent = make_agent([FAILING, "It is missing.", "It is missing.", FAILING, "Still missing."])
    await collect(agent, "first")
    await collect(agent, "again")
    assert assistant_texts(agent.llm.calls[-1].messages).count(FAILING) == 2


async def test_headless_exit_code_is_1_when_the_model_loops() -> None:
    out, err = io.StringIO(), io.StringIO()
    agent = make_agent([FAILING] * 4)
    code = await headless.run_task("go", CONFIG, as_json=False, out=out, err=err, agent=agent)
    assert code == 1
    assert "same failing code" in err.getvalue() and "4 times" in err.getvalue()


async def test_headless_exit_code_is_1_when_steps_run_out_after_a_failing_cell() -> None:
    config = Config(approval_mode="auto", max_steps=2)
    agent = make_agent(["```python\nx = 1\n```", "```python\n1/0\n```"], config=config)
    out, err = io.StringIO(), io.StringIO()
    code = await headless.run_task("go", config, as_json=True, out=out, err=err, agent=agent)
    assert code == 1
    assert '"reason": "max_steps"' in out.getvalue()


async def test_the_same_output_again_is_a_repeat_too() -> None:
    # Measured: the 0.5B wrapped its failing line in try/except and re-ran it, printing
    # the same caught error each time.
    same = "```python\ntry:\n    len(iter([]))\nexcept TypeError as e:\n    print(e)\n```"
    agent = make_agent([same] * 5)
    events = await collect(agent, "count")
    notes = [c.messages[-1].content for c in agent.llm.calls[1:]]
    assert ["same output" in n for n in notes] == [False, True, False]
    assert "task stops as failed" in notes[2]
    assert assistant_texts(agent.llm.calls[-1].messages) == [same]
    assert finished(events).reason == "error" and finished(events).steps == 4
    assert "same code with the same output" in of_type(events, ev.ErrorEvent)[0].message


async def test_a_repeated_final_answer_cell_still_finishes() -> None:
    answer = "```python\nprint(42)\nfinal_answer(42)\n```"
    agent = make_agent(["```python\nprint(42)\n```", answer])
    events = await collect(agent, "go")
    assert finished(events).reason == "final_answer"

"""Compaction shortens the prompt near the context window; history and log stay whole."""

from __future__ import annotations

from autopilot import events as ev
from autopilot.agent.compaction import compact, estimate_tokens
from autopilot.agent.session import SessionLog, read_events
from autopilot.config import Config
from autopilot.llm import Message
from tests.agent.helpers import collect, make_agent, of_type


def test_below_the_window_nothing_changes() -> None:
    history = [Message("user", "hi"), Message("assistant", "hello")]
    assert compact(history, context_window=1000, reserved_tokens=0) == history


def test_old_long_messages_are_shortened_then_summarised() -> None:
    history = [Message("user", "the task")]
    for i in range(20):
        history += [
            Message("assistant", f"step {i}\n```python\nprint({i})\n```"),
            Message("user", "x" * 4000),
        ]
    window = 8_000
    sent = compact(history, context_window=window, reserved_tokens=500, protected=0)
    assert estimate_tokens(sent) <= window * 0.75
    assert sent[-6:] == history[-6:]  # the recent steps are whole
    assert any(m.content == "the task" for m in sent)  # the person's message is kept
    assert "left out to fit the context window" in sent[0].content


async def test_agent_compacts_the_prompt_but_keeps_history_and_log_whole() -> None:
    # Different code each step: the same cell with the same output is a loop (repeats.py).
    replies = [f"```python\nprint('{i}' * 6000)\n```" for i in range(8)] + ["done"]
    session = SessionLog.create(Config(user="t"))
    agent = make_agent(
        replies, context_window=6_000, session=session, config=Config(approval_mode="auto")
    )
    events = await collect(agent, "make output")
    last_prompt = agent.llm.calls[-1].messages
    assert estimate_tokens(last_prompt) < 6_000
    assert sum(len(m.content) for m in agent.history) > 8 * 6000
    logged = read_events(session.path)
    assert len(of_type(logged, ev.Output)) == 8
    assert sum(len(o.text) for o in of_type(logged, ev.Observation)) >= 8 * 6000
    assert of_type(events, ev.TurnFinished)[0].reason == "no_code"


def test_an_unknown_window_assumes_a_modest_one() -> None:
    history = [Message("user", "task")] + [Message("user", "z" * 40_000) for _ in range(6)]
    history += [Message("assistant", "recent")] * 6
    sent = compact(history, context_window=None, reserved_tokens=0, protected=0)
    assert estimate_tokens(sent) <= 32_000 * 0.75 < estimate_tokens(history)

"""Session logs: every event on disk, a torn line survives, resume restores the history."""

from __future__ import annotations

import json
import re

import pytest

from autopilot import events as ev
from autopilot.agent import build_agent
from autopilot.agent.session import (
    SessionLog,
    find_session,
    list_sessions,
    new_session_id,
    read_events,
)
from autopilot.config import Config
from autopilot.errors import SessionError
from autopilot.interaction import AutoApprove
from autopilot.llm import ScriptedLLM
from autopilot.sandbox.fake import FakeSandbox
from tests.agent.helpers import collect, make_agent, of_type

CONFIG = Config(approval_mode="auto", user="tester")


def test_session_ids_sort_by_time() -> None:
    a, b = new_session_id(1_800_000_000), new_session_id(1_800_000_001)
    assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{4}", a)
    assert a < b


async def test_every_event_is_logged_in_order() -> None:
    session = SessionLog.create(CONFIG)
    agent = make_agent(["```python\nprint(1)\n```", "done"], session=session, config=CONFIG)
    events = await collect(agent, "go")
    lines = session.path.read_text().splitlines()
    assert [json.loads(line)["type"] for line in lines] == [e.type for e in events]
    assert all(json.loads(line)["v"] == ev.SCHEMA_VERSION for line in lines)
    assert read_events(session.path) == events


def test_a_torn_last_line_is_skipped(tmp_path) -> None:
    path = tmp_path / "s.jsonl"
    good = json.dumps(ev.to_dict(ev.UserMessage(text="hi")))
    path.write_text(good + "\n" + good[:10])
    assert [e.type for e in read_events(path)] == ["user_message"]


def test_no_file_until_the_first_event() -> None:
    session = SessionLog.create(CONFIG)
    assert not session.path.exists()
    assert session.events() == []


async def test_resume_restores_the_history_and_says_the_sandbox_is_fresh() -> None:
    first = build_agent(
        CONFIG,
        AutoApprove(),
        llm=ScriptedLLM(["```python\nx = 41\nprint(x)\n```", "```python\n1/0\n```", "x is 41"]),
        sandbox=FakeSandbox(),
    )
    await collect(first, "set x")
    history = list(first.history)
    session_id = first.session_id
    await first.aclose()

    llm = ScriptedLLM(["```python\nprint(x + 1)\n```", "done"])
    resumed = build_agent(CONFIG, AutoApprove(), resume=session_id, llm=llm, sandbox=FakeSandbox())
    assert resumed.session_id == session_id
    assert resumed.history[: len(history)] == history
    note = resumed.history[-1].content
    assert "resumed" in note and "x = 41" in note and "1/0" not in note
    events = await collect(resumed, "add one")
    assert of_type(events, ev.SessionStarted)[0].resumed
    assert of_type(events, ev.CodeProposed)[0].block_id == "b3"  # ids continue
    sent = llm.calls[0].messages
    assert [m.content for m in sent[1 : len(history) + 1]] == [m.content for m in history]
    await resumed.aclose()
    # The log holds both runs, whole.
    logged = read_events(find_session(CONFIG, session_id))
    assert [e.text for e in of_type(logged, ev.UserMessage)] == ["set x", "add one"]


async def test_resume_latest_and_by_prefix_and_list() -> None:
    ids = []
    for text in ("first", "second"):
        agent = build_agent(
            CONFIG,
            AutoApprove(),
            llm=ScriptedLLM(["ok"]),
            sandbox=FakeSandbox(),
            session_id=new_session_id(),
        )
        await collect(agent, text)
        ids.append(agent.session_id)
        await agent.aclose()
    ids.sort()
    assert find_session(CONFIG, None).stem == ids[-1]
    assert find_session(CONFIG, ids[0][:-1]).stem in ids
    infos = list_sessions(CONFIG)
    assert [i.session_id for i in infos] == ids
    assert {i.first_message for i in infos} == {"first", "second"}
    latest = build_agent(
        CONFIG, AutoApprove(), resume="", llm=ScriptedLLM([]), sandbox=FakeSandbox()
    )
    assert latest.session_id == ids[-1]
    await latest.aclose()
    with pytest.raises(SessionError):
        find_session(CONFIG, "nope")

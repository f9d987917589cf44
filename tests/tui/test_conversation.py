"""Sending, streaming, approvals (y/a/e/n), interrupting and queueing, through Pilot,
against the real Agent with a ScriptedLLM and a FakeSandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from autopilot.config import Config
from autopilot.tui.app import AutopilotApp
from tests.tui.conftest import SIZE, fixed_clock
from tests.tui.helpers import send, type_text, wait_until, widgets
from tests.tui.real_agent import ANSWER, CODE_REPLY, real_agent_factory


@pytest.fixture
def app_with(config: Config, tmp_path: Path):
    def make(replies: list, *, delay_s: float = 0.0):
        factory, built = real_agent_factory(replies, delay_s=delay_s)
        app = AutopilotApp(
            config,
            agent_factory=factory,
            clock=fixed_clock,
            history_path=tmp_path / "history",
            workspace=tmp_path,
        )
        return app, built

    return make


def asking(app: AutopilotApp) -> bool:
    return any(b.asking for b in widgets(app, "CodeBlockView"))


def answered(app: AutopilotApp, count: int = 1) -> bool:
    return len(widgets(app, "FinalAnswerView")) >= count and not app.controller.busy


async def test_send_streams_prose_runs_code_and_sets_the_answer_apart(app_with):
    app, built = app_with([CODE_REPLY, ANSWER])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: built.agents)
        await send(pilot, "what is 6*7?")
        await wait_until(pilot, lambda: asking(app))
        block = widgets(app, "CodeBlockView")[0]
        assert block.state == "awaiting approval"
        assert type(app.focused).__name__ == "ApprovalBar"
        await pilot.press("y")
        await wait_until(pilot, lambda: answered(app))
        assert block.state == "done"
        assert block.output.plain == "42"
        assert [u.text for u in widgets(app, "UserMessageView")] == ["what is 6*7?"]
        prose = widgets(app, "AssistantMessageView")
        assert [p.text for p in prose] == ["Let me compute that."]  # the fence became the block
        assert widgets(app, "FinalAnswerView")[0].source == ANSWER
        assert app.status.tokens > 0 and app.status.sandbox == "ready"
        assert app.focused is app.prompt


async def test_always_approves_this_and_every_later_block(app_with):
    second = "Once more.\n\n```python\nprint('again')\n```\n"
    app, built = app_with([CODE_REPLY, second, ANSWER])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: built.agents)
        await send(pilot, "compute twice")
        await wait_until(pilot, lambda: asking(app))
        await pilot.press("a")
        await wait_until(pilot, lambda: answered(app))
        blocks = widgets(app, "CodeBlockView")
        assert [b.state for b in blocks] == ["done", "done"]
        assert blocks[1].output.plain == "again"
        assert app.status.mode == "auto"


async def test_edit_runs_the_edited_code(app_with):
    app, built = app_with([CODE_REPLY, ANSWER])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: built.agents)
        await send(pilot, "go")
        await wait_until(pilot, lambda: asking(app))
        await pilot.press("e")
        await wait_until(pilot, lambda: widgets(app, "CodeEditor"))
        assert app.focused is app.query_one("#code-editor-area")
        await pilot.press("end", "backspace", "backspace", "8", ")")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: answered(app))
        block = widgets(app, "CodeBlockView")[0]
        assert block.code.strip() == "print(6 * 8)"
        assert block.output.plain == "48"
        assert any("print(6 * 8)" in call for call in built.sandboxes[0].calls)
        assert not widgets(app, "CodeEditor")


async def test_escape_in_the_editor_goes_back_to_the_question(app_with):
    app, built = app_with([CODE_REPLY, ANSWER])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: built.agents)
        await send(pilot, "go")
        await wait_until(pilot, lambda: asking(app))
        await pilot.press("e")
        await wait_until(pilot, lambda: widgets(app, "CodeEditor"))
        await pilot.press("escape")
        await wait_until(pilot, lambda: widgets(app, "ApprovalBar"))
        assert app.controller.busy  # Esc left the editor; it did not interrupt the turn
        await pilot.press("y")
        await wait_until(pilot, lambda: answered(app))
        assert widgets(app, "CodeBlockView")[0].output.plain == "42"


async def test_skip_sends_the_reason_back_to_the_model(app_with):
    app, built = app_with([CODE_REPLY, "Fine, I will not run it."])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: built.agents)
        await send(pilot, "go")
        await wait_until(pilot, lambda: asking(app))
        await pilot.press("n")
        await wait_until(pilot, lambda: app.query(".skip-reason"))
        await send(pilot, "not on a friday")
        await wait_until(pilot, lambda: answered(app))
        block = widgets(app, "CodeBlockView")[0]
        assert (block.state, block.detail) == ("skipped", "not on a friday")
        assert "not on a friday" in built.prompt(1)
        assert all("print(6 * 7)" not in call for call in built.sandboxes[0].calls)


async def test_escape_interrupts_a_streaming_reply(app_with):
    app, built = app_with(["word " * 400, "Back again."], delay_s=0.02)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: built.agents)
        await send(pilot, "long job")
        await wait_until(pilot, lambda: widgets(app, "AssistantMessageView"))
        assert app.controller.busy
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.controller.busy, timeout=5.0)
        assert "interrupted" in [n.message for n in widgets(app, "NoticeView")]
        streamed = widgets(app, "AssistantMessageView")[0].text
        assert 0 < len(streamed) < len("word " * 400)
        await send(pilot, "next")  # the session goes on
        await wait_until(pilot, lambda: answered(app))


async def test_escape_while_asking_interrupts_the_block(app_with):
    app, built = app_with([CODE_REPLY])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: built.agents)
        await send(pilot, "go")
        await wait_until(pilot, lambda: asking(app))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.controller.busy, timeout=5.0)
        assert widgets(app, "CodeBlockView")[0].state == "interrupted"
        assert not widgets(app, "ApprovalBar")
        assert all("print(6 * 7)" not in call for call in built.sandboxes[0].calls)


async def test_typing_while_working_queues_until_the_turn_ends(app_with):
    slow = "Waiting.\n\n```python\nimport time\ntime.sleep(1.5)\nprint('slept')\n```\n"
    app, built = app_with([slow, "first answer", "second answer"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: built.agents)
        await send(pilot, "/mode auto")
        await send(pilot, "first")
        await wait_until(pilot, lambda: widgets(app, "CodeBlockView"))
        assert app.controller.busy
        await send(pilot, "second")
        queued = widgets(app, "UserMessageView")[-1]
        assert queued.queued and queued.text == "second"
        assert "1 queued" in str(app.query_one("InputHint").render())
        await wait_until(pilot, lambda: answered(app, 2))
        assert not queued.queued
        assert widgets(app, "CodeBlockView")[0].output.plain == "slept"
        assert [f.source for f in widgets(app, "FinalAnswerView")] == [
            "first answer",
            "second answer",
        ]
        assert "second" in built.prompt(2)


async def test_newline_key_and_history_across_sessions(app_with, config, tmp_path):
    app, built = app_with(["one"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: built.agents)
        await type_text(pilot, "line one")
        await pilot.press("ctrl+j")
        await type_text(pilot, "line two")
        assert app.prompt.text == "line one\nline two"
        await pilot.press("enter")
        await wait_until(pilot, lambda: answered(app))
        await pilot.press("up")
        assert app.prompt.text == "line one\nline two"
        await pilot.press("down")
        assert app.prompt.text == ""
    again, _ = app_with([])
    async with again.run_test(size=SIZE) as pilot:
        await pilot.press("up")
        assert again.prompt.text == "line one\nline two"  # history survives the session


async def test_page_keys_scroll_the_conversation_and_it_stays_where_the_person_is(app_with):
    replies = [f"Reply number {i}.\n\n" + "A line of prose.\n\n" * 6 for i in range(3)]
    app, built = app_with([*replies, "word " * 300], delay_s=0.0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: built.agents)
        for i in range(3):
            await send(pilot, f"question {i}")
            await wait_until(pilot, lambda i=i: answered(app, i + 1))
        conversation = app.query_one("#conversation")
        await pilot.pause(0.1)
        assert conversation.is_vertical_scroll_end
        await pilot.press("pageup")
        await pilot.pause(0.1)
        assert not conversation.is_vertical_scroll_end
        where = conversation.scroll_y
        await send(pilot, "more")  # new content streams in below: the view stays put
        await wait_until(pilot, lambda: answered(app, 4))
        await pilot.pause(0.1)
        assert conversation.scroll_y == where
        await pilot.press("pagedown", "pagedown", "pagedown", "pagedown", "pagedown", "pagedown")
        await pilot.pause(0.1)
        assert conversation.is_vertical_scroll_end


async def test_escape_interrupts_a_running_cell(app_with):
    slow = "Sleeping.\n\n```python\nimport time\nprint('start', flush=True)\ntime.sleep(20)\n```\n"
    app, built = app_with([slow, "Stopped as asked."])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: built.agents)
        await send(pilot, "/mode auto")
        await send(pilot, "sleep")
        await wait_until(pilot, lambda: widgets(app, "CodeBlockView"))
        block = widgets(app, "CodeBlockView")[0]
        await wait_until(pilot, lambda: block.output.plain == "start")
        assert block.state == "running"
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.controller.busy, timeout=5.0)
        assert block.state == "interrupted"

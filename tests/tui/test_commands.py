"""Slash commands, completion, the palette, errors as toasts, resume, tools and `!cmd`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from autopilot import events as ev
from autopilot.config import Config, user_data_dir_for
from autopilot.errors import MissingKeyError
from autopilot.interaction import ToolApproval, ToolApprovalRequest
from autopilot.sandbox.fake import FakeSandbox
from autopilot.tui.app import AutopilotApp
from tests.tui.conftest import SIZE, fixed_clock
from tests.tui.fake_agent import FakeAgent, answer_turn, code_turn, split
from tests.tui.helpers import send, toasts, type_text, wait_until, widgets


async def test_help_lists_every_command(make_app):
    app, _ = make_app([])
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "/help")
        await wait_until(pilot, lambda: widgets(app, "AssistantMessageView"))
        text = widgets(app, "AssistantMessageView")[0].text
        for name in ("help", "model", "mode", "new", "sessions", "resume", "sandbox", "export"):
            assert f"`/{name}" in text


async def test_tab_completes_commands_and_workspace_paths(make_app, tmp_path):
    (tmp_path / "data.csv").write_text("x\n")
    app, _ = make_app([])
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "/he")
        assert "/help" in str(app.query_one("InputHint").render())
        await pilot.press("tab")
        assert app.prompt.text == "/help "
        app.prompt.load_text("")
        await type_text(pilot, "look at @da")
        await pilot.press("tab")
        assert app.prompt.text == "look at @data.csv"


async def test_mode_clear_and_unknown_command(make_app):
    app, _ = make_app([])
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "/mode auto")
        await pilot.pause()
        assert app.status.mode == "auto"
        assert app.controller.interaction.mode == "auto"
        await send(pilot, "/clear")
        await pilot.pause()
        assert not app.query_one("#conversation").children
        await send(pilot, "/frobnicate")
        await wait_until(pilot, lambda: widgets(app, "NoticeView"))
        error = widgets(app, "NoticeView")[-1]
        assert error.level == "error" and "unknown command /frobnicate" in error.message
        assert any("unknown command" in t for t in toasts(app))


async def test_new_session_closes_the_old_agent(make_app):
    app, made = make_app([answer_turn("one")])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: made)
        await send(pilot, "hi")
        await wait_until(pilot, lambda: widgets(app, "FinalAnswerView"))
        await send(pilot, "/new")
        await wait_until(pilot, lambda: len(made) == 2)
        assert made[0].closed
        assert not widgets(app, "FinalAnswerView")


async def test_export_writes_markdown(make_app, tmp_path):
    app, made = make_app([code_turn()])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: made)
        await send(pilot, "compute")
        await wait_until(pilot, lambda: widgets(app, "ApprovalBar"))
        await pilot.press("y")
        await wait_until(pilot, lambda: widgets(app, "FinalAnswerView"))
        await send(pilot, "/export out.md")
        await wait_until(pilot, lambda: (tmp_path / "out.md").exists())
    text = (tmp_path / "out.md").read_text()
    assert "## You\n\ncompute" in text
    assert "```python\nprint(6 * 7)\n```" in text
    assert "```text\n42\n```" in text
    assert "## Answer\n\nThe answer is **42**." in text


async def test_export_never_follows_a_link_the_sandbox_planted(make_app, tmp_path):
    victim = tmp_path.parent / f"{tmp_path.name}-victim.txt"
    victim.write_text("precious")
    (tmp_path / "out.md").symlink_to(victim)  # what sandboxed code could leave in /workspace
    app, made = make_app([answer_turn("one")])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: made)
        await send(pilot, "hi")
        await wait_until(pilot, lambda: widgets(app, "FinalAnswerView"))
        await send(pilot, "/export out.md")
        await wait_until(pilot, lambda: any("cannot write" in t for t in toasts(app)))
    assert victim.read_text() == "precious"


async def test_palette_runs_the_same_actions(make_app):
    app, _ = make_app([])
    async with app.run_test(size=SIZE) as pilot:
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert {"/help", "/mode", "/new", "/sessions", "/resume", "/sandbox", "/export"} <= set(
            titles
        )
        await pilot.press("ctrl+p")
        await type_text(pilot, "/mode")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.status.mode == "auto")


async def test_agent_construction_error_shows_message_and_toast(config, tmp_path):
    def broken(config, interaction, *, resume=None):
        raise MissingKeyError("openai", "OPENAI_API_KEY")

    app = AutopilotApp(config, agent_factory=broken, clock=fixed_clock, workspace=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: widgets(app, "NoticeView"))
        notice = widgets(app, "NoticeView")[0]
        assert notice.level == "error" and notice.message == "no API key for openai"
        assert "autopilot keys set openai" in str(notice.render())
        assert "no API key for openai" in toasts(app)
        await send(pilot, "hello")  # still no crash: the error is repeated
        await wait_until(pilot, lambda: len(widgets(app, "NoticeView")) == 2)


async def test_without_a_model_the_welcome_says_how_to_configure(tmp_path):
    app = AutopilotApp(Config(user="tester"), clock=fixed_clock, workspace=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        welcome = str(app.query_one("WelcomeView").render())
        assert "autopilot config set model" in welcome
        assert "autopilot keys set" in welcome
        await send(pilot, "do something")
        await wait_until(pilot, lambda: widgets(app, "NoticeView"))
        assert widgets(app, "NoticeView")[0].message == "no model is configured"


def _write_session(config: Config, session_id: str) -> None:
    folder = user_data_dir_for(config.effective_user) / "sessions"
    folder.mkdir(parents=True)
    stored = [
        ev.SessionStarted(
            session_id=session_id, user="tester", model="m", workspace="/w", version="0"
        ),
        ev.UserMessage(text="old question"),
        ev.AssistantDelta(text="Old", step=1),
        ev.AssistantMessage(text="Old reply\n\n```python\nprint('hi')\n```", step=1),
        ev.CodeProposed(block_id="b1", language="python", code="print('hi')"),
        ev.CodeDecision(block_id="b1", decision="run"),
        ev.CodeStarted(block_id="b1", code="print('hi')"),
        ev.Output(block_id="b1", stream="stdout", text="hi\n"),
        ev.CodeFinished(block_id="b1", ok=True, duration_s=0.1),
        ev.FinalAnswer(text="old answer"),
        ev.TurnFinished(reason="final_answer", steps=1),
    ]
    lines = [json.dumps(ev.to_dict(e)) for e in stored]
    (folder / f"{session_id}.jsonl").write_text("\n".join(lines) + "\n{torn", encoding="utf-8")


async def test_resume_renders_the_stored_session_and_resumes_the_agent(make_app, config):
    _write_session(config, "20261126-150000-ab12")
    resumed: list[str | None] = []

    def build(config, interaction, *, resume=None):
        resumed.append(resume)
        return FakeAgent(interaction, [answer_turn("new answer")])

    app = AutopilotApp(config, resume="last", agent_factory=build, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: resumed)
        assert resumed == ["20261126-150000-ab12"]
        assert [u.text for u in widgets(app, "UserMessageView")] == ["old question"]
        block = widgets(app, "CodeBlockView")[0]
        assert (block.state, block.output.plain) == ("done", "hi")
        assert widgets(app, "AssistantMessageView")[0].text == "Old reply"
        assert widgets(app, "FinalAnswerView")
        await send(pilot, "/sessions")
        await wait_until(pilot, lambda: len(widgets(app, "AssistantMessageView")) == 2)
        assert "20261126-150000-ab12" in widgets(app, "AssistantMessageView")[-1].text


async def test_resume_without_a_session_is_an_error_not_a_crash(make_app):
    app, _ = make_app([], resume="last")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: widgets(app, "NoticeView"))
        assert "no stored session" in widgets(app, "NoticeView")[0].message


def tool_turn():
    async def script(agent: FakeAgent, text: str) -> AsyncIterator[ev.Event]:
        yield ev.ToolCalled(
            call_id="c1", tool="web.search", args={"query": "x"}, decision="ask", rule="web.*"
        )
        approval = await agent.interaction.approve_tool(
            ToolApprovalRequest("c1", "web.search", {"query": "x"}, rule="web.*")
        )
        agent.approvals.append(approval)
        yield ev.ToolFinished(call_id="c1", tool="web.search", ok=True, summary="3 results")
        answer = await agent.interaction.ask_user("Which one?")
        yield ev.FinalAnswer(text=f"you said {answer}")
        yield ev.TurnFinished(reason="final_answer", steps=1)

    return script


async def test_tool_call_approval_and_question(make_app):
    app, made = make_app([tool_turn()])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: made)
        await send(pilot, "search")
        await wait_until(pilot, lambda: widgets(app, "ApprovalBar"))
        await pilot.press("y")
        await wait_until(pilot, lambda: widgets(app, "QuestionView"))
        await send(pilot, "the second")
        await wait_until(pilot, lambda: widgets(app, "FinalAnswerView"))
        assert made[0].approvals == [ToolApproval("once")]
        tool = str(widgets(app, "ToolCallView")[0].render())
        assert "web.search" in tool and "allowed once by you" in tool and "3 results" in tool
        assert widgets(app, "FinalAnswerView")[0].source == "you said the second"


def long_output_turn(lines: int):
    async def script(agent: FakeAgent, text: str) -> AsyncIterator[ev.Event]:
        yield ev.CodeStarted(block_id="b1", code="for i in range(n): print(i)")
        for chunk in split("".join(f"line {i}\n" for i in range(lines)), 97):
            yield ev.Output(block_id="b1", stream="stdout", text=chunk)
        yield ev.CodeFinished(block_id="b1", ok=True, duration_s=1.0)
        yield ev.TurnFinished(reason="no_code", steps=1)

    return script


async def test_long_output_is_folded_and_expands(make_app):
    app, made = make_app([long_output_turn(300)])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: made)
        await send(pilot, "print a lot")
        await wait_until(pilot, lambda: not app.controller.busy and widgets(app, "CodeBlockView"))
        output = widgets(app, "CodeBlockView")[0].output
        assert output.total_lines == 300 and output.folded
        shown = str(output.render())
        assert "288 lines hidden" in shown and "line 299" in shown and "line 287" not in shown
        await pilot.press("ctrl+o")
        assert not output.folded and "line 0" in str(output.render())


async def test_bang_runs_a_shell_command_in_the_sandbox(make_app):
    app, made = make_app([])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: made)
        made[0].sandbox = FakeSandbox()
        await send(pilot, "!echo hello from the shell")
        await wait_until(pilot, lambda: widgets(app, "CodeBlockView") and not app.controller.busy)
        block = widgets(app, "CodeBlockView")[0]
        assert (block.language, block.state) == ("bash", "done")
        assert block.output.plain == "hello from the shell"


async def test_resume_a_real_session_renders_it_and_continues_it(config, tmp_path):
    from tests.tui.real_agent import ANSWER, CODE_REPLY, real_agent_factory

    config = config.with_overrides({"approval_mode": "auto"})
    factory, built = real_agent_factory([CODE_REPLY, ANSWER])
    first = AutopilotApp(config, agent_factory=factory, clock=fixed_clock, workspace=tmp_path)
    async with first.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: built.agents)
        await send(pilot, "what is 6*7?")
        await wait_until(
            pilot, lambda: widgets(first, "FinalAnswerView") and not first.controller.busy
        )
        session_id = built.agents[0].session_id
    factory, again = real_agent_factory(["Still 42."])
    second = AutopilotApp(config, resume="last", agent_factory=factory, clock=fixed_clock)
    async with second.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: again.agents)
        assert again.agents[0].session_id == session_id
        assert [u.text for u in widgets(second, "UserMessageView")] == ["what is 6*7?"]
        assert widgets(second, "CodeBlockView")[0].output.plain == "42"
        assert widgets(second, "FinalAnswerView")[0].source == "The answer is **42**."
        await send(pilot, "and again?")
        await wait_until(pilot, lambda: len(widgets(second, "FinalAnswerView")) == 2)
        assert "what is 6*7?" in "\n".join(m.content for m in again.llms[0].calls[0].messages)


def image_and_restart_turn(path: str):
    async def script(agent: FakeAgent, text: str) -> AsyncIterator[ev.Event]:
        yield ev.CodeStarted(block_id="b1", code="plt.plot([1, 2]); plt.show()")
        yield ev.ImageOutput(block_id="b1", path=path, width=640, height=480)
        yield ev.CodeFinished(block_id="b1", ok=True, duration_s=0.5, images=1)
        yield ev.SandboxState(state="restarted", state_lost=True, detail="state lost")
        yield ev.TurnFinished(reason="no_code", steps=1)

    return script


async def test_images_show_as_a_path_and_a_restart_says_state_was_lost(make_app, tmp_path):
    png = tmp_path / "figure-1.png"
    app, made = make_app([image_and_restart_turn(str(png))])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: made)
        await send(pilot, "plot it")
        await wait_until(pilot, lambda: not app.controller.busy and widgets(app, "ImageView"))
        image = widgets(app, "ImageView")[0]
        assert image.path == str(png) and "640×480" in str(image.render())
        assert image.parent is widgets(app, "CodeBlockView")[0]
        assert app.status.sandbox == "restarted"
        assert "restarted — state lost" in str(app.status.render())
        assert any("state was lost" in n.message for n in widgets(app, "NoticeView"))


def many_blocks_turn(count: int):
    async def script(agent: FakeAgent, text: str) -> AsyncIterator[ev.Event]:
        for i in range(count):
            yield ev.CodeStarted(block_id=f"b{i}", code=f"print({i})")
            yield ev.Output(block_id=f"b{i}", stream="stdout", text=f"{i}\n")
            yield ev.CodeFinished(block_id=f"b{i}", ok=True, duration_s=0.0)
        yield ev.FinalAnswer(text="many")
        yield ev.TurnFinished(reason="final_answer", steps=count)

    return script


async def test_a_long_session_keeps_only_recent_items_on_screen(make_app, tmp_path):
    from autopilot.tui.renderer import MAX_ITEMS

    app, made = make_app([many_blocks_turn(MAX_ITEMS + 30)])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: made)
        await send(pilot, "go")
        await wait_until(pilot, lambda: widgets(app, "FinalAnswerView"), timeout=20)
        conversation = app.query_one("#conversation")
        assert len(conversation.children) == MAX_ITEMS + 1  # + the "off screen" line
        first = conversation.children[0]
        assert "earlier items are off screen" in first.message
        assert widgets(app, "CodeBlockView")[-1].output.plain == str(MAX_ITEMS + 29)
        await send(pilot, "/export all.md")
        await wait_until(pilot, lambda: (tmp_path / "all.md").exists())
    assert "print(0)" in (tmp_path / "all.md").read_text()  # the export still has everything

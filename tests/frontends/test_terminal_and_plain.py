"""Terminal approvals (y/n/e/a) and the plain REPL driven through a pipe."""

from __future__ import annotations

import io

from autopilot.config import Config
from autopilot.frontends import plain
from autopilot.frontends.terminal import TerminalInteraction
from autopilot.interaction import CodeApprovalRequest
from autopilot.sandbox.fake import FakeSandbox
from tests.agent.helpers import make_agent

REQUEST = CodeApprovalRequest(block_id="b1", language="python", code="print(1)\n")


def scripted(*answers: str):
    queue = list(answers)
    asked: list[str] = []

    async def ask(message: str) -> str:
        asked.append(message)
        answer = queue.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    return ask, asked


async def test_yes_no_edit_always_and_retry_on_nonsense() -> None:
    ask, asked = scripted("what?", "y")
    assert (await TerminalInteraction(ask=ask).approve_code(REQUEST)).choice == "run"
    assert len(asked) == 2 and "[y]es [n]o [e]dit [a]lways" in asked[0]
    ask, _ = scripted("n", "too risky")
    answer = await TerminalInteraction(ask=ask).approve_code(REQUEST)
    assert (answer.choice, answer.reason) == ("skip", "too risky")

    async def edit(code: str) -> str:
        return code.replace("1", "2")

    ask, _ = scripted("e")
    answer = await TerminalInteraction(ask=ask, edit=edit).approve_code(REQUEST)
    assert (answer.choice, answer.code) == ("edit", "print(2)\n")
    ask, _ = scripted("a")
    assert (await TerminalInteraction(ask=ask).approve_code(REQUEST)).choice == "always"
    ask, _ = scripted(KeyboardInterrupt())
    assert (await TerminalInteraction(ask=ask).approve_code(REQUEST)).choice == "skip"


async def test_plain_repl_runs_turns_asks_and_keeps_history() -> None:
    from prompt_toolkit.application import create_app_session
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    sandbox = FakeSandbox()
    made = []

    def factory(config, interaction, *, resume):
        agent = make_agent(
            ["```python\nprint('from the cell')\n```", "All done."],
            sandbox=sandbox,
            interaction=interaction,
            config=Config(approval_mode="ask", user="plain-tester"),
        )
        made.append(agent)
        return agent

    out, err = io.StringIO(), io.StringIO()
    with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):
        pipe.send_text("print something\r")
        pipe.send_text("y\r")
        pipe.send_text("/quit\r")
        code = await plain.repl(
            Config(user="plain-tester"), resume=None, out=out, err=err, agent_factory=factory
        )
    assert code == 0
    text = out.getvalue()
    assert "from the cell" in text and "All done." in text
    assert [c for c in sandbox.calls if "from the cell" in c] == ["print('from the cell')\n"]
    assert sandbox.state == "stopped"  # the agent was closed
    from autopilot.config import user_data_dir_for

    history = (user_data_dir_for("plain-tester") / "plain_history").read_text()
    assert "print something" in history and "\n+y\n" not in history
    assert made[0].history[0].content == "print something"

"""Approval modes: ask (run / skip / edit / always), auto, and refusing without a person."""

from __future__ import annotations

from autopilot import events as ev
from autopilot.config import Config
from autopilot.interaction import CodeApproval, CodeApprovalRequest, RefuseAll
from autopilot.sandbox.fake import FakeSandbox
from tests.agent.helpers import collect, finished, make_agent, of_type, user_code

ASK = Config(approval_mode="ask")


class Answers:
    """An Interaction that answers code approvals from a list, recording the requests."""

    def __init__(self, *answers: CodeApproval) -> None:
        self.answers = list(answers)
        self.requests: list[CodeApprovalRequest] = []

    async def approve_code(self, request: CodeApprovalRequest) -> CodeApproval:
        self.requests.append(request)
        return self.answers.pop(0)

    async def approve_tool(self, request):  # pragma: no cover - not used here
        raise AssertionError

    async def ask_user(self, question: str) -> str:  # pragma: no cover - not used here
        raise AssertionError


async def test_run() -> None:
    people = Answers(CodeApproval("run"))
    sandbox = FakeSandbox()
    agent = make_agent(
        ["```python\nprint(1)\n```", "done"], sandbox=sandbox, interaction=people, config=ASK
    )
    events = await collect(agent, "go")
    assert people.requests == [
        CodeApprovalRequest(block_id="b1", language="python", code="print(1)\n")
    ]
    decision = of_type(events, ev.CodeDecision)[0]
    assert (decision.decision, decision.by) == ("run", "person")
    assert user_code(sandbox) == ["print(1)\n"]


async def test_skip_with_a_reason_goes_back_to_the_model() -> None:
    people = Answers(CodeApproval("skip", reason="do not delete files"))
    sandbox = FakeSandbox()
    agent = make_agent(
        ["```python\nimport shutil\n```", "OK, I will not."],
        sandbox=sandbox,
        interaction=people,
        config=ASK,
    )
    events = await collect(agent, "clean up")
    assert of_type(events, ev.CodeDecision)[0].decision == "skip"
    assert user_code(sandbox) == []
    told = agent.llm.calls[1].messages[-1].content
    assert "did not run" in told and "do not delete files" in told
    assert finished(events).reason == "no_code"


async def test_edit_runs_the_edited_code_and_tells_the_model() -> None:
    people = Answers(CodeApproval("edit", code="print('edited')"))
    sandbox = FakeSandbox()
    agent = make_agent(
        ["```python\nprint('original')\n```", "done"],
        sandbox=sandbox,
        interaction=people,
        config=ASK,
    )
    events = await collect(agent, "go")
    decision = of_type(events, ev.CodeDecision)[0]
    assert (decision.decision, decision.code) == ("edit", "print('edited')")
    assert of_type(events, ev.CodeStarted)[0].code == "print('edited')"
    assert user_code(sandbox) == ["print('edited')"]
    told = agent.llm.calls[1].messages[-1].content
    assert "edited the code" in told and "print('edited')" in told and "stdout:\nedited" in told


async def test_always_approves_the_rest_of_the_session() -> None:
    people = Answers(CodeApproval("always"))
    sandbox = FakeSandbox()
    replies = [
        "```python\nprint(1)\n```",
        "```python\nprint(2)\n```",
        "done",
        "```python\nprint(3)\n```",
        "done",
    ]
    agent = make_agent(replies, sandbox=sandbox, interaction=people, config=ASK)
    events = await collect(agent, "go") + await collect(agent, "more")
    assert len(people.requests) == 1
    assert [d.decision for d in of_type(events, ev.CodeDecision)] == ["always", "run", "run"]
    assert [d.by for d in of_type(events, ev.CodeDecision)] == ["person", "mode", "mode"]
    assert user_code(sandbox) == ["print(1)\n", "print(2)\n", "print(3)\n"]


async def test_auto_mode_never_asks() -> None:
    people = Answers()
    agent = make_agent(
        ["```python\nprint(1)\n```", "done"],
        interaction=people,
        config=Config(approval_mode="auto"),
    )
    events = await collect(agent, "go")
    assert people.requests == []
    assert of_type(events, ev.CodeDecision)[0].by == "mode"


async def test_refuse_all_ends_the_turn_with_a_clear_error() -> None:
    sandbox = FakeSandbox()
    agent = make_agent(
        ["```python\nprint(1)\n```"], sandbox=sandbox, interaction=RefuseAll(), config=ASK
    )
    events = await collect(agent, "go")
    assert of_type(events, ev.CodeDecision)[0].decision == "refused"
    error = of_type(events, ev.ErrorEvent)[0]
    assert "approval" in error.message and "--yes" in (error.hint or "")
    assert finished(events).reason == "error"
    assert user_code(sandbox) == []

"""Headless ``run``: streamed text or JSON lines, exit codes, approvals without a terminal."""

from __future__ import annotations

import io
import json
from argparse import Namespace

import pytest

from autopilot import events as ev
from autopilot.config import Config
from autopilot.errors import DockerUnavailableError, UsageError
from autopilot.frontends import headless
from autopilot.interaction import RefuseAll
from autopilot.sandbox.fake import FakeSandbox
from tests.agent.helpers import make_agent

AUTO = Config(approval_mode="auto")


async def run(agent, *, as_json: bool = False, config: Config = AUTO) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await headless.run_task(
        "the task", config, as_json=as_json, out=out, err=err, agent=agent
    )
    return code, out.getvalue(), err.getvalue()


async def test_human_output_streams_text_code_output_and_the_answer() -> None:
    agent = make_agent(
        ["Computing.\n```python\nprint(6 * 7)\n```", "```python\nfinal_answer('42')\n```"]
    )
    code, out, err = await run(agent)
    assert code == 0
    assert (
        out.index("Computing.") < out.index("print(6 * 7)") < out.index("42\n") < out.rindex("42")
    )
    assert "[running python b1]" in out
    assert out.rstrip().endswith("42")
    assert "error" not in err


async def test_json_lines_follow_the_event_schema() -> None:
    agent = make_agent(["Hello there."])
    code, out, _ = await run(agent, as_json=True)
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert all(row["v"] == ev.SCHEMA_VERSION for row in rows)
    assert [ev.from_dict(row).type for row in rows] == [row["type"] for row in rows]
    assert rows[-2] == {**rows[-2], "type": "final_answer", "text": "Hello there."}
    assert rows[-1]["type"] == "turn_finished" and rows[-1]["reason"] == "no_code"


async def test_a_plain_reply_repeats_nothing() -> None:
    code, out, _ = await run(make_agent(["Just text."]))
    assert code == 0 and out.count("Just text.") == 1


@pytest.mark.parametrize(
    ("replies", "sandbox", "expected"),
    [
        (["```python\nprint(1)\n```"] * 3, None, 1),  # max_steps
        (["```python\nprint(1)\n```"], FakeSandbox(start_error=DockerUnavailableError()), 2),
    ],
)
async def test_exit_codes(replies, sandbox, expected) -> None:
    config = Config(approval_mode="auto", max_steps=2)
    agent = make_agent(replies, sandbox=sandbox, config=config)
    code, _, err = await run(agent, config=config)
    assert code == expected
    if expected == 2:
        assert (
            err.count("\n") == 1
            and "Docker engine is not reachable" in err
            and "--sandbox local" in err
        )


async def test_without_a_terminal_code_is_refused_not_hung() -> None:
    sandbox = FakeSandbox()
    agent = make_agent(
        ["```python\nprint(1)\n```"],
        sandbox=sandbox,
        interaction=RefuseAll("stdin is not a terminal; re-run with --yes"),
        config=Config(),
    )
    code, _, err = await run(agent, config=Config())
    assert code == 1
    assert "--yes" in err
    assert len(sandbox.calls) <= 1  # at most the prelude, never the cell


def test_choose_interaction() -> None:
    from autopilot.frontends.terminal import TerminalInteraction
    from autopilot.interaction import AutoApprove

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert isinstance(
        headless.choose_interaction(Config(approval_mode="auto"), io.StringIO()), AutoApprove
    )
    assert isinstance(headless.choose_interaction(Config(), io.StringIO()), RefuseAll)
    assert isinstance(headless.choose_interaction(Config(), Tty()), TerminalInteraction)


def test_task_from_stdin_and_missing_task() -> None:
    assert headless.read_task(Namespace(task="-"), io.StringIO("  from stdin\n")) == "from stdin"
    with pytest.raises(UsageError):
        headless.read_task(Namespace(task=None), io.StringIO())


def test_missing_task_is_a_usage_error_exit_2(capsys, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code = headless.run(Namespace(task="-", yes=True), Config(model="openai/x"))
    assert code == 2
    assert capsys.readouterr().err.startswith("error: no task given")


def test_yes_means_auto_approval() -> None:
    config = Config().with_overrides(headless.overrides_from_args(Namespace(task="t", yes=True)))
    assert config.approval_mode == "auto"
    config = Config().with_overrides(headless.overrides_from_args(Namespace(task="t")))
    assert config.approval_mode == "ask"

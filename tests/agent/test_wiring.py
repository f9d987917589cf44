"""Cheap imports for the CLI, the tool registry hook, and events from collaborators."""

from __future__ import annotations

import argparse
import subprocess
import sys

from autopilot import events as ev
from autopilot.sandbox.base import ExecResult, ToolSpec
from autopilot.sandbox.fake import FakeSandbox
from tests.agent.helpers import collect, make_agent, of_type


def test_the_cli_module_imports_nothing_heavy() -> None:
    code = (
        "import sys, autopilot.agent.cli as c, argparse\n"
        "p = argparse.ArgumentParser(); c.register(p.add_subparsers())\n"
        "heavy = [m for m in ('litellm', 'docker', 'textual', 'prompt_toolkit', 'chromadb',"
        " 'autopilot.agent.loop', 'autopilot.frontends.headless') if m in sys.modules]\n"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_run_and_sessions_parse() -> None:
    from autopilot.agent import cli

    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    args = parser.parse_args(
        ["run", "--yes", "--json", "--max-steps", "3", "--model", "m", "a task"]
    )
    assert (args.task, args.yes, args.json, args.max_steps, args.model) == (
        "a task",
        True,
        True,
        3,
        "m",
    )
    assert args.handler.__name__ == "run_command"
    args = parser.parse_args(["run", "task"])
    assert not hasattr(args, "model")  # unset flags do not clobber the main parser's values
    args = parser.parse_args(["sessions", "export", "abc", "--format", "json"])
    assert (args.sessions_action, args.session_id, args.format) == ("export", "abc", "json")


class Registry:
    def __init__(self) -> None:
        self.calls = []

    def prompt_text(self) -> str:
        return "web.search(query) -> results"

    def specs(self) -> list[ToolSpec]:
        return [ToolSpec(group="web", name="search", signature="(query: str)")]

    async def handle(self, request):  # pragma: no cover - wiring only
        return None


async def test_a_tool_registry_reaches_the_prompt_and_the_sandbox() -> None:
    sandbox = FakeSandbox()
    registry = Registry()
    from autopilot.agent import Agent
    from autopilot.config import Config
    from autopilot.interaction import AutoApprove
    from autopilot.llm import ScriptedLLM

    llm = ScriptedLLM(["ok"])
    agent = Agent(
        llm=llm, sandbox=sandbox, interaction=AutoApprove(), config=Config(), tools=registry
    )
    await collect(agent, "hi")
    assert "web.search(query) -> results" in llm.calls[0].messages[0].content
    assert sandbox.tool_specs == registry.specs()
    assert sandbox.tool_handler == registry.handle


async def test_events_emitted_during_a_cell_join_the_turn_in_order() -> None:
    agent = None

    def respond(code: str) -> ExecResult | None:
        if "search" in code:
            agent.emit(
                ev.ToolCalled(call_id="t1", tool="web.search", args={"q": "x"}, decision="allow")
            )
            return ExecResult(stdout="found\n")
        return None

    agent = make_agent(["```python\nsearch()\n```", "done"], sandbox=FakeSandbox(respond=respond))
    events = await collect(agent, "find")
    kinds = [e.type for e in events]
    assert kinds.index("code_started") < kinds.index("tool_called") < kinds.index("code_finished")
    assert of_type(events, ev.ToolCalled)[0].tool == "web.search"

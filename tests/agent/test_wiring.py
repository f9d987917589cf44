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

    def prompt_text(self, *, brief: bool = False) -> str:
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


async def test_build_agent_wires_the_host_tools_behind_the_policy(tmp_path) -> None:
    """A real user's agent gets web/browser/desktop/user tools, their stubs and their events."""
    from autopilot.agent import build_agent
    from autopilot.config import Config, SandboxConfig
    from autopilot.interaction import AutoApprove
    from autopilot.llm import ScriptedLLM
    from autopilot.sandbox.base import ToolRequest

    sandbox = FakeSandbox()
    config = Config(sandbox=SandboxConfig(workspace=str(tmp_path)))
    agent = build_agent(config, AutoApprove(), llm=ScriptedLLM(["hi"]), sandbox=sandbox)
    try:
        names = {f"{spec.group}.{spec.name}" for spec in sandbox.tool_specs}
        assert {
            "web.search",
            "web.fetch",
            "browser.open",
            "desktop.screenshot",
            "user.ask",
        } <= names
        assert "browser.open" in agent.system_prompt
        assert sandbox.tool_handler is not None
        # A call the shipped policy denies (no rule matches an unknown tool) is an event.
        recorded: list[ev.Event] = []
        agent.emit = recorded.append  # type: ignore[method-assign]
        agent.tools.set_emit(agent.emit)
        try:
            await sandbox.tool_handler(ToolRequest(call_id="c1", tool="nosuch.tool", args={}))
        except Exception as exc:
            assert type(exc).__name__ in {"ToolError", "PermissionDenied"}
        else:
            raise AssertionError("an unknown tool must be refused")
        called = [e for e in recorded if isinstance(e, ev.ToolCalled)]
        assert called and called[0].decision == "deny"
    finally:
        await agent.aclose()


async def test_approval_mode_can_change_mid_session() -> None:
    from autopilot.config import Config
    from autopilot.interaction import RefuseAll

    agent = make_agent(
        ["```python\nprint(1)\n```", "done"],
        interaction=RefuseAll(),
        config=Config(approval_mode="ask"),
    )
    agent.set_approval_mode("auto")  # what the TUI's /mode does
    events = await collect(agent, "go")
    decisions = of_type(events, ev.CodeDecision)
    assert [(d.decision, d.by) for d in decisions] == [("run", "mode")]


async def test_an_unisolated_sandbox_is_announced_as_a_warning() -> None:
    sandbox = FakeSandbox()
    sandbox.warning = "code runs UNISOLATED on this machine"  # what LocalSandbox says
    agent = make_agent(["hello"], sandbox=sandbox)
    events = await collect(agent, "hi")
    notices = of_type(events, ev.Notice)
    assert [(n.level, n.message) for n in notices] == [
        ("warning", "code runs UNISOLATED on this machine")
    ]
    assert events.index(notices[0]) < events.index(of_type(events, ev.UserMessage)[0])

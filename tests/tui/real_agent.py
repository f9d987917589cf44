"""Build the real Agent for TUI tests: ScriptedLLM for the model, FakeSandbox for the cells."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from autopilot.agent import build_agent
from autopilot.llm.scripted import ScriptedLLM
from autopilot.sandbox.fake import FakeSandbox


@dataclass
class Built:
    """What a factory made, for assertions: the agents, their LLMs and sandboxes."""

    agents: list[Any] = field(default_factory=list)
    llms: list[ScriptedLLM] = field(default_factory=list)
    sandboxes: list[FakeSandbox] = field(default_factory=list)

    def prompt(self, call: int) -> str:
        """Everything the model was sent in its ``call``-th request."""
        return "\n".join(m.content for m in self.llms[0].calls[call].messages)


def real_agent_factory(
    replies: list[Any], *, delay_s: float = 0.0
) -> tuple[Callable[..., Any], Built]:
    built = Built()

    def factory(config: Any, interaction: Any, *, resume: str | None = None) -> Any:
        llm = ScriptedLLM(list(replies), delay_s=delay_s)
        sandbox = FakeSandbox()
        agent = build_agent(config, interaction, resume=resume, llm=llm, sandbox=sandbox)
        built.agents.append(agent)
        built.llms.append(llm)
        built.sandboxes.append(sandbox)
        return agent

    return factory, built


CODE_REPLY = "Let me compute that.\n\n```python\nprint(6 * 7)\n```\n"
ANSWER = "The answer is **42**."

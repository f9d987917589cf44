"""Test doubles for the tool tests: a scripted Interaction and an event recorder."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field

from autopilot.errors import ToolError
from autopilot.events import Event, ToolCalled, ToolFinished
from autopilot.interaction import (
    CodeApproval,
    CodeApprovalRequest,
    ToolApproval,
    ToolApprovalRequest,
    ToolChoice,
)
from autopilot.policy import Policy, parse_rules
from autopilot.policy.loader import default_rules


@dataclass
class ScriptedInteraction:
    """Answers tool approvals from a list (then ``default``); records what it was asked."""

    answers: list[ToolChoice] = field(default_factory=list)
    default: ToolChoice = "deny"
    user_answers: list[str] = field(default_factory=list)
    tool_requests: list[ToolApprovalRequest] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)

    async def approve_code(self, request: CodeApprovalRequest) -> CodeApproval:
        return CodeApproval("run")

    async def approve_tool(self, request: ToolApprovalRequest) -> ToolApproval:
        self.tool_requests.append(request)
        choice = self.answers.pop(0) if self.answers else self.default
        return ToolApproval(choice, reason="test says no" if choice == "deny" else "")

    async def ask_user(self, question: str) -> str:
        self.questions.append(question)
        if not self.user_answers:
            raise ToolError("cannot ask the person: no terminal")
        return self.user_answers.pop(0)


@dataclass
class EventLog:
    events: list[Event] = field(default_factory=list)

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def called(self) -> list[ToolCalled]:
        return [e for e in self.events if isinstance(e, ToolCalled)]

    def finished(self) -> list[ToolFinished]:
        return [e for e in self.events if isinstance(e, ToolFinished)]


# The shipped policy asks before the browser opens a local address; the tests' own site
# runs on 127.0.0.1, so the browser tests allow exactly that, as a person's file would.
TEST_SITE_RULE = r"""
[[rule]]
name = "test-site"
tool = "browser.open"
effect = "allow"
priority = 100
[rule.when.url]
regex = '^http://127\.0\.0\.1:\d+/'
"""


def policy_with_test_site() -> Policy:
    """The shipped defaults, under one user rule that lets the browser open the test site."""
    user = parse_rules(tomllib.loads(TEST_SITE_RULE), "tests").rules
    return Policy(user, default_rules().rules)

"""The policy engine: the effective rules, in order, and the decision for one tool call.

Order (first match wins):

1. the user's policy file, then the shipped defaults — a user rule always comes before a
   default rule, so the file overrides the defaults and the defaults fill the gaps (with
   ``replace_defaults = true`` in the user file the defaults are dropped entirely);
2. within one file: higher ``priority`` first; on equal priority ``deny`` before ``ask``
   before ``allow``; then the order in the file;
3. nothing matches → **deny**.

Session rules ("always, this session") are consulted only when the decision is ``ask``:
they turn that ask into allow for the same tool and the same rule, and can never lift a
``deny``. Only the person (through ``Interaction``) adds them; nothing a tool returns —
a web page, the screen — can change rules or approvals.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from autopilot.policy.rules import EFFECTS, Effect, Rule

DecidedBy = Literal["policy", "person", "session_rule"]

DEFAULT_DENY = Rule(
    name="default-deny",
    tools=("*",),
    effect="deny",
    priority=-(10**9),
    message="no policy rule allows this tool call",
    source="built-in",
)


@dataclass(frozen=True)
class Decision:
    effect: Effect
    rule: Rule
    by: DecidedBy = "policy"

    @property
    def message(self) -> str:
        """What the model is told when the call is denied."""
        return self.rule.message or f"the policy denies it (rule {self.rule.name})"


@dataclass(frozen=True)
class SessionRule:
    tool: str
    rule_name: str


class Policy:
    """Ordered rules plus this session's "always" answers."""

    def __init__(self, user_rules: Iterable[Rule] = (), default_rules: Iterable[Rule] = ()) -> None:
        self.rules: tuple[Rule, ...] = tuple(_ordered(user_rules)) + tuple(_ordered(default_rules))
        self.session_rules: list[SessionRule] = []

    def decide(self, tool: str, args: Mapping[str, Any]) -> Decision:
        rule = next((r for r in self.rules if r.matches(tool, args)), DEFAULT_DENY)
        if rule.effect == "ask" and SessionRule(tool, rule.name) in self.session_rules:
            return Decision("allow", rule, by="session_rule")
        return Decision(rule.effect, rule)

    def allow_for_session(self, tool: str, rule: Rule) -> None:
        """The person said "always": calls of ``tool`` that ``rule`` asks about are allowed."""
        entry = SessionRule(tool, rule.name)
        if entry not in self.session_rules:
            self.session_rules.append(entry)

    def describe(self) -> list[str]:
        lines = [rule.describe() for rule in self.rules]
        lines.extend(
            f"[session] allow {s.tool} where rule {s.rule_name} would ask"
            for s in self.session_rules
        )
        lines.append(DEFAULT_DENY.describe())
        return lines


def _ordered(rules: Iterable[Rule]) -> list[Rule]:
    return sorted(rules, key=lambda r: (-r.priority, EFFECTS.index(r.effect), r.index))

"""The privilege policy (Progent-style): deterministic rules over tool name and arguments.

``load_policy(config)`` gives the effective :class:`Policy` (the user's file over the shipped
``default_policy.toml``); ``Policy.decide(tool, args)`` returns a :class:`Decision`
(``allow`` / ``deny`` / ``ask`` and the rule that matched). Deny by default. Only the
person and the config change the policy: tool results (web pages, the screen) never can.
"""

from __future__ import annotations

from autopilot.policy.engine import Decision, Policy
from autopilot.policy.loader import load_policy
from autopilot.policy.rules import Condition, Rule, parse_rules

__all__ = ["Condition", "Decision", "Policy", "Rule", "load_policy", "parse_rules"]

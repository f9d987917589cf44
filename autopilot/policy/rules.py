"""Policy rules: what a rule says, how it is read from TOML and how it matches a call.

A rule names tools with fnmatch globs, may put conditions on the call's arguments, and has
an effect (``allow``, ``deny`` with a message for the model, or ``ask``) and a priority::

    [[rule]]
    name = "fetch-local"                 # shown in decisions and events
    tool = "web.fetch"                   # a glob, or a list of globs
    effect = "ask"                       # allow | deny | ask
    priority = 50                        # higher is considered first (default 0)
    message = "..."                      # for deny: what the model is told
    [rule.when.url]                      # conditions on the argument ``url``
    private_address = true

Conditions on one argument all have to hold, and so do the conditions on every argument
named; a call without the argument does not match. Operators: ``equals``, ``not_equals``,
``regex`` / ``not_regex`` (``re.search`` on strings), ``in`` / ``not_in`` (a list),
``lt`` / ``le`` / ``gt`` / ``ge`` (numbers), ``private_address`` (the value is a URL or
host that is not on the public internet: ``file:`` and other non-network schemes,
loopback, private, link-local, unspecified or reserved addresses, ``localhost``; names are
not resolved, so DNS tricks are out of its reach).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Literal
from urllib.parse import urlsplit

from autopilot.errors import ConfigError

Effect = Literal["allow", "deny", "ask"]
EFFECTS: tuple[Effect, ...] = ("deny", "ask", "allow")  # the order that wins ties
OPERATORS = (
    "equals",
    "not_equals",
    "regex",
    "not_regex",
    "in",
    "not_in",
    "lt",
    "le",
    "gt",
    "ge",
    "private_address",
)
RULE_KEYS = ("name", "tool", "effect", "priority", "message", "when", "description")


@dataclass(frozen=True)
class Condition:
    """One operator applied to one argument."""

    arg: str
    op: str
    value: Any

    def holds(self, args: Mapping[str, Any]) -> bool:
        if self.arg not in args:
            return False
        actual = args[self.arg]
        return _OPS[self.op](actual, self.value)

    def describe(self) -> str:
        return f"{self.arg} {self.op} {self.value!r}"


@dataclass(frozen=True)
class Rule:
    name: str
    tools: tuple[str, ...]
    effect: Effect
    priority: int = 0
    message: str = ""
    conditions: tuple[Condition, ...] = ()
    source: str = "defaults"
    index: int = 0
    description: str = ""

    def matches(self, tool: str, args: Mapping[str, Any]) -> bool:
        if not any(fnmatchcase(tool, pattern) for pattern in self.tools):
            return False
        return all(condition.holds(args) for condition in self.conditions)

    def describe(self) -> str:
        """One line: ``[50] ask web.fetch when url private_address True  (fetch-local)``."""
        rank = "last" if self.source == "built-in" else self.priority
        text = f"[{rank}] {self.effect} {', '.join(self.tools)}"
        if self.conditions:
            text += " when " + " and ".join(c.describe() for c in self.conditions)
        return f"{text}  ({self.name}, {self.source})"


@dataclass(frozen=True)
class RuleFile:
    """The rules of one TOML file and whether they replace the defaults."""

    rules: tuple[Rule, ...] = field(default_factory=tuple)
    replace_defaults: bool = False


# --- operators ----------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _regex(actual: Any, pattern: str) -> bool:
    return isinstance(actual, str) and re.search(pattern, actual) is not None


def _compare(check: Any) -> Any:
    return lambda actual, limit: _is_number(actual) and check(actual, limit)


def is_private_address(value: Any) -> bool:
    """True for URLs/hosts off the public internet (see the module docstring)."""
    if not isinstance(value, str):
        return False
    # Read the URL as a browser would (WHATWG): tabs and newlines vanish, "\\" is "/", and
    # "http:host" or "http:/host" mean "http://host" — else such a spelling hides the host.
    text = re.sub(r"[\t\n\r]", "", value).strip().replace("\\", "/")
    if web := re.match(r"(?i)(https?|wss?|ftp):/*", text):
        text = f"{web[1]}://{text[web.end() :]}"
    if "://" in text or text.lower().startswith(("file:", "data:", "javascript:")):
        parts = urlsplit(text)
        if parts.scheme.lower() not in {"http", "https", "ws", "wss", "ftp"}:
            return True
        host = parts.hostname or ""
    else:
        host = text.split("/", 1)[0].rsplit(":", 1)[0] if text.count(":") <= 1 else text
    host = host.strip("[]").rstrip(".").lower()
    if not host:
        return True
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = _legacy_ipv4(host)
        if address is None:
            return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def _legacy_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """Browsers accept ``2130706433``, ``0x7f.1`` and ``127.1`` for 127.0.0.1."""
    import socket

    if not re.fullmatch(r"[0-9a-fx.]+", host):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


_OPS: dict[str, Any] = {
    "equals": lambda actual, expected: actual == expected,
    "not_equals": lambda actual, expected: actual != expected,
    "regex": _regex,
    "not_regex": lambda actual, pattern: isinstance(actual, str) and not _regex(actual, pattern),
    "in": lambda actual, options: actual in options,
    "not_in": lambda actual, options: actual not in options,
    "lt": _compare(lambda a, b: a < b),
    "le": _compare(lambda a, b: a <= b),
    "gt": _compare(lambda a, b: a > b),
    "ge": _compare(lambda a, b: a >= b),
    "private_address": lambda actual, expected: is_private_address(actual) == bool(expected),
}


# --- parsing ------------------------------------------------------------------------------


def parse_rules(data: Mapping[str, Any], source: str) -> RuleFile:
    """Validate a parsed TOML document; errors name ``source``, the rule index and the key."""
    unknown = set(data) - {"rule", "replace_defaults"}
    if unknown:
        key = sorted(unknown)[0]
        raise ConfigError(
            f"{source}: unknown top-level key '{key}'",
            hint="a policy file holds `replace_defaults = true|false` and [[rule]] tables",
        )
    replace = data.get("replace_defaults", False)
    if not isinstance(replace, bool):
        raise ConfigError(f"{source}: 'replace_defaults' must be true or false")
    raw_rules = data.get("rule", [])
    if not isinstance(raw_rules, list):
        raise ConfigError(f"{source}: 'rule' must be an array of tables ([[rule]])")
    rules = tuple(_parse_rule(raw, source, index) for index, raw in enumerate(raw_rules))
    return RuleFile(rules=rules, replace_defaults=replace)


def _parse_rule(raw: Any, source: str, index: int) -> Rule:
    where = f"{source}: rule {index}"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: must be a table")
    for key in raw:
        if key not in RULE_KEYS:
            raise ConfigError(
                f"{where}: unknown key '{key}'", hint="allowed: " + ", ".join(RULE_KEYS)
            )
    if "tool" not in raw:
        raise ConfigError(f"{where}: missing key 'tool'", hint='e.g. tool = "web.*"')
    tools = raw["tool"]
    if isinstance(tools, str):
        tools = [tools]
    if not tools or not all(isinstance(t, str) and t for t in tools):
        raise ConfigError(f"{where}: key 'tool' must be a glob or a list of globs")
    effect = raw.get("effect")
    if effect not in EFFECTS:
        raise ConfigError(
            f"{where}: key 'effect' is {effect!r}", hint="allowed: 'allow', 'deny', 'ask'"
        )
    priority = raw.get("priority", 0)
    if not isinstance(priority, int) or isinstance(priority, bool):
        raise ConfigError(f"{where}: key 'priority' must be a whole number")
    for key in ("name", "message", "description"):
        if key in raw and not isinstance(raw[key], str):
            raise ConfigError(f"{where}: key '{key}' must be a string")
    when = raw.get("when", {})
    if not isinstance(when, Mapping):
        raise ConfigError(f"{where}: key 'when' must be a table of argument conditions")
    conditions = tuple(_parse_conditions(when, where))
    return Rule(
        name=raw.get("name") or f"{source}#{index}",
        tools=tuple(tools),
        effect=effect,
        priority=priority,
        message=raw.get("message", ""),
        conditions=conditions,
        source=source,
        index=index,
        description=raw.get("description", ""),
    )


def _parse_conditions(when: Mapping[str, Any], where: str) -> list[Condition]:
    conditions: list[Condition] = []
    for arg, spec in when.items():
        key = f"when.{arg}"
        if not isinstance(spec, Mapping) or not spec:
            raise ConfigError(
                f"{where}: key '{key}' must be a table of operators",
                hint="e.g. [rule.when.url] regex = '^https://'",
            )
        for op, value in spec.items():
            if op not in _OPS:
                raise ConfigError(
                    f"{where}: unknown operator '{key}.{op}'",
                    hint="allowed: " + ", ".join(OPERATORS),
                )
            _check_operand(op, value, where, f"{key}.{op}")
            conditions.append(Condition(arg=arg, op=op, value=value))
    return conditions


def _check_operand(op: str, value: Any, where: str, key: str) -> None:
    if op in {"regex", "not_regex"}:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: key '{key}' must be a string (a regular expression)")
        try:
            re.compile(value)
        except re.error as exc:
            raise ConfigError(
                f"{where}: key '{key}' is not a valid regular expression ({exc})"
            ) from None
    elif op in {"in", "not_in"} and not isinstance(value, list):
        raise ConfigError(f"{where}: key '{key}' must be a list")
    elif op in {"lt", "le", "gt", "ge"} and not _is_number(value):
        raise ConfigError(f"{where}: key '{key}' must be a number")
    elif op == "private_address" and not isinstance(value, bool):
        raise ConfigError(f"{where}: key '{key}' must be true or false")

"""The policy engine: ordering, deny by default, argument conditions, files, session rules."""

from __future__ import annotations

import argparse
import json
import tomllib
from pathlib import Path

import pytest

from autopilot.config import Config
from autopilot.errors import ConfigError, UsageError
from autopilot.policy import Policy, load_policy, parse_rules
from autopilot.policy.cli import register
from autopilot.policy.rules import is_private_address


def rules_from(text: str, source: str = "test.toml") -> Policy:
    return Policy(parse_rules(tomllib.loads(text), source).rules)


def test_nothing_matches_means_deny() -> None:
    policy = rules_from('[[rule]]\ntool = "web.search"\neffect = "allow"\n')
    decision = policy.decide("shell.run", {"cmd": "rm -rf /"})
    assert decision.effect == "deny"
    assert decision.rule.name == "default-deny"
    assert "no policy rule allows" in decision.message
    assert Policy().decide("web.search", {}).effect == "deny"


def test_higher_priority_wins_and_deny_beats_allow_on_ties() -> None:
    policy = rules_from(
        """
        [[rule]]
        name = "allow-all-web"
        tool = "web.*"
        effect = "allow"
        [[rule]]
        name = "deny-web-fetch"
        tool = "web.fetch"
        effect = "deny"
        message = "no fetching"
        [[rule]]
        name = "ask-fetch-high"
        tool = "web.fetch"
        effect = "ask"
        priority = 5
        [rule.when.url]
        regex = "^http://"
        [[rule]]
        name = "ask-search-tie"
        tool = "web.search"
        effect = "ask"
        """
    )
    # priority 5 ask beats the priority 0 deny when it matches
    assert policy.decide("web.fetch", {"url": "http://x"}).rule.name == "ask-fetch-high"
    # on a tie at priority 0: deny before allow, and ask before allow
    denied = policy.decide("web.fetch", {"url": "https://x"})
    assert (denied.effect, denied.message) == ("deny", "no fetching")
    assert policy.decide("web.search", {"query": "q"}).rule.name == "ask-search-tie"
    assert policy.decide("web.other", {}).rule.name == "allow-all-web"


def test_argument_conditions() -> None:
    policy = rules_from(
        """
        [[rule]]
        name = "eq"
        tool = "t.eq"
        effect = "allow"
        when.mode = { equals = "safe" }
        [[rule]]
        name = "in"
        tool = "t.in"
        effect = "allow"
        when.color = { in = ["red", "blue"] }
        [[rule]]
        name = "range"
        tool = "t.num"
        effect = "allow"
        when.n = { ge = 1, lt = 10 }
        [[rule]]
        name = "two-args"
        tool = "t.two"
        effect = "allow"
        when.a = { regex = "^ok" }
        when.b = { not_in = ["bad"] }
        """
    )
    assert policy.decide("t.eq", {"mode": "safe"}).effect == "allow"
    assert policy.decide("t.eq", {"mode": "unsafe"}).effect == "deny"
    assert policy.decide("t.eq", {}).effect == "deny"  # a missing argument never matches
    assert policy.decide("t.in", {"color": "blue"}).effect == "allow"
    assert policy.decide("t.in", {"color": "green"}).effect == "deny"
    assert [policy.decide("t.num", {"n": n}).effect for n in (0, 1, 9.5, 10, "5", True)] == [
        "deny", "allow", "allow", "deny", "deny", "deny",
    ]  # fmt: skip
    assert policy.decide("t.two", {"a": "ok go", "b": "fine"}).effect == "allow"
    assert policy.decide("t.two", {"a": "ok go", "b": "bad"}).effect == "deny"
    assert policy.decide("t.two", {"a": "not ok", "b": "fine"}).effect == "deny"


@pytest.mark.parametrize(
    ("value", "private"),
    [
        ("file:///etc/passwd", True),
        ("http://127.0.0.1:8000/", True),
        ("http://localhost/x", True),
        ("http://[::1]/", True),
        ("http://10.1.2.3/", True),
        ("http://192.168.0.10/", True),
        ("http://172.20.0.1/", True),
        ("http://169.254.169.254/latest/meta-data", True),
        ("http://2130706433/", True),
        ("http://0x7f.1/", True),
        ("http://0.0.0.0/", True),
        ("ftp://printer.local/", True),
        ("https://example.org/path", False),
        ("https://8.8.8.8/", False),
        ("http://172.32.0.1/", False),
        ("https://docs.python.org", False),
        # Spellings a browser reads as this machine (WHATWG: "\\" is "/", tabs vanish).
        ("http://127.0.0.1\\@example.com/", True),
        ("http://127.0.0.1:80\\@example.com/", True),
        ("http:127.0.0.1/", True),
        ("https:/localhost/", True),
        ("http://12\t7.0.0.1/", True),
    ],
)
def test_private_address(value: str, private: bool) -> None:
    assert is_private_address(value) is private


def test_shipped_defaults() -> None:
    policy = load_policy(Config())
    decide = policy.decide
    assert decide("web.search", {"query": "x", "max_results": 5}).effect == "allow"
    assert decide("web.fetch", {"url": "https://example.org"}).effect == "allow"
    assert decide("web.fetch", {"url": "file:///etc/passwd"}).effect == "ask"
    assert decide("web.fetch", {"url": "http://127.0.0.1:9/"}).effect == "ask"
    assert decide("browser.open", {"url": "https://example.org"}).effect == "allow"
    # The browser reaches this machine and the local network only as web.fetch does: asked.
    assert (
        decide("browser.open", {"url": "HTTP://127.0.0.1:8000/"}).rule.name == "browser-open-local"
    )
    assert decide("browser.open", {"url": "http://169.254.169.254/"}).effect == "ask"
    assert decide("browser.open", {"url": "file:///etc/passwd"}).effect == "ask"
    assert decide("browser.open", {"url": "chrome://settings"}).effect == "ask"
    assert decide("browser.click", {"ref": "e3", "text": ""}).effect == "allow"
    for tool in ("desktop.click", "desktop.type", "desktop.screenshot", "desktop.hotkey"):
        assert decide(tool, {}).effect == "ask", tool
    assert decide("desktop.screen_size", {}).effect == "allow"
    assert decide("user.ask", {"question": "?"}).effect == "allow"
    assert decide("shell.run", {}).effect == "deny"
    assert decide("webx.search", {}).effect == "deny"


def test_user_file_overrides_defaults(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(
        """
        [[rule]]
        name = "trust-my-desktop-clicks"
        tool = "desktop.click"
        effect = "allow"
        [[rule]]
        name = "no-search"
        tool = "web.search"
        effect = "deny"
        message = "searching is off on this machine"
        """
    )
    policy = load_policy(Config(policy_file=str(path)))
    assert policy.decide("desktop.click", {"x": 1, "y": 1}).effect == "allow"
    assert policy.decide("desktop.type", {"text": "x"}).effect == "ask"  # defaults fill gaps
    denied = policy.decide("web.search", {"query": "x"})
    assert (denied.effect, denied.message) == ("deny", "searching is off on this machine")


def test_user_file_can_replace_defaults(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text('replace_defaults = true\n[[rule]]\ntool = "web.search"\neffect = "allow"\n')
    policy = load_policy(Config(policy_file=str(path)))
    assert policy.decide("web.search", {"query": "x"}).effect == "allow"
    assert policy.decide("browser.open", {"url": "https://example.org"}).effect == "deny"


def test_user_file_in_the_config_dir_is_found(isolated_home: Path) -> None:
    config_dir = isolated_home / "config"
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "policy.toml").write_text('[[rule]]\ntool = "shell.*"\neffect = "ask"\n')
    assert load_policy(Config()).decide("shell.run", {}).effect == "ask"


def test_missing_policy_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_policy(Config(policy_file=str(tmp_path / "nope.toml")))


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('[[rule]]\neffect = "allow"\n', "rule 0: missing key 'tool'"),
        ('[[rule]]\ntool = "a"\neffect = "allow"\n[[rule]]\ntool = "b"\neffect = "maybe"\n',
         "rule 1: key 'effect' is 'maybe'"),
        ('[[rule]]\ntool = "a"\neffect = "allow"\npriority = "high"\n', "rule 0: key 'priority'"),
        ('[[rule]]\ntool = "a"\neffect = "allow"\ncolour = 1\n', "rule 0: unknown key 'colour'"),
        ('[[rule]]\ntool = "a"\neffect = "allow"\nwhen.url = { like = "x" }\n',
         "rule 0: unknown operator 'when.url.like'"),
        ('[[rule]]\ntool = "a"\neffect = "allow"\nwhen.url = { regex = "(" }\n',
         "rule 0: key 'when.url.regex' is not a valid regular expression"),
        ('[[rule]]\ntool = "a"\neffect = "allow"\nwhen.n = { lt = "3" }\n', "rule 0: key 'when.n.lt'"),
        ('[[rule]]\ntool = "a"\neffect = "allow"\nwhen.n = { in = "abc" }\n', "rule 0: key 'when.n.in'"),
        ('[[rule]]\ntool = []\neffect = "allow"\n', "rule 0: key 'tool'"),
        ("rules = 3\n", "unknown top-level key 'rules'"),
        ("[[rule]\n", "not valid TOML"),
    ],
)  # fmt: skip
def test_malformed_files_name_file_rule_and_key(tmp_path: Path, body: str, expected: str) -> None:
    path = tmp_path / "bad-policy.toml"
    path.write_text(body)
    with pytest.raises(ConfigError) as info:
        load_policy(Config(policy_file=str(path)))
    assert str(path) in str(info.value)
    assert expected in str(info.value)


def test_session_rule_turns_only_that_ask_into_allow() -> None:
    policy = load_policy(Config())
    ask = policy.decide("desktop.type", {"text": "hello"})
    assert ask.effect == "ask"
    policy.allow_for_session("desktop.type", ask.rule)
    after = policy.decide("desktop.type", {"text": "again"})
    assert (after.effect, after.by) == ("allow", "session_rule")
    assert policy.decide("desktop.click", {"x": 1, "y": 2}).effect == "ask"  # other tools still ask
    assert policy.decide("shell.run", {}).effect == "deny"  # and denies stay denies
    assert any("[session] allow desktop.type" in line for line in policy.describe())


def test_session_rule_cannot_lift_a_deny(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(
        '[[rule]]\nname = "no-secrets"\ntool = "desktop.type"\neffect = "deny"\npriority = 9\n'
        'when.text = { regex = "sk-" }\n'
    )
    policy = load_policy(Config(policy_file=str(path)))
    ask = policy.decide("desktop.type", {"text": "hello"})
    policy.allow_for_session("desktop.type", ask.rule)
    assert policy.decide("desktop.type", {"text": "hello"}).effect == "allow"
    assert policy.decide("desktop.type", {"text": "sk-123"}).effect == "deny"


def _run_cli(argv: list[str], config: Config) -> int:
    parser = argparse.ArgumentParser(prog="autopilot")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.handler(args, config)


def test_cli_show_and_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run_cli(["policy", "show"], Config()) == 0
    shown = capsys.readouterr().out
    assert "web-fetch-local" in shown and "default-deny" in shown
    assert shown.index("web-fetch-local") < shown.index("default-deny")

    args = json.dumps({"url": "file:///etc/passwd"})
    assert _run_cli(["policy", "check", "web.fetch", args], Config()) == 0
    out = capsys.readouterr().out
    assert out.startswith("ask") and "web-fetch-local" in out

    assert _run_cli(["policy", "check", "shell.run"], Config()) == 0
    out = capsys.readouterr().out
    assert out.startswith("deny") and "default-deny" in out and "message to the model" in out

    with pytest.raises(UsageError):
        _run_cli(["policy", "check", "web.fetch", "{not json"], Config())


def test_cli_module_imports_cheaply() -> None:
    import subprocess
    import sys

    code = (
        "import sys, autopilot.policy.cli as c; "
        "heavy = [m for m in ('playwright', 'ddgs', 'pyautogui', "
        "'litellm', 'docker') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.e2e
def test_the_real_binary_shows_and_checks(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    policy = tmp_path / "mine.toml"
    policy.write_text('[[rule]]\nname = "mine"\ntool = "shell.run"\neffect = "ask"\n')
    env = {**os.environ, "AUTOPILOT_POLICY_FILE": str(policy)}
    binary = [sys.executable, "-m", "autopilot"]
    shown = subprocess.run([*binary, "policy", "show"], capture_output=True, text=True, env=env)
    assert shown.returncode == 0, shown.stderr
    assert str(policy) in shown.stdout and "[last] deny *" in shown.stdout
    assert shown.stdout.index("(mine,") < shown.stdout.index("(web-fetch-local,")
    checked = subprocess.run(
        [*binary, "policy", "check", "shell.run", '{"cmd": "ls"}'],
        capture_output=True,
        text=True,
        env=env,
    )
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith("ask  shell.run") and "(mine," in checked.stdout
    bad = subprocess.run(
        [*binary, "policy", "check", "web.fetch", "{nope"], capture_output=True, text=True, env=env
    )
    assert bad.returncode == 2 and "not valid JSON" in bad.stderr

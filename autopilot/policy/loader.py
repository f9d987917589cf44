"""Where the rules come from: the shipped defaults and the person's own policy file."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from autopilot.config import Config, config_dir
from autopilot.errors import ConfigError
from autopilot.policy.engine import Policy
from autopilot.policy.rules import RuleFile, parse_rules

DEFAULT_POLICY = "default_policy.toml"


def default_rules() -> RuleFile:
    text = resources.files("autopilot.policy").joinpath(DEFAULT_POLICY).read_text("utf-8")
    return parse_rules(tomllib.loads(text), source="defaults")


def user_policy_path(config: Config) -> Path | None:
    """``Config.policy_file`` (must exist), else ``<config dir>/policy.toml`` when it exists."""
    if config.policy_file:
        path = Path(config.policy_file).expanduser()
        if not path.is_file():
            raise ConfigError(
                f"policy_file {path} does not exist",
                hint="create it, or unset `policy_file` to use the shipped defaults",
            )
        return path
    path = config_dir() / "policy.toml"
    return path if path.is_file() else None


def read_rule_file(path: Path) -> RuleFile:
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})", hint=f"fix {path}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from exc
    return parse_rules(data, source=str(path))


def load_policy(config: Config | None = None) -> Policy:
    """The effective policy for ``config``: the user's file over the shipped defaults."""
    config = config or Config()
    defaults = default_rules()
    path = user_policy_path(config)
    if path is None:
        return Policy(default_rules=defaults.rules)
    user = read_rule_file(path)
    return Policy(user.rules, () if user.replace_defaults else defaults.rules)

"""Layered configuration: defaults < config file < environment (``AUTOPILOT_*``) < flags.

The file is TOML at ``~/.config/autopilot/config.toml`` (platformdirs). Every value is
validated once, here, and an invalid one raises :class:`ConfigError` naming the file, the
key and what is allowed. Values are frozen dataclasses; ``Config.with_overrides`` makes a
changed copy (used for command-line flags).

Top-level keys and sections::

    model, api_base, user, approval_mode, policy_file, max_steps, prompt_style, debug
    [sandbox]  backend, image, memory, cpus, pids_limit, network, timeout_s, ca_bundle,
               workspace, output_cap_chars
    [llm]      timeout_s, max_retries, temperature, retry_base_delay_s, retry_max_delay_s
    [browser]  executable, headless
    [local]    model, model_path, port, threads, context, startup_timeout_s
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints

from autopilot.errors import ConfigError

APP_NAME = "autopilot"
ENV_PREFIX = "AUTOPILOT_"

ApprovalMode = Literal["ask", "auto"]
SandboxBackend = Literal["docker", "local"]
# "compact": a short system prompt for small local models; "auto" picks it for --local.
PromptStyle = Literal["auto", "full", "compact"]


@dataclass(frozen=True)
class SandboxConfig:
    backend: SandboxBackend = "docker"
    image: str = "autopilot-sandbox:latest"
    memory: str = "1g"
    cpus: float = 1.0
    pids_limit: int = 256
    network: bool = False
    timeout_s: float = 120.0
    ca_bundle: str = ""
    workspace: str = ""
    output_cap_chars: int = 20_000


@dataclass(frozen=True)
class LLMConfig:
    timeout_s: float = 120.0
    max_retries: int = 3
    temperature: float = 0.0
    # Backoff between retries: base * 2**attempt with jitter, capped; Retry-After wins.
    retry_base_delay_s: float = 1.0
    retry_max_delay_s: float = 30.0


@dataclass(frozen=True)
class BrowserConfig:
    executable: str = ""
    headless: bool = True


LocalModelName = Literal["qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b"]


@dataclass(frozen=True)
class LocalConfig:
    """The embedded model (``autopilot --local``), served by llama-cpp-python on loopback."""

    model: LocalModelName = "qwen2.5-coder-1.5b"
    model_path: str = ""  # any GGUF file; empty: fetch ``model`` from the hub on first use
    port: int = 0  # 0: pick a free port
    threads: int = 0  # 0: one less than the cores (llama.cpp collapses when it competes)
    context: int = 8192
    startup_timeout_s: float = 120.0


@dataclass(frozen=True)
class Config:
    model: str = ""
    api_base: str = ""
    user: str = ""
    approval_mode: ApprovalMode = "ask"
    policy_file: str = ""
    max_steps: int = 30
    prompt_style: PromptStyle = "auto"
    debug: bool = False
    sandbox: SandboxConfig = field(default_factory=SandboxConfig)
    llm: LLMConfig = field(default_factory=LLMConfig)
    browser: BrowserConfig = field(default_factory=BrowserConfig)
    local: LocalConfig = field(default_factory=LocalConfig)

    @property
    def effective_user(self) -> str:
        """The configured user, else the login name."""
        if self.user:
            return self.user
        import getpass

        try:
            return getpass.getuser() or "default"
        except Exception:  # no login name in some containers
            return "default"

    def with_overrides(self, overrides: Mapping[str, Any]) -> Config:
        """A copy with dotted keys (``"sandbox.network"``) replaced; ``None`` values ignored."""
        data = to_dict(self)
        for key, value in overrides.items():
            if value is None:
                continue
            _set_dotted(data, key, value)
        return from_mapping(data, source="command-line flags")


_SECTIONS: dict[str, type] = {
    "sandbox": SandboxConfig,
    "llm": LLMConfig,
    "browser": BrowserConfig,
    "local": LocalConfig,
}


def config_dir() -> Path:
    if env := os.environ.get(ENV_PREFIX + "CONFIG_DIR"):
        return Path(env)
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME, appauthor=False))


def config_path() -> Path:
    if env := os.environ.get(ENV_PREFIX + "CONFIG"):
        return Path(env)
    return config_dir() / "config.toml"


def data_dir() -> Path:
    if env := os.environ.get(ENV_PREFIX + "DATA_DIR"):
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def user_data_dir_for(user: str) -> Path:
    return data_dir() / "users" / user


# --- loading ------------------------------------------------------------------------------


def load(
    path: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Defaults < the file at ``path`` (default :func:`config_path`) < env < ``overrides``."""
    path = path or config_path()
    data: dict[str, Any] = {}
    if path.exists():
        data = read_file(path)
    config = from_mapping(data, source=str(path))
    env_values = _from_environ(os.environ if environ is None else environ)
    if env_values:
        merged = to_dict(config)
        for key, value in env_values.items():
            _set_dotted(merged, key, value)
        config = from_mapping(merged, source="environment (AUTOPILOT_*)")
    if overrides:
        config = config.with_overrides(overrides)
    return config


def read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})", hint=f"fix or delete {path}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from exc


def from_mapping(data: Mapping[str, Any], *, source: str) -> Config:
    """Validate a nested mapping into a :class:`Config`; errors name source and key."""
    top: dict[str, Any] = {}
    for key, value in data.items():
        if key in _SECTIONS:
            if not isinstance(value, Mapping):
                raise ConfigError(f"{source}: [{key}] must be a table")
            top[key] = _build(_SECTIONS[key], value, source, prefix=f"{key}.")
        else:
            top[key] = value
    return _build(Config, top, source, prefix="", skip=set(_SECTIONS))


def _build(
    cls: type, data: Mapping[str, Any], source: str, *, prefix: str, skip: set[str] | None = None
) -> Any:
    hints = get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            allowed = ", ".join(sorted(prefix + k for k in known))
            raise ConfigError(
                f"{source}: unknown key '{prefix}{key}'", hint=f"known keys: {allowed}"
            )
        if skip and key in skip:
            kwargs[key] = value
            continue
        kwargs[key] = _coerce(value, hints[key], source, prefix + key)
    return cls(**kwargs)


def _coerce(value: Any, hint: Any, source: str, key: str) -> Any:
    origin = get_origin(hint)
    if origin is Literal:
        allowed = get_args(hint)
        if value not in allowed:
            choices = ", ".join(repr(a) for a in allowed)
            raise ConfigError(f"{source}: '{key}' is {value!r}; allowed: {choices}")
        return value
    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"1", "true", "yes", "on"}:
            return True
        if isinstance(value, str) and value.lower() in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{source}: '{key}' is {value!r}; allowed: true or false")
    if hint is int or hint is float:
        number = _parse_number(value, hint)
        if number is None or not math.isfinite(number):
            what = "a whole number" if hint is int else "a number"
            raise ConfigError(f"{source}: '{key}' is {value!r}; allowed: {what}")
        if number < 0:
            raise ConfigError(f"{source}: '{key}' is {number}; allowed: a number >= 0")
        return number
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{source}: '{key}' is {value!r}; allowed: a string")
        return value
    return value


def _parse_number(value: Any, kind: type[int] | type[float]) -> int | float | None:
    """``value`` as ``kind``, or None; booleans and fractional "whole numbers" are refused."""
    if isinstance(value, bool) or (
        kind is int and isinstance(value, float) and not value.is_integer()
    ):
        return None
    try:
        return kind(value)
    except (TypeError, ValueError):
        return None


def _from_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """``AUTOPILOT_MODEL`` → ``model``; ``AUTOPILOT_SANDBOX__NETWORK`` → ``sandbox.network``."""
    valid = set(all_keys())
    values: dict[str, str] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name in {
            ENV_PREFIX + "CONFIG",
            ENV_PREFIX + "CONFIG_DIR",
            ENV_PREFIX + "DATA_DIR",
        }:
            continue
        key = name[len(ENV_PREFIX) :].lower().replace("__", ".")
        if key in valid:
            values[key] = value
    return values


def all_keys() -> list[str]:
    """Every dotted key a config file may set."""
    keys = [f.name for f in fields(Config) if f.name not in _SECTIONS]
    for section, cls in _SECTIONS.items():
        keys.extend(f"{section}.{f.name}" for f in fields(cls))
    return keys


def to_dict(config: Config) -> dict[str, Any]:
    return dataclasses.asdict(config)


def _set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    target = data
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value


# --- writing (``autopilot config set``) ------------------------------------------------


def set_value(key: str, raw: str, path: Path | None = None) -> Config:
    """Validate ``key = raw`` and write it into the config file, keeping other keys."""
    path = path or config_path()
    if key not in all_keys():
        raise ConfigError(f"unknown key '{key}'", hint="known keys: " + ", ".join(all_keys()))
    data = read_file(path) if path.exists() else {}
    _set_dotted(data, key, _parse_cli_value(raw))
    config = from_mapping(data, source=f"`config set {key}`")
    # Store the validated, typed value so the file stays clean TOML.
    typed = to_dict(config)
    section, _, name = key.rpartition(".")
    value = typed[section][name] if section else typed[name]
    _set_dotted(data, key, value)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps_toml(data), encoding="utf-8")
    return config


def _parse_cli_value(raw: str) -> Any:
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def dumps_toml(data: Mapping[str, Any]) -> str:
    """A small TOML writer for our flat-with-sections shape."""
    lines: list[str] = []
    tables: list[tuple[str, Mapping[str, Any]]] = []
    for key, value in data.items():
        if isinstance(value, Mapping):
            tables.append((key, value))
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    for name, table in tables:
        if lines:
            lines.append("")
        lines.append(f"[{name}]")
        lines.extend(f"{k} = {_toml_value(v)}" for k, v in table.items())
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        # JSON's escapes (\n, \t, \", \\, \uXXXX) are TOML's; TOML also wants DEL escaped.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")

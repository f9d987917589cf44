from __future__ import annotations

from pathlib import Path

import pytest

from autopilot import config
from autopilot.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file(tmp_path: Path) -> None:
    cfg = config.load(tmp_path / "missing.toml", environ={})
    assert cfg.model == ""
    assert cfg.approval_mode == "ask"
    assert cfg.sandbox.network is False
    assert cfg.sandbox.backend == "docker"
    assert cfg.max_steps == 30


def test_layers_file_then_env_then_flags(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.toml",
        'model = "openai/from-file"\nuser = "ana"\n[sandbox]\nmemory = "2g"\nnetwork = false\n',
    )
    env = {"AUTOPILOT_MODEL": "openai/from-env", "AUTOPILOT_SANDBOX__NETWORK": "true"}
    cfg = config.load(path, environ=env, overrides={"model": "openai/from-flag", "api_base": None})
    assert cfg.model == "openai/from-flag"  # flags beat the environment
    assert cfg.sandbox.network is True  # environment beats the file
    assert cfg.sandbox.memory == "2g"  # the file beats defaults
    assert cfg.user == "ana"
    assert cfg.api_base == ""  # a None override changes nothing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('approval_mode = "sometimes"', r"'approval_mode' is 'sometimes'; allowed: 'ask', 'auto'"),
        ('max_steps = "many"', r"'max_steps' is 'many'; allowed: a whole number"),
        ("max_steps = 3.5", r"'max_steps' is 3.5; allowed: a whole number"),
        ("max_steps = true", r"'max_steps' is True; allowed: a whole number"),
        ("[sandbox]\ncpus = -1", r"'sandbox.cpus' is -1.0; allowed: a number >= 0"),
        ("colour = 3", r"unknown key 'colour'"),
        ("[sandbox]\nnetwrk = true", r"unknown key 'sandbox.netwrk'"),
        ("sandbox = 3", r"\[sandbox\] must be a table"),
        ("model = [", r"not valid TOML"),
    ],
)
def test_invalid_file_names_file_key_and_allowed(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path / "bad.toml", text)
    with pytest.raises(ConfigError, match=expected) as info:
        config.load(path, environ={})
    assert str(path) in str(info.value)


def test_invalid_environment_value_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"environment.*'sandbox.network' is 'maybe'"):
        config.load(tmp_path / "none.toml", environ={"AUTOPILOT_SANDBOX__NETWORK": "maybe"})


def test_set_value_writes_typed_toml_and_keeps_other_keys(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", 'model = "openai/a"\n')
    config.set_value("sandbox.network", "true", path)
    config.set_value("max_steps", "12", path)
    config.set_value("api_base", "http://127.0.0.1:8000/v1", path)
    cfg = config.load(path, environ={})
    assert (cfg.model, cfg.sandbox.network, cfg.max_steps) == ("openai/a", True, 12)
    assert cfg.api_base == "http://127.0.0.1:8000/v1"
    assert "[sandbox]" in path.read_text()


def test_set_value_rejects_unknown_key_and_bad_value(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    with pytest.raises(ConfigError, match="unknown key 'modle'"):
        config.set_value("modle", "x", path)
    with pytest.raises(ConfigError, match="'approval_mode' is 'never'"):
        config.set_value("approval_mode", "never", path)
    assert not path.exists()


def test_every_key_is_settable_from_the_environment() -> None:
    for key in config.all_keys():
        name = "AUTOPILOT_" + key.upper().replace(".", "__")
        assert config._from_environ({name: "x"}) == {key: "x"}


def test_paths_follow_environment_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTOPILOT_CONFIG_DIR", str(tmp_path / "cfg"))
    monkeypatch.setenv("AUTOPILOT_DATA_DIR", str(tmp_path / "data"))
    assert config.config_path() == tmp_path / "cfg" / "config.toml"
    assert config.user_data_dir_for("ana") == tmp_path / "data" / "users" / "ana"


def test_set_value_writes_strings_that_read_back(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    awkward = 'line one\nline "two"\ttabbed \\ back\x01'
    config.set_value("user", awkward, path)
    assert config.load(path, environ={}).user == awkward


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_numbers_must_be_finite(tmp_path: Path, value: str) -> None:
    path = write(tmp_path / "c.toml", f"[sandbox]\ncpus = {value}\n")
    with pytest.raises(ConfigError, match=r"sandbox\.cpus"):
        config.load(path, environ={})

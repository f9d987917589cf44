"""Unit tests: provider resolution, key resolution and ``create_llm``."""

from __future__ import annotations

import subprocess
import sys

import pytest

from autopilot.config import Config, LLMConfig
from autopilot.errors import ConfigError, MissingKeyError
from autopilot.llm import LiteLLMClient, create_llm
from autopilot.llm._providers import NO_KEY_REQUIRED, endpoint_for, provider_of, resolve_key


def test_known_prefixes_are_read_without_litellm() -> None:
    assert provider_of("openai/gpt-4o-mini") == "openai"
    assert provider_of("anthropic/claude-3-5-haiku") == "anthropic"
    assert provider_of("ollama/qwen2.5-coder") == "ollama"


@pytest.mark.parametrize(
    ("provider", "env_var"),
    [
        ("openai", "OPENAI_API_KEY"),
        ("anthropic", "ANTHROPIC_API_KEY"),
        ("gemini", "GEMINI_API_KEY"),
        ("together_ai", "TOGETHERAI_API_KEY"),
    ],
)
def test_a_provider_that_needs_a_key_and_has_none_fails_naming_its_variable(
    provider: str, env_var: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(env_var, raising=False)
    with pytest.raises(MissingKeyError) as info:
        resolve_key(provider, None, None)
    assert info.value.env_var == env_var
    assert f"autopilot keys set {provider}" in info.value.hint


def test_key_resolution_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    assert resolve_key("openai", "sk-given", None) == "sk-given"
    assert resolve_key("openai", None, None) is None  # litellm reads the variable itself
    monkeypatch.delenv("OPENAI_API_KEY")
    assert resolve_key("openai", None, "http://127.0.0.1:1234/v1") == NO_KEY_REQUIRED
    assert resolve_key("ollama", None, None) is None  # local: no key needed


def test_endpoints_named_in_messages() -> None:
    assert endpoint_for("openai", None) == "https://api.openai.com/v1"
    assert endpoint_for("openai", "http://x:1/v1") == "http://x:1/v1"
    assert endpoint_for("weird", None) == "the weird API"


def test_create_llm_without_a_model_says_how_to_set_one() -> None:
    with pytest.raises(ConfigError) as info:
        create_llm(Config(model=""))
    assert "autopilot config set model openai/gpt-4o-mini" in (info.value.hint or "")
    assert "--model" in (info.value.hint or "")


def test_create_llm_takes_the_key_from_autopilot_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-from-env-1234")
    config = Config(model="anthropic/claude-3-5-haiku", llm=LLMConfig(max_retries=1))
    llm = create_llm(config)
    assert isinstance(llm, LiteLLMClient)
    assert llm.model == "anthropic/claude-3-5-haiku"
    assert llm.check_key() == "sk-ant-from-env-1234"


def test_create_llm_uses_a_stored_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from autopilot.keys import set_key

    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)
    set_key("mistral", "stored-mistral-key-5678")
    llm = create_llm(Config(model="mistral/mistral-small"))
    assert isinstance(llm, LiteLLMClient)
    assert llm.check_key() == "stored-mistral-key-5678"


def test_create_llm_without_a_key_fails_when_used_not_when_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GROQ_API_KEY", raising=False)
    llm = create_llm(Config(model="groq/llama-3.1-8b-instant"))
    assert isinstance(llm, LiteLLMClient)
    with pytest.raises(MissingKeyError):
        llm.check_key()


def test_importing_autopilot_llm_does_not_import_litellm() -> None:
    code = (
        "import sys, autopilot.llm as m; m.create_llm; m.LiteLLMClient; "
        "assert 'litellm' not in sys.modules, 'litellm imported eagerly'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

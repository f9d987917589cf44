"""Which provider serves a model, which key it needs, and where it lives."""

from __future__ import annotations

import os

from autopilot.errors import MissingKeyError, ModelNotFoundError
from autopilot.keys import KEYLESS_PROVIDERS, PROVIDER_ENV_VARS

# Local OpenAI-compatible servers ignore the key, but the OpenAI client insists on one.
NO_KEY_REQUIRED = "sk-no-key-required"

_DEFAULT_ENDPOINTS = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
    "gemini": "https://generativelanguage.googleapis.com",
    "mistral": "https://api.mistral.ai/v1",
    "groq": "https://api.groq.com/openai/v1",
    "openrouter": "https://openrouter.ai/api/v1",
    "deepseek": "https://api.deepseek.com",
    "xai": "https://api.x.ai/v1",
    "together_ai": "https://api.together.xyz/v1",
    "cohere": "https://api.cohere.ai",
    "ollama": "http://localhost:11434",
    "ollama_chat": "http://localhost:11434",
}


def provider_of(model: str) -> str:
    """The litellm provider of ``model`` (``openai/gpt-4o-mini`` → ``openai``).

    A known ``provider/`` prefix is read without importing litellm; anything else (a bare
    ``gpt-4o-mini``) asks litellm, which takes seconds to import the first time.
    """
    prefix, slash, _ = model.partition("/")
    if slash and (prefix in PROVIDER_ENV_VARS or prefix in KEYLESS_PROVIDERS):
        return prefix
    from autopilot.llm._litellm import load_litellm

    litellm = load_litellm()
    try:
        return str(litellm.get_llm_provider(model)[1])
    except Exception:
        raise ModelNotFoundError(
            f"cannot tell which provider serves the model '{model}'",
            hint=(
                "write it as provider/model, e.g. openai/gpt-4o-mini, or openai/NAME "
                "with --api-base for an OpenAI-compatible server"
            ),
        ) from None


def resolve_key(provider: str, api_key: str | None, api_base: str | None) -> str | None:
    """The key to pass to litellm, None to let it read the provider's variable itself.

    Raises :class:`MissingKeyError` before any network call when the provider needs a key
    and there is none.
    """
    if api_key:
        return api_key
    env_var = PROVIDER_ENV_VARS.get(provider)
    if env_var and os.environ.get(env_var):
        return None
    if api_base and provider == "openai":
        return NO_KEY_REQUIRED
    if env_var:
        raise MissingKeyError(provider, env_var)
    return None


def endpoint_for(provider: str, api_base: str | None) -> str:
    """The URL to name in messages about ``provider``."""
    return api_base or _DEFAULT_ENDPOINTS.get(provider, f"the {provider} API")

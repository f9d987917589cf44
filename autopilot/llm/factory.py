"""``create_llm``: the configured model as an :class:`~autopilot.llm.base.LLM`."""

from __future__ import annotations

from autopilot.config import Config
from autopilot.errors import ConfigError
from autopilot.llm.base import LLM


def create_llm(config: Config) -> LLM:
    """A :class:`LiteLLMClient` for ``config.model``, with the key from ``autopilot keys``.

    A missing key is reported when the first call is made (``MissingKeyError``, before any
    network traffic), so a front end can start, and let the person add the key, without one.
    """
    if not config.model.strip():
        raise ConfigError(
            "no model is configured",
            hint="set one with `autopilot config set model openai/gpt-4o-mini` or pass --model; "
            "without an API key, `--local` runs an embedded model",
        )
    from autopilot.keys import get_key
    from autopilot.llm._providers import provider_of
    from autopilot.llm.litellm_client import LiteLLMClient
    from autopilot.llm.local import watch_local_server

    model = config.model.strip()
    client = LiteLLMClient(
        model,
        api_base=config.api_base or None,
        api_key=get_key(provider_of(model)),
        config=config.llm,
    )
    return watch_local_server(client, config.api_base)

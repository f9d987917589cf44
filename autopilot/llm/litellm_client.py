"""``LiteLLMClient``: the one real :class:`~autopilot.llm.base.LLM`, any provider via litellm.

A call streams text deltas and then exactly one :class:`LLMUsage`. Failures before the first
delta (rate limits, timeouts, 5xx, dropped connections) are retried with backoff; after a
delta has been yielded nothing is retried, because the consumer has already shown that text.
Closing the stream — cancelling the consuming task or ``aclose()`` on the generator — closes
the HTTP response at once, so a stopped generation stops costing tokens.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Sequence
from typing import Any

from autopilot.config import LLMConfig
from autopilot.llm import _providers
from autopilot.llm._errors import RETRYABLE, CallContext, classify, retry_after_s, to_error
from autopilot.llm._litellm import load_litellm
from autopilot.llm._messages import to_openai
from autopilot.llm._retry import Backoff
from autopilot.llm.base import LLMChunk, LLMUsage, Message, TextDelta

_sleep = asyncio.sleep  # a seam: unit tests record the backoff instead of waiting


class LiteLLMClient:
    """Streams completions from ``model`` (``provider/name``) through litellm."""

    def __init__(
        self,
        model: str,
        *,
        api_base: str | None = None,
        api_key: str | None = None,
        config: LLMConfig | None = None,
    ) -> None:
        self._model = model
        self._api_base = api_base or None
        self._api_key = api_key or None
        self._config = config or LLMConfig()
        self._backoff = Backoff.from_config(self._config)

    def __repr__(self) -> str:  # never show the key
        return f"LiteLLMClient(model={self._model!r}, api_base={self._api_base!r})"

    @property
    def model(self) -> str:
        return self._model

    @functools.cached_property
    def provider(self) -> str:
        return _providers.provider_of(self._model)

    @functools.cached_property
    def context_window(self) -> int | None:
        try:
            info = load_litellm().get_model_info(self._model)
        except Exception:  # litellm raises for models missing from its map
            return None
        window = info.get("max_input_tokens") or info.get("max_tokens")
        return int(window) if window else None

    @functools.cached_property
    def supports_vision(self) -> bool:
        try:
            return bool(load_litellm().supports_vision(self._model))
        except Exception:
            return False

    def check_key(self) -> str | None:
        """The key to send (None: litellm reads the env var); MissingKeyError if there is none."""
        return _providers.resolve_key(self.provider, self._api_key, self._api_base)

    # --- streaming ------------------------------------------------------------------------

    async def stream(
        self, messages: Sequence[Message], *, stop: Sequence[str] | None = None
    ) -> AsyncIterator[LLMChunk]:
        # A bare model name needs litellm to find its provider: import off the event loop.
        await asyncio.to_thread(lambda: self.provider)
        api_key = self.check_key()  # MissingKeyError before any network traffic
        litellm = await asyncio.to_thread(load_litellm)  # seconds, the first time only
        payload = to_openai(messages, vision=self.supports_vision)
        request: dict[str, Any] = {
            "model": self._model,
            "messages": payload,
            "stream": True,
            "stream_options": {"include_usage": True},
            "api_base": self._api_base,
            "api_key": api_key,
            "stop": list(stop) if stop else None,
            "temperature": self._config.temperature,
            "timeout": self._config.timeout_s,
            "max_retries": 0,  # the OpenAI SDK would retry on its own; we retry here
            "drop_params": True,  # e.g. reasoning models refuse `temperature`
        }
        ctx = self._context(api_key)
        response, head, retries = await self._open(litellm, request, ctx)
        text: list[str] = []
        usage: Any = None
        pending = list(head)
        try:
            while True:
                if pending:
                    chunk = pending.pop(0)
                else:
                    try:
                        chunk = await anext(response)
                    except StopAsyncIteration:
                        break
                    except Exception as exc:  # mid-stream: never retried, text was shown
                        raise to_error(exc, ctx, retries=retries) from None
                usage = getattr(chunk, "usage", None) or usage
                piece = _delta_text(chunk)
                if piece:
                    text.append(piece)
                    yield TextDelta(piece)
        finally:
            await _close(response)
        yield self._usage(litellm, payload, "".join(text), usage)

    async def _open(
        self, litellm: Any, request: dict[str, Any], ctx: CallContext
    ) -> tuple[Any, list[Any], int]:
        """Start the call and read up to the first text delta, retrying failures until then.

        Returns the open response, the chunks already read, and the retries spent.
        """
        attempt = 0
        while True:
            response = None
            try:
                response = await litellm.acompletion(**request)
                head = await _read_head(response)
                return response, head, attempt
            except Exception as exc:
                await _close(response)
                kind = classify(exc)
                delay = (
                    self._backoff.delay_s(attempt, retry_after_s(exc))
                    if kind in RETRYABLE
                    else None
                )
                if delay is None:
                    raise to_error(exc, ctx, retries=attempt) from None
            except BaseException:  # cancelled while connecting: hang up at once
                await _close(response)
                raise
            await _sleep(delay)
            attempt += 1

    def _context(self, api_key: str | None) -> CallContext:
        secrets = tuple(s for s in (api_key, self._api_key) if s)
        return CallContext(
            model=self._model,
            provider=self.provider,
            endpoint=_providers.endpoint_for(self.provider, self._api_base),
            timeout_s=self._config.timeout_s,
            secrets=secrets,
        )

    def _usage(
        self, litellm: Any, payload: list[dict[str, Any]], text: str, usage: Any
    ) -> LLMUsage:
        prompt = getattr(usage, "prompt_tokens", None)
        completion = getattr(usage, "completion_tokens", None)
        if prompt is None or completion is None:  # the endpoint sent no usage: count
            prompt = _count(litellm, self._model, messages=payload)
            completion = _count(litellm, self._model, text=text)
        return LLMUsage(
            int(prompt), int(completion), _cost(litellm, self._model, prompt, completion)
        )


async def _read_head(response: Any) -> list[Any]:
    """Chunks up to and including the first one with text (all of them if none has text)."""
    head: list[Any] = []
    async for chunk in response:
        head.append(chunk)
        if _delta_text(chunk):
            break
    return head


def _delta_text(chunk: Any) -> str:
    choices = getattr(chunk, "choices", None) or []
    if not choices:
        return ""
    delta = getattr(choices[0], "delta", None)
    return getattr(delta, "content", None) or ""


async def _close(response: Any) -> None:
    """Close litellm's stream wrapper, which closes the HTTP response under it."""
    if response is None:
        return
    aclose = getattr(response, "aclose", None)
    with contextlib.suppress(Exception):
        if aclose is not None:
            await aclose()


def _count(litellm: Any, model: str, **what: Any) -> int:
    try:
        return int(litellm.token_counter(model=model, **what))
    except Exception:  # unknown tokenizer: a rough estimate beats none
        chars = len(str(what.get("text") or what.get("messages") or ""))
        return max(1, chars // 4)


def _cost(litellm: Any, model: str, prompt: int, completion: int) -> float | None:
    try:
        prompt_cost, completion_cost = litellm.cost_per_token(
            model=model, prompt_tokens=prompt, completion_tokens=completion
        )
    except Exception:  # not in litellm's cost map
        return None
    return float(prompt_cost) + float(completion_cost)

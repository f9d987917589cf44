"""Unit tests of ``LiteLLMClient``'s own logic against a small fake of the litellm module.

The same behaviours are checked over real HTTP in ``test_litellm_integration.py``; here the
fake makes the retry rules exact (which attempt failed where, which delays were chosen).
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from autopilot.config import LLMConfig
from autopilot.errors import AuthenticationError, LLMError, MissingKeyError, RateLimitError
from autopilot.llm import litellm_client
from autopilot.llm.base import LLMUsage, Message, TextDelta
from autopilot.llm.litellm_client import LiteLLMClient


class RateLimitError_(Exception):
    status_code = 429

    def __init__(self, retry_after: str | None = None) -> None:
        super().__init__("Rate limit reached")
        self.litellm_response_headers = {"retry-after": retry_after} if retry_after else {}


class AuthenticationError_(Exception):
    status_code = 401


class InternalServerError(Exception):
    status_code = 500


def chunk(text: str) -> Any:
    return SimpleNamespace(
        choices=[SimpleNamespace(delta=SimpleNamespace(content=text))], usage=None
    )


def usage_chunk(prompt: int, completion: int) -> Any:
    return SimpleNamespace(
        choices=[], usage=SimpleNamespace(prompt_tokens=prompt, completion_tokens=completion)
    )


class FakeStream:
    def __init__(self, items: list[Any]) -> None:
        self.items = list(items)
        self.closed = False

    def __aiter__(self) -> FakeStream:
        return self

    async def __anext__(self) -> Any:
        if self.closed or not self.items:
            raise StopAsyncIteration
        item = self.items.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item

    async def aclose(self) -> None:
        self.closed = True


class FakeLiteLLM:
    """Replays ``script``: an exception raised by ``acompletion``, or a list of stream items."""

    def __init__(self, script: list[Any]) -> None:
        self.script = list(script)
        self.calls: list[dict[str, Any]] = []
        self.streams: list[FakeStream] = []

    async def acompletion(self, **kwargs: Any) -> FakeStream:
        self.calls.append(kwargs)
        item = self.script.pop(0)
        if isinstance(item, BaseException):
            raise item
        stream = FakeStream(item)
        self.streams.append(stream)
        return stream

    def get_model_info(self, model: str) -> dict[str, Any]:
        if model == "openai/known":
            return {"max_input_tokens": 128_000}
        raise Exception("This model isn't mapped yet")

    def supports_vision(self, model: str) -> bool:
        return model == "openai/known"

    def token_counter(self, *, model: str, messages: Any = None, text: str | None = None) -> int:
        return 100 if messages is not None else len(text or "")

    def cost_per_token(
        self, *, model: str, prompt_tokens: int, completion_tokens: int
    ) -> tuple[float, float]:
        if model != "openai/known":
            raise Exception("not mapped")
        return prompt_tokens * 0.001, completion_tokens * 0.002


@pytest.fixture
def delays(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    recorded: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(litellm_client, "_sleep", fake_sleep)
    return recorded


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLiteLLM]:
    fake = FakeLiteLLM([])
    monkeypatch.setattr(litellm_client, "load_litellm", lambda: fake)
    yield fake


def client(model: str = "openai/known", **config: Any) -> LiteLLMClient:
    config.setdefault("retry_base_delay_s", 0.5)
    return LiteLLMClient(model, api_base=None, api_key="sk-test-123456", config=LLMConfig(**config))


async def collect(llm: LiteLLMClient, stop: list[str] | None = None) -> list[Any]:
    return [c async for c in llm.stream([Message("user", "hi")], stop=stop)]


async def test_deltas_then_one_usage_with_cost(fake: FakeLiteLLM) -> None:
    fake.script = [[chunk("Hel"), chunk(""), chunk("lo"), usage_chunk(7, 2)]]
    chunks = await collect(client())
    assert chunks == [TextDelta("Hel"), TextDelta("lo"), LLMUsage(7, 2, pytest.approx(0.011))]


async def test_the_request_carries_stream_usage_stop_temperature_and_no_sdk_retries(
    fake: FakeLiteLLM,
) -> None:
    fake.script = [[chunk("x")]]
    await collect(client(temperature=0.3, timeout_s=9.0), stop=["```\n"])
    [call] = fake.calls
    assert call["stream"] is True and call["stream_options"] == {"include_usage": True}
    assert call["stop"] == ["```\n"] and call["temperature"] == 0.3 and call["timeout"] == 9.0
    assert call["max_retries"] == 0 and call["api_key"] == "sk-test-123456"
    assert call["messages"] == [{"role": "user", "content": "hi"}]


async def test_without_usage_from_the_endpoint_tokens_are_counted(fake: FakeLiteLLM) -> None:
    fake.script = [[chunk("abc"), chunk("de")]]
    *_, usage = await collect(client("openai/unknown-model"))
    assert usage == LLMUsage(prompt_tokens=100, completion_tokens=5, cost_usd=None)


async def test_rate_limit_before_any_delta_is_retried_honouring_retry_after(
    fake: FakeLiteLLM, delays: list[float]
) -> None:
    fake.script = [RateLimitError_(retry_after="3"), [chunk("ok"), usage_chunk(1, 1)]]
    chunks = await collect(client())
    assert chunks[0] == TextDelta("ok")
    assert len(fake.calls) == 2 and delays == [3.0]


async def test_a_failure_inside_the_stream_before_the_first_delta_is_retried(
    fake: FakeLiteLLM, delays: list[float]
) -> None:
    fake.script = [[chunk(""), InternalServerError("overloaded")], [chunk("fine")]]
    chunks = await collect(client())
    assert chunks[0] == TextDelta("fine")
    assert len(fake.calls) == 2 and len(delays) == 1 and 0.25 <= delays[0] <= 0.5
    assert fake.streams[0].closed  # the failed attempt's response was closed


async def test_nothing_is_retried_after_a_delta_was_yielded(
    fake: FakeLiteLLM, delays: list[float]
) -> None:
    fake.script = [[chunk("partial "), InternalServerError("overloaded")], [chunk("never")]]
    seen: list[Any] = []
    with pytest.raises(LLMError, match="HTTP 500"):
        async for item in client().stream([Message("user", "hi")]):
            seen.append(item)
    assert seen == [TextDelta("partial ")]
    assert len(fake.calls) == 1 and delays == []
    assert fake.streams[0].closed


async def test_retries_exhausted_raise_rate_limit_error(
    fake: FakeLiteLLM, delays: list[float]
) -> None:
    fake.script = [RateLimitError_(), RateLimitError_(), RateLimitError_()]
    with pytest.raises(RateLimitError, match="after 2 retries"):
        await collect(client(max_retries=2))
    assert len(fake.calls) == 3
    assert delays[0] <= 0.5 and 0.5 <= delays[1] <= 1.0  # exponential


async def test_an_auth_failure_is_not_retried(fake: FakeLiteLLM, delays: list[float]) -> None:
    fake.script = [AuthenticationError_("Incorrect API key provided: sk-test-123456")]
    with pytest.raises(AuthenticationError) as info:
        await collect(client())
    assert len(fake.calls) == 1 and delays == []
    assert "sk-test-123456" not in str(info.value)


async def test_closing_the_generator_closes_the_response(fake: FakeLiteLLM) -> None:
    fake.script = [[chunk("a"), chunk("b"), chunk("c")]]
    stream = client().stream([Message("user", "hi")])
    assert await anext(stream) == TextDelta("a")
    await stream.aclose()
    assert fake.streams[0].closed


async def test_a_missing_key_fails_before_any_call(
    fake: FakeLiteLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    llm = LiteLLMClient("openai/gpt-4o-mini", api_base=None, api_key=None, config=LLMConfig())
    with pytest.raises(MissingKeyError) as info:
        await collect(llm)
    assert info.value.env_var == "OPENAI_API_KEY" and "autopilot keys set openai" in info.value.hint
    assert fake.calls == []


async def test_an_openai_compatible_api_base_gets_a_dummy_key(
    fake: FakeLiteLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    fake.script = [[chunk("x")]]
    llm = LiteLLMClient(
        "openai/local", api_base="http://127.0.0.1:8080/v1", api_key=None, config=LLMConfig()
    )
    await collect(llm)
    assert fake.calls[0]["api_key"] == "sk-no-key-required"
    assert fake.calls[0]["api_base"] == "http://127.0.0.1:8080/v1"


def test_model_facts_come_from_litellm_and_default_when_unknown(fake: FakeLiteLLM) -> None:
    assert client("openai/known").context_window == 128_000
    assert client("openai/known").supports_vision is True
    assert client("openai/other").context_window is None
    assert client("openai/other").supports_vision is False


def test_repr_never_shows_the_key() -> None:
    assert "sk-test-123456" not in repr(client())

"""Integration: ``LiteLLMClient`` through litellm's real HTTP path to the scripted server."""

from __future__ import annotations

import asyncio
import base64
import socket
import time
from typing import Any

import pytest

from autopilot.config import LLMConfig
from autopilot.errors import (
    AuthenticationError,
    ContextWindowExceededError,
    EndpointUnreachableError,
    LLMError,
    LLMTimeoutError,
    MissingKeyError,
    ModelNotFoundError,
    RateLimitError,
)
from autopilot.llm import LiteLLMClient
from autopilot.llm.base import ImagePart, LLMUsage, Message, TextDelta
from tests.support.scripted_server import ScriptedServer

pytestmark = [
    pytest.mark.integration,
    # litellm 1.110 trips pydantic 2.11 deprecations on every streamed chunk: not ours.
    pytest.mark.filterwarnings("ignore::DeprecationWarning:litellm.*"),
]

FAST = LLMConfig(timeout_s=5.0, max_retries=2, retry_base_delay_s=0.01, retry_max_delay_s=2.0)
HI = [Message("system", "You are terse."), Message("user", "Say hello")]


def client(server: ScriptedServer, model: str = "openai/scripted", **config: Any) -> LiteLLMClient:
    settings = {**FAST.__dict__, **config}
    return LiteLLMClient(model, api_base=server.url, api_key=None, config=LLMConfig(**settings))


async def collect(llm: LiteLLMClient, messages: list[Message] = HI, **kw: Any) -> list[Any]:
    return [chunk async for chunk in llm.stream(messages, **kw)]


async def test_deltas_arrive_in_order_and_usage_comes_last(scripted_server: ScriptedServer) -> None:
    scripted_server.push({"text": "Hello there, how are you today?", "chunk_size": 5})
    chunks = await collect(client(scripted_server))
    *deltas, usage = chunks
    assert all(isinstance(d, TextDelta) for d in deltas) and len(deltas) == 7
    assert "".join(d.text for d in deltas) == "Hello there, how are you today?"
    assert isinstance(usage, LLMUsage) and usage.completion_tokens == 7  # the server's count
    assert usage.prompt_tokens == len("You are terse.Say hello") // 4
    assert usage.cost_usd is None  # not in litellm's cost map
    body = scripted_server.chat_requests[0].body
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["model"] == "scripted" and body["temperature"] == 0.0
    assert body["messages"] == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Say hello"},
    ]


async def test_an_empty_reply_is_just_usage(scripted_server: ScriptedServer) -> None:
    scripted_server.push("")
    chunks = await collect(client(scripted_server))
    assert len(chunks) == 1 and isinstance(chunks[0], LLMUsage)


async def test_a_retry_after_longer_than_the_cap_fails_at_once(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.push({"status": 429, "retry_after": 3600}, "never used")
    started = time.monotonic()
    with pytest.raises(RateLimitError):
        await collect(client(scripted_server))
    assert time.monotonic() - started < 2.0 and len(scripted_server.chat_requests) == 1


async def test_the_dummy_key_goes_to_a_keyless_local_server(
    scripted_server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    scripted_server.push("ok")
    await collect(client(scripted_server))
    assert scripted_server.chat_requests[0].headers["authorization"] == "Bearer sk-no-key-required"


async def test_stop_sequences_are_passed_through(scripted_server: ScriptedServer) -> None:
    scripted_server.push("```python\nprint(1)\n```\nThe output is 1.")
    chunks = await collect(client(scripted_server), stop=["```\n"])
    assert scripted_server.chat_requests[0].body["stop"] == ["```\n"]
    assert "".join(c.text for c in chunks if isinstance(c, TextDelta)) == "```python\nprint(1)\n"


async def test_a_vision_message_is_sent_as_image_parts(scripted_server: ScriptedServer) -> None:
    llm = client(scripted_server, model="openai/gpt-4o-mini")  # a vision model in the map
    assert llm.supports_vision and llm.context_window == 128_000
    scripted_server.push("a chart")
    png = b"\x89PNG\r\n\x1a\n-not-really"
    *_, usage = await collect(llm, [Message("user", "what is it?", images=(ImagePart(png),))])
    [message] = scripted_server.chat_requests[0].body["messages"]
    assert message["content"][0] == {"type": "text", "text": "what is it?"}
    assert message["content"][1]["type"] == "image_url"
    url = message["content"][1]["image_url"]["url"]
    assert url == "data:image/png;base64," + base64.b64encode(png).decode()
    assert usage.cost_usd is not None and usage.cost_usd > 0  # gpt-4o-mini is priced


async def test_a_model_without_vision_gets_a_note_instead(scripted_server: ScriptedServer) -> None:
    llm = client(scripted_server)
    assert llm.supports_vision is False and llm.context_window is None
    scripted_server.push("ok")
    await collect(llm, [Message("user", "see", images=(ImagePart(b"png"),))])
    [message] = scripted_server.chat_requests[0].body["messages"]
    assert message["content"] == "see\n[image omitted: model has no vision]"


async def test_a_bad_key_is_an_authentication_error_without_the_key(
    scripted_server: ScriptedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "sk-proj-SECRETSECRET12345"
    scripted_server.push({"status": 401, "message": f"Incorrect API key provided: {secret}."})
    llm = LiteLLMClient(
        "openai/scripted", api_base=scripted_server.url, api_key=secret, config=FAST
    )
    with pytest.raises(AuthenticationError) as info:
        await collect(llm)
    assert "rejected the API key" in str(info.value) and "\n" not in str(info.value)
    assert "SECRETSECRET" not in info.value.one_line()
    assert len(scripted_server.chat_requests) == 1  # not retried
    out = capsys.readouterr()
    assert "SECRETSECRET" not in out.out + out.err and "Give Feedback" not in out.out + out.err


async def test_an_unknown_model_is_model_not_found(scripted_server: ScriptedServer) -> None:
    scripted_server.push({"status": 404, "message": "The model `nope` does not exist"})
    with pytest.raises(ModelNotFoundError, match="does not know the model 'openai/nope'"):
        await collect(client(scripted_server, model="openai/nope"))


async def test_a_model_without_provider_is_model_not_found(scripted_server: ScriptedServer) -> None:
    with pytest.raises(ModelNotFoundError) as info:
        await collect(client(scripted_server, model="no-such-model-anywhere"))
    assert "provider/model" in (info.value.hint or "")
    assert scripted_server.chat_requests == []


async def test_a_context_overflow_is_context_window_exceeded(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.push(
        {
            "status": 400,
            "code": "context_length_exceeded",
            "message": "This model's maximum context length is 8192 tokens. "
            "However, your messages resulted in 9000 tokens.",
        }
    )
    with pytest.raises(ContextWindowExceededError, match="context window"):
        await collect(client(scripted_server))


async def test_nothing_listening_is_endpoint_unreachable_quickly() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    llm = LiteLLMClient("openai/scripted", api_base=url, api_key=None, config=FAST)
    started = time.monotonic()
    with pytest.raises(EndpointUnreachableError) as info:
        await collect(llm)
    assert time.monotonic() - started < 3.0  # refused at once, never retried
    assert url in str(info.value)


async def test_a_rate_limit_is_retried_once_then_succeeds(scripted_server: ScriptedServer) -> None:
    scripted_server.push({"status": 429, "retry_after": 0, "message": "slow down"}, "made it")
    chunks = await collect(client(scripted_server))
    assert "".join(c.text for c in chunks if isinstance(c, TextDelta)) == "made it"
    assert len(scripted_server.chat_requests) == 2


async def test_retry_after_is_honoured(scripted_server: ScriptedServer) -> None:
    scripted_server.push({"status": 429, "retry_after": 1}, "ok")
    started = time.monotonic()
    await collect(client(scripted_server))
    assert time.monotonic() - started >= 1.0
    first, second = scripted_server.chat_requests
    assert second.received_at - first.received_at >= 1.0


async def test_server_errors_fail_after_the_retries(scripted_server: ScriptedServer) -> None:
    scripted_server.push(*[{"status": 500, "message": "overloaded"}] * 3)
    with pytest.raises(LLMError, match=r"HTTP 500 after 2 retries \(overloaded\)"):
        await collect(client(scripted_server, max_retries=2))
    assert len(scripted_server.chat_requests) == 3


async def test_rate_limits_exhausted_are_rate_limit_error(scripted_server: ScriptedServer) -> None:
    scripted_server.push(*[{"status": 429, "retry_after": 0}] * 2)
    with pytest.raises(RateLimitError, match="after 1 retry"):
        await collect(client(scripted_server, max_retries=1))
    assert len(scripted_server.chat_requests) == 2


async def test_a_silent_server_times_out_after_the_retries(scripted_server: ScriptedServer) -> None:
    scripted_server.push("hang", "hang")
    with pytest.raises(LLMTimeoutError, match=r"within 0\.5s after 1 retry"):
        await collect(client(scripted_server, timeout_s=0.5, max_retries=1))
    assert len(scripted_server.chat_requests) == 2


async def test_a_failure_after_text_was_streamed_is_not_retried(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.push({"text": "partial answer", "hang_after": 1}, "never used")
    seen: list[str] = []
    with pytest.raises(LLMTimeoutError):
        async for chunk in client(scripted_server, timeout_s=0.5).stream(HI):
            seen.append(chunk.text)
    assert seen == ["part"]
    assert len(scripted_server.chat_requests) == 1


async def test_aclose_mid_stream_closes_the_connection_at_once(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.push({"text": "x" * 400, "delay_s": 0.05})
    stream = client(scripted_server).stream(HI)
    assert isinstance(await anext(stream), TextDelta)
    closed_at = time.monotonic()
    await stream.aclose()
    [request] = scripted_server.chat_requests
    assert scripted_server.wait_for(lambda: request.outcome == "client_closed", timeout=1.0)
    assert request.ended_at is not None and request.ended_at - closed_at < 1.0


async def test_cancelling_the_consumer_closes_the_connection_at_once(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.push({"text": "y" * 400, "hang_after": 2})
    first = asyncio.Event()

    async def consume() -> None:
        async for _ in client(scripted_server).stream(HI):
            first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 5)
    cancelled_at = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    [request] = scripted_server.chat_requests
    assert scripted_server.wait_for(lambda: request.outcome == "client_closed", timeout=1.0)
    assert request.ended_at is not None and request.ended_at - cancelled_at < 1.0


async def test_cancelling_while_waiting_for_the_first_byte_hangs_up(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.push("hang")
    task = asyncio.create_task(collect(client(scripted_server)))
    assert await asyncio.to_thread(
        scripted_server.wait_for, lambda: bool(scripted_server.chat_requests)
    )
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    [request] = scripted_server.chat_requests
    assert scripted_server.wait_for(lambda: request.outcome == "client_closed", timeout=1.0)


async def test_a_missing_key_fails_before_any_network_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    llm = LiteLLMClient("openai/gpt-4o-mini", api_base=None, api_key=None, config=FAST)

    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a network connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    with pytest.raises(MissingKeyError) as info:
        await collect(llm)
    assert info.value.one_line() == (
        "no API key for openai — run `autopilot keys set openai` or set OPENAI_API_KEY"
    )

"""``ScriptedLLM``: a test double that replays scripted replies, shipped in the library.

Each call to :meth:`ScriptedLLM.stream` takes the next reply. A reply is a string (split
into chunks of ``chunk_size`` characters), a list of chunks (streamed as given, so a test
can split a code fence anywhere), a callable that receives the messages and returns either,
or an exception instance, which is raised. Every request is recorded in ``calls``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field

from autopilot.llm.base import LLMChunk, LLMUsage, Message, TextDelta

Reply = str | list[str] | BaseException | Callable[[Sequence[Message]], str | list[str]]


@dataclass
class ScriptedCall:
    messages: list[Message]
    stop: list[str] | None


@dataclass
class ScriptedLLM:
    replies: list[Reply]
    model: str = "scripted/test"
    context_window: int | None = 32_000
    supports_vision: bool = False
    chunk_size: int = 7
    delay_s: float = 0.0
    calls: list[ScriptedCall] = field(default_factory=list)

    async def stream(
        self, messages: Sequence[Message], *, stop: Sequence[str] | None = None
    ) -> AsyncIterator[LLMChunk]:
        self.calls.append(ScriptedCall(list(messages), list(stop) if stop else None))
        if not self.replies:
            raise AssertionError("ScriptedLLM ran out of replies")
        reply = self.replies.pop(0)
        if callable(reply) and not isinstance(reply, BaseException):
            reply = reply(messages)
        if isinstance(reply, BaseException):
            raise reply
        chunks = reply if isinstance(reply, list) else _split(reply, self.chunk_size)
        emitted = ""
        for chunk in chunks:
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            else:
                await asyncio.sleep(0)
            emitted += chunk
            yield TextDelta(chunk)
        prompt_chars = sum(len(m.content) for m in messages)
        yield LLMUsage(
            prompt_tokens=max(1, prompt_chars // 4),
            completion_tokens=max(1, len(emitted) // 4),
            cost_usd=0.0,
        )


def _split(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]

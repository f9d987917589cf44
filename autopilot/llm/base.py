"""The LLM contract: messages in, a stream of text deltas and then usage out."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class ImagePart:
    """A PNG image attached to a message (sent to vision models as an image part)."""

    png: bytes
    note: str = ""


@dataclass(frozen=True)
class Message:
    role: Role
    content: str
    images: tuple[ImagePart, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class LLMUsage:
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None = None


LLMChunk = TextDelta | LLMUsage


@runtime_checkable
class LLM(Protocol):
    """Streams one completion: ``TextDelta`` chunks, then exactly one ``LLMUsage``."""

    @property
    def model(self) -> str: ...

    @property
    def context_window(self) -> int | None:
        """Tokens the model accepts, when known."""

    @property
    def supports_vision(self) -> bool: ...

    def stream(
        self, messages: Sequence[Message], *, stop: Sequence[str] | None = None
    ) -> AsyncIterator[LLMChunk]:
        """Stream a completion. Cancelling the consumer stops the HTTP stream at once."""

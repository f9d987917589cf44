"""Fit the conversation into the model's context window, for the prompt only.

The agent's history and the session log keep everything; :func:`compact` returns the list
of messages to *send*. When the estimate nears the window it first shortens old
messages (outputs, pasted data) and drops their images, keeping the recent steps and the
person's latest message whole; if that is not enough it replaces the oldest messages with
a one-line-per-message summary.
"""

from __future__ import annotations

from collections.abc import Sequence

from autopilot.agent.observation import cap
from autopilot.llm.base import Message

CHARS_PER_TOKEN = 4
IMAGE_TOKENS = 1_000
FILL = 0.75  # compact when the prompt would use more than this share of the window
KEEP_RECENT = 6  # messages at the end that are never shortened
# When the model's window is unknown (a local server, a new model), assume a modest one:
# compacting early costs a little context; overflowing ends the turn with an error.
DEFAULT_CONTEXT_WINDOW = 32_000
SHORT_CHARS = 1_200


def estimate_tokens(messages: Sequence[Message]) -> int:
    chars = sum(len(m.content) for m in messages)
    return chars // CHARS_PER_TOKEN + IMAGE_TOKENS * sum(len(m.images) for m in messages)


def compact(
    history: Sequence[Message],
    *,
    context_window: int | None,
    reserved_tokens: int,
    protected: int | None = None,
) -> list[Message]:
    """The messages to send. ``protected`` is the index of the person's latest message."""
    messages = list(history)
    budget = int((context_window or DEFAULT_CONTEXT_WINDOW) * FILL) - reserved_tokens
    if estimate_tokens(messages) <= budget:
        return messages
    recent = max(0, len(messages) - KEEP_RECENT)
    for i in range(recent):
        if i == protected:
            continue
        m = messages[i]
        if len(m.content) > SHORT_CHARS or m.images:
            messages[i] = Message(m.role, cap(m.content, SHORT_CHARS))
    if estimate_tokens(messages) <= budget:
        return messages
    # Summarise the oldest messages, one line each, until the rest fits.
    total = estimate_tokens(messages)
    dropped: list[int] = []
    for i in range(recent):
        if total + 25 * len(dropped) <= budget:
            break
        if i != protected:
            dropped.append(i)
            total -= estimate_tokens([messages[i]])
    if not dropped:
        return messages
    note = Message(
        "user",
        f"[{len(dropped)} earlier messages are left out to fit the context window; in short:]\n"
        + "\n".join(_one_line(messages[i]) for i in dropped),
    )
    gone = set(dropped)
    return [note, *(m for i, m in enumerate(messages) if i not in gone)]


def _one_line(message: Message) -> str:
    text = " ".join(message.content.split())
    who = {"user": "user/output", "assistant": "assistant"}.get(message.role, message.role)
    return f"- {who}: {text[:120]}{'…' if len(text) > 120 else ''}"

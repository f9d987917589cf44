"""Autopilot messages to the OpenAI chat format litellm takes (images as data-URL parts)."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from autopilot.llm.base import Message

NO_VISION_NOTE = "[image omitted: model has no vision]"


def to_openai(messages: Sequence[Message], *, vision: bool) -> list[dict[str, Any]]:
    return [_one(message, vision=vision) for message in messages]


def _one(message: Message, *, vision: bool) -> dict[str, Any]:
    if not message.images:
        return {"role": message.role, "content": message.content}
    if not vision:
        notes = [f"{NO_VISION_NOTE} {image.note}".rstrip() for image in message.images]
        text = "\n".join([message.content, *notes]) if message.content else "\n".join(notes)
        return {"role": message.role, "content": text}
    parts: list[dict[str, Any]] = []
    if message.content:
        parts.append({"type": "text", "text": message.content})
    for image in message.images:
        if image.note:
            parts.append({"type": "text", "text": image.note})
        data = base64.b64encode(image.png).decode("ascii")
        parts.append({"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}})
    return {"role": message.role, "content": parts}

"""LLM clients: the ``LLM`` Protocol, the litellm adapter and the ``ScriptedLLM`` double.

``LiteLLMClient`` and ``create_llm`` are loaded on first use, so importing this package
never imports litellm (which takes seconds).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from autopilot.llm.base import LLM, ImagePart, LLMChunk, LLMUsage, Message, TextDelta
from autopilot.llm.scripted import ScriptedLLM

if TYPE_CHECKING:
    from autopilot.llm.factory import create_llm
    from autopilot.llm.litellm_client import LiteLLMClient

__all__ = [
    "LLM",
    "ImagePart",
    "LLMChunk",
    "LLMUsage",
    "LiteLLMClient",
    "Message",
    "ScriptedLLM",
    "TextDelta",
    "create_llm",
]

_LAZY = {
    "LiteLLMClient": "autopilot.llm.litellm_client",
    "create_llm": "autopilot.llm.factory",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

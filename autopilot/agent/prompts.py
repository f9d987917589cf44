"""The prompt files under ``autopilot/prompts/``, rendered with :class:`string.Template`.

Prompts are data, versioned with the code: every file is a template whose ``$names`` are
filled here. ``render`` raises ``KeyError`` for a missing value, so a test that renders each
file catches a renamed placeholder.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from string import Template
from typing import Any

PROMPT_FILES = (
    "system.md",
    "tools.md",
    "check_after_error.txt",
    "loop_breaker.txt",
    "unsupported_language.txt",
    "skipped.txt",
    "edited.txt",
    "interrupted_cell.txt",
    "interrupted_reply.txt",
    "state_lost.txt",
    "resumed.txt",
    "resumed_cells.txt",
    "sandbox_failed.txt",
    "images_attached.txt",
    "images_not_seen.txt",
)


@cache
def template(name: str) -> Template:
    text = resources.files("autopilot").joinpath("prompts", name).read_text(encoding="utf-8")
    return Template(text)


def render(name: str, **values: Any) -> str:
    return template(name).substitute(values).strip()


def system_prompt(tools: Any = None) -> str:
    """The system prompt; ``tools`` is a registry with ``prompt_text()``, or None."""
    tool_text = ""
    if tools is not None:
        text = tools.prompt_text().strip()
        if text:
            tool_text = "\n" + render("tools.md", tool_text=text) + "\n"
    return render("system.md", tools=tool_text)

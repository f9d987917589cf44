"""The prompt files under ``autopilot/prompts/``, rendered with :class:`string.Template`.

Prompts are data, versioned with the code: every file is a template whose ``$names`` are
filled here. ``render`` raises ``KeyError`` for a missing value, so a test that renders each
file catches a renamed placeholder.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from string import Template
from typing import Any, Literal

from autopilot.llm.local import LOCAL_MODEL_ALIAS

# The model string ``--local`` configures (see autopilot.llm.local.local_config).
LOCAL_MODEL = f"openai/{LOCAL_MODEL_ALIAS}"
SYSTEM_FILES = {"full": "system.md", "compact": "system_compact.md"}

PROMPT_FILES = (
    "system.md",
    "system_compact.md",
    "tools.md",
    "check_after_error.txt",
    "loop_breaker.txt",
    "loop_last_chance.txt",
    "loop_same_output.txt",
    "task_reminder.txt",
    "error_hints.txt",
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


def resolve_style(style: str, model: str) -> Literal["full", "compact"]:
    """``prompt_style`` made concrete: "auto" is compact for the embedded local model.

    Small local models do better with a short prompt (on a laptop CPU, prompt processing
    is most of each step's time) and one short example that is not about files.
    """
    if style == "compact" or (style == "auto" and model.strip() == LOCAL_MODEL):
        return "compact"
    return "full"


def system_prompt(tools: Any = None, style: str = "full") -> str:
    """The system prompt in ``style`` ("full" or "compact"); ``tools`` is a registry with
    ``prompt_text()``, or None."""
    tool_text = ""
    if tools is not None:
        # Small models get the names only: every prompt token costs them seconds on a CPU.
        text = (
            tools.prompt_text(brief=True) if style == "compact" else tools.prompt_text()
        ).strip()
        if text:
            tool_text = "\n" + render("tools.md", tool_text=text) + "\n"
    return render(SYSTEM_FILES[style], tools=tool_text)

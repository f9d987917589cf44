"""``NoticeView``: an info, warning or error line in the conversation (with its hint)."""

from __future__ import annotations

from typing import Literal

from rich.text import Text
from textual.widgets import Static

Level = Literal["info", "warning", "error"]
_MARK = {"info": "ℹ", "warning": "⚠", "error": "✗"}


class NoticeView(Static):
    def __init__(self, message: str, *, level: Level = "info", hint: str | None = None) -> None:
        text = Text(f"{_MARK[level]} {message}")
        if hint:
            text.append(f"\n  → {hint}", style="italic")
        super().__init__(text, classes=f"notice -{level}")
        self.level = level
        self.message = message

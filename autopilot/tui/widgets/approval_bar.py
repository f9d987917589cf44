"""``ApprovalBar``: the one-line prompt under a code block or tool call (y / a / e / n)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Static


@dataclass(frozen=True)
class ApprovalOption:
    key: str
    choice: str
    label: str


CODE_OPTIONS = (
    ApprovalOption("y", "run", "run"),
    ApprovalOption("a", "always", "always this session"),
    ApprovalOption("e", "edit", "edit"),
    ApprovalOption("n", "skip", "skip"),
)

TOOL_OPTIONS = (
    ApprovalOption("y", "once", "allow once"),
    ApprovalOption("a", "always", "always this session"),
    ApprovalOption("n", "deny", "deny"),
)


class ApprovalBar(Static, can_focus=True):
    BINDINGS: ClassVar = [
        Binding("y", "press('y')", "Yes", show=False),
        Binding("a", "press('a')", "Always", show=False),
        Binding("e", "press('e')", "Edit", show=False),
        Binding("n", "press('n')", "No", show=False),
    ]

    class Chosen(Message):
        def __init__(self, bar: ApprovalBar, choice: str) -> None:
            super().__init__()
            self.bar = bar
            self.choice = choice

    def __init__(self, options: tuple[ApprovalOption, ...], prompt: str = "Run it?") -> None:
        self.options = options
        parts = [f"[b]{prompt}[/b]"]
        for option in options:
            parts.append(
                f"[@click=press('{option.key}')][reverse] {option.key} [/reverse] {option.label}[/]"
            )
        super().__init__("  ".join(parts))

    def action_press(self, key: str) -> None:
        for option in self.options:
            if option.key == key:
                self.post_message(self.Chosen(self, option.choice))
                return

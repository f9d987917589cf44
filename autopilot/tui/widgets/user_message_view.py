"""``UserMessageView``: what the person sent (or queued while the agent works)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class UserMessageView(Static):
    def __init__(self, text: str, *, queued: bool = False) -> None:
        super().__init__(classes="user-message")
        self.text = text
        self.queued = queued

    def on_mount(self) -> None:
        self._redraw()

    def mark_sent(self) -> None:
        self.queued = False
        self._redraw()

    def _redraw(self) -> None:
        self.set_class(self.queued, "-queued")
        line = Text("› ", style="bold")
        line.append(self.text)
        if self.queued:
            line.append("  (queued — sent when the current turn ends)", style="dim italic")
        self.update(line)

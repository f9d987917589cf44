"""``PromptInput``: the multi-line message box.

Enter sends; ctrl+j inserts a newline. shift+enter and alt+enter reach Textual as a plain
Enter in most terminals (tmux, xterm: only kitty-protocol terminals tell them apart), so
alt+enter also makes a newline only where the terminal reports it. ↑ on the first line
and ↓ on the last walk the history; Tab (or →) accepts the grey completion of a
``/command`` or an ``@path``.
"""

from __future__ import annotations

from pathlib import Path

from textual import events
from textual.message import Message
from textual.widgets import TextArea

from autopilot.tui import slash
from autopilot.tui.history import InputHistory

NEWLINE_KEYS = ("ctrl+j", "alt+enter", "newline")


class PromptInput(TextArea):
    class Submitted(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, history: InputHistory, workspace: Path | None) -> None:
        super().__init__(
            id="prompt",
            soft_wrap=True,
            tab_behavior="focus",
            placeholder="Ask for a task… (Enter send · ctrl+j newline · /help)",
            compact=True,
        )
        self.input_history = history
        self.workspace = workspace

    async def _on_key(self, event: events.Key) -> None:
        key = event.key
        if key == "enter":
            self._handled(event)
            self.submit()
            return
        if key in NEWLINE_KEYS:
            self._handled(event)
            self.insert("\n")
            return
        if key == "tab" and self.suggestion:
            self._handled(event)
            self.insert(self.suggestion)
            return
        if key == "up" and self.cursor_location[0] == 0:
            previous = self.input_history.previous(self.text)
            if previous is not None:
                self._handled(event)
                self._show(previous)
            return
        if key == "down" and self.cursor_location[0] == self.document.line_count - 1:
            following = self.input_history.next()
            if following is not None:
                self._handled(event)
                self._show(following)
            return
        await super()._on_key(event)

    @staticmethod
    def _handled(event: events.Key) -> None:
        event.stop()
        event.prevent_default()

    def _show(self, text: str) -> None:
        self.load_text(text)
        self.move_cursor(self.document.end)

    def submit(self) -> None:
        text = self.text
        if not text.strip():
            return
        self.input_history.add(text)
        self.load_text("")
        self.post_message(self.Submitted(text))

    def update_suggestion(self) -> None:
        if self.cursor_location != self.document.end:
            self.suggestion = ""
            return
        self.suggestion = slash.complete(self.text, self.workspace)

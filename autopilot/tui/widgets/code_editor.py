"""``CodeEditor``: edit a proposed block before it runs (ctrl+s runs it, Esc cancels)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static, TextArea


class CodeEditor(Vertical):
    BINDINGS: ClassVar = [
        Binding("ctrl+s", "confirm", "Run edited code", priority=True),
        Binding("escape", "cancel", "Cancel edit", priority=True),
    ]

    class Confirmed(Message):
        def __init__(self, editor: CodeEditor, code: str) -> None:
            super().__init__()
            self.editor = editor
            self.code = code

    class Cancelled(Message):
        def __init__(self, editor: CodeEditor) -> None:
            super().__init__()
            self.editor = editor

    def __init__(self, code: str, language: str = "python") -> None:
        super().__init__()
        self.code = code
        self.language = language

    def compose(self) -> ComposeResult:
        language = self.language if self.language in ("python", "bash") else None
        yield TextArea.code_editor(self.code, language=language, id="code-editor-area")
        yield Static(
            "[@click=confirm][reverse] ctrl+s [/reverse] run edited code[/]  "
            "[@click=cancel][reverse] esc [/reverse] back[/]",
            classes="editor-keys",
        )

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_confirm(self) -> None:
        self.post_message(self.Confirmed(self, self.query_one(TextArea).text))

    def action_cancel(self) -> None:
        self.post_message(self.Cancelled(self))

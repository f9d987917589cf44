"""``QuestionView``: the agent asks the person something; Enter answers."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Static


class QuestionView(Vertical):
    def __init__(self, question: str, future: asyncio.Future[str]) -> None:
        super().__init__(classes="question")
        self.question = question
        self.future = future

    def compose(self) -> ComposeResult:
        yield Static(Text("? " + self.question, style="bold"))
        yield Input(placeholder="your answer — Enter")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, message: Input.Submitted) -> None:
        message.stop()
        if not self.future.done():
            self.future.set_result(message.value)
        message.input.disabled = True
        self.app.query_one("PromptInput").focus()

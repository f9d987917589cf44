"""``FinalAnswerView``: the answer of a turn, set apart in a frame."""

from __future__ import annotations

from textual.widgets import Markdown


class FinalAnswerView(Markdown):
    def __init__(self, text: str) -> None:
        super().__init__(text, classes="final-answer")
        self.border_title = "Answer"

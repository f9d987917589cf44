"""``Conversation``: the scrolling column of messages, code blocks and answers.

It is *anchored*: while the person is at the bottom new content keeps it there; once
they scroll up it stays where they are until they come back to the bottom.
"""

from __future__ import annotations

from textual.containers import VerticalScroll


class Conversation(VerticalScroll, can_focus=False):
    def on_mount(self) -> None:
        self.anchor()

"""``InputHint``: one line under the input — the keys, or the commands matching a ``/``."""

from __future__ import annotations

from textual.widgets import Static

from autopilot.tui import slash

DEFAULT = (
    "[b]Enter[/b] send · [b]^j[/b] newline · [b]↑↓[/b] history · [b]/[/b] commands · "
    "[b]Esc[/b] stop · [b]^p[/b] palette"
)


class InputHint(Static):
    def __init__(self) -> None:
        super().__init__(DEFAULT)

    def show_for(self, text: str, *, busy: bool, queued: int) -> None:
        hits = slash.matching(text)
        if hits:
            self.update("  ".join(f"[b]{c.usage}[/b] [dim]{c.help}[/dim]" for c in hits[:4]))
            return
        if busy:
            waiting = f"{queued} queued" if queued else "Enter queues a message"
            self.update(
                f"[$accent]working[/] — {waiting} · [b]Esc[/b] interrupts · [b]^j[/b] newline"
            )
            return
        self.update(DEFAULT)

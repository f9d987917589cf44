"""``OutputView``: a cell's stdout/stderr, streamed, coalesced and folded.

Chunks are buffered and drawn at most every ``FLUSH_S`` seconds, so a cell printing
megabytes costs a handful of repaints, not one per chunk. Only the last ``KEEP_LINES``
lines are kept (the full output lives in the sandbox's workspace file); while folded only
the last ``FOLD_LINES`` are drawn.
"""

from __future__ import annotations

from collections import deque
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding
from textual.events import Click
from textual.widgets import Static

FLUSH_S = 0.05
KEEP_LINES = 2000
FOLD_LINES = 12
MAX_LINE_CHARS = 2000


class OutputView(Static, can_focus=True):
    BINDINGS: ClassVar = [
        Binding("enter,o", "toggle_fold", "Fold/unfold", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.lines: deque[tuple[str, bool]] = deque(maxlen=KEEP_LINES)
        self.total_lines = 0
        self.folded = True
        self._pending: list[tuple[str, bool]] = []
        self._open_line = False  # the last kept line has no newline yet
        self._flush_scheduled = False
        self.display = False

    # --- feeding --------------------------------------------------------------------

    def append(self, text: str, *, stderr: bool = False) -> None:
        if not text:
            return
        self._pending.append((text, stderr))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.set_timer(FLUSH_S, self.flush)

    def flush(self) -> None:
        self._flush_scheduled = False
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        for text, stderr in pending:
            self._add_text(text, stderr)
        self.display = True
        self._redraw()

    def _add_text(self, text: str, stderr: bool) -> None:
        pieces = text.split("\n")
        first, rest = pieces[0], pieces[1:]
        if self._open_line and self.lines:
            old, old_err = self.lines[-1]
            self.lines[-1] = (_clip(old + first), old_err or stderr)
        elif first or rest:
            self._push(first, stderr)
        for piece in rest:
            self._push(piece, stderr)
        # A chunk ending in "\n" leaves an empty open line behind: drop it from the count.
        self._open_line = not text.endswith("\n")
        if text.endswith("\n") and self.lines and self.lines[-1][0] == "":
            self.lines.pop()
            self.total_lines -= 1

    def _push(self, line: str, stderr: bool) -> None:
        self.lines.append((_clip(line), stderr))
        self.total_lines += 1

    # --- folding --------------------------------------------------------------------

    @property
    def hidden_lines(self) -> int:
        shown = min(len(self.lines), FOLD_LINES) if self.folded else len(self.lines)
        return self.total_lines - shown

    @property
    def foldable(self) -> bool:
        return self.total_lines > FOLD_LINES

    def action_toggle_fold(self) -> None:
        self.folded = not self.folded
        self._redraw()

    def on_click(self, event: Click) -> None:
        if self.foldable:
            self.action_toggle_fold()

    def _redraw(self) -> None:
        lines = list(self.lines)
        if self.folded:
            lines = lines[-FOLD_LINES:]
        text = Text()
        hidden = self.total_lines - len(lines)
        if hidden > 0:
            how = "ctrl+o or click to expand" if self.folded else "older lines were dropped"
            text.append(f"… {hidden} lines hidden ({how})\n", style="dim italic")
        elif not self.folded and self.foldable:
            text.append("(ctrl+o or click to fold)\n", style="dim italic")
        for index, (line, stderr) in enumerate(lines):
            text.append(line, style="red" if stderr else "")
            if index < len(lines) - 1:
                text.append("\n")
        self.update(text)

    @property
    def plain(self) -> str:
        return "\n".join(line for line, _ in self.lines)


def _clip(line: str) -> str:
    if len(line) <= MAX_LINE_CHARS:
        return line
    return line[:MAX_LINE_CHARS] + f" … ({len(line) - MAX_LINE_CHARS} more characters)"

"""``AssistantMessageView``: the assistant's reply, streamed as Markdown."""

from __future__ import annotations

import re

from textual.widgets import Markdown
from textual.widgets.markdown import MarkdownStream

# Deltas are handed to the Markdown stream at most this often: every append re-lays out
# the conversation, and 200 tokens/s would otherwise mean ~30 layouts a second.
FLUSH_S = 0.08

_FENCE = re.compile(r"```[\w+-]*[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)


class AssistantMessageView(Markdown):
    def __init__(self, step: int) -> None:
        super().__init__("", classes="assistant-message")
        self.step = step
        self.text = ""
        self._stream: MarkdownStream | None = None
        self._pending: list[str] = []
        self._flush_scheduled = False

    async def write(self, fragment: str) -> None:
        if self._stream is None:
            self._stream = Markdown.get_stream(self)
        self.text += fragment
        self._pending.append(fragment)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.set_timer(FLUSH_S, self._flush)

    async def _flush(self) -> None:
        self._flush_scheduled = False
        if self._stream is not None and self._pending:
            pending, self._pending = "".join(self._pending), []
            await self._stream.write(pending)

    async def finish(self, text: str | None = None) -> None:
        """End streaming; ``text`` (the whole reply) replaces what was streamed."""
        if self._stream is not None:
            await self._flush()
            stream, self._stream = self._stream, None
            await stream.stop()
        if text is not None and text != self.text:
            self.text = text
            await self.update(text)

    @property
    def streaming(self) -> bool:
        return self._stream is not None

    async def drop_code(self, code: str) -> None:
        """Remove the fenced block that became a code block widget (it is shown there)."""
        await self.finish()
        prose = without_code(self.text, code)
        if prose != self.text:
            self.text = prose
            await self.update(prose)
        self.display = bool(prose.strip())


def without_code(text: str, code: str) -> str:
    """``text`` minus the fenced block holding ``code`` (else minus its last fenced block)."""
    matches = list(_FENCE.finditer(text))
    if not matches:
        return text
    wanted = code.strip()
    chosen = next((m for m in matches if m.group(1).strip() == wanted), matches[-1])
    return (text[: chosen.start()] + text[chosen.end() :]).strip()

"""What of a cell's output is kept for the model: head + tail, the rest in a file.

The person sees every chunk as it streams; the model gets at most ``cap`` characters per
stream (the first and last halves with a marker saying what was cut) and, when something
was cut, the path of a workspace file that holds the whole output in order. Memory stays
bounded however much a cell prints: once past the cap, text goes straight to the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

from autopilot.safe_paths import open_below


class _StreamKeeper:
    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.half = max(cap // 2, 1)
        self.head: list[str] = []
        self.head_len = 0
        self.tail: list[str] = []
        self.tail_len = 0
        self.total = 0

    def add(self, text: str) -> None:
        self.total += len(text)
        room = self.cap - self.head_len
        if room > 0:
            self.head.append(text[:room])
            self.head_len += min(room, len(text))
            text = text[room:]
        if text:
            self.tail.append(text)
            self.tail_len += len(text)
            while self.tail and self.tail_len - len(self.tail[0]) >= self.half:
                self.tail_len -= len(self.tail.pop(0))

    @property
    def truncated(self) -> bool:
        return self.total > self.cap

    def render(self, where: str) -> str:
        head = "".join(self.head)
        if not self.truncated:
            return head
        tail = (head + "".join(self.tail))[-self.half :]
        cut = self.total - len(tail) - self.half
        return (
            f"{head[: self.half]}\n[... {cut:,} characters cut; the full output is in "
            f"{where} ...]\n{tail}"
        )


class OutputCollector:
    """Collects one cell's stdout/stderr; see the module docstring."""

    def __init__(
        self, cap: int, host_path: Path, shown_path: str, root: Path | None = None
    ) -> None:
        self.unlimited = cap <= 0
        self.cap = cap if cap > 0 else 1 << 62
        self.host_path = host_path
        self.shown_path = shown_path
        # Below ``root`` (the workspace: the sandbox writes there too) no link is followed.
        self.root = root if root is not None else host_path.parent
        self.save_error: str | None = None
        self.streams = {"stdout": _StreamKeeper(self.cap), "stderr": _StreamKeeper(self.cap)}
        self._held: list[str] = []
        self._held_len = 0
        self._file: IO[str] | None = None

    def add(self, stream: str, text: str) -> None:
        if not text:
            return
        self.streams[stream].add(text)
        if self._file is not None:
            self._file.write(text)
            return
        if self.save_error is not None:
            return
        self._held.append(text)
        self._held_len += len(text)
        if self._held_len > self.cap:
            self._spill()

    def _spill(self) -> None:
        held, self._held = self._held, []
        try:
            self._file = open_below(self.root, self.host_path)
        except OSError as exc:
            self.save_error = exc.strerror or type(exc).__name__
            return
        self._file.writelines(held)

    @property
    def truncated(self) -> bool:
        return any(keeper.truncated for keeper in self.streams.values())

    def finish(self) -> tuple[str, str, bool, str | None]:
        """``(stdout, stderr, truncated, full_output_path)`` for the ExecResult."""
        truncated = self.truncated
        if truncated and self._file is None and self.save_error is None:
            self._spill()
        if self._file is not None:
            self._file.close()
            self._file = None
        saved = truncated and self.save_error is None
        where = self.shown_path if saved else f"a file that could not be saved ({self.save_error})"
        return (
            self.streams["stdout"].render(where),
            self.streams["stderr"].render(where),
            truncated,
            self.shown_path if saved else None,
        )

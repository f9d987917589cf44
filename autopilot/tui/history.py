"""Input history shared by every session of a user, stored as JSON lines (one entry each,
so multi-line messages survive)."""

from __future__ import annotations

import json
from pathlib import Path


class InputHistory:
    def __init__(self, path: Path | None, *, max_entries: int = 1000) -> None:
        self.path = path
        self.max_entries = max_entries
        self.entries: list[str] = self._load()
        self._index = len(self.entries)  # len(entries) means "the draft being typed"
        self._draft = ""

    def _load(self) -> list[str]:
        if self.path is None or not self.path.exists():
            return []
        entries: list[str] = []
        try:
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    value = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a torn line from a crash: skip it, keep the rest
                if isinstance(value, str):
                    entries.append(value)
        except OSError:
            return []
        return entries[-self.max_entries :]

    def add(self, text: str) -> None:
        self._index = len(self.entries)
        if not text.strip() or (self.entries and self.entries[-1] == text):
            self._index = len(self.entries)
            return
        self.entries.append(text)
        self._index = len(self.entries)
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(text) + "\n")
            if len(self.entries) > 2 * self.max_entries:
                self._compact()
        except OSError:
            pass  # history is a convenience: never fail a message because of it

    def _compact(self) -> None:
        assert self.path is not None
        self.entries = self.entries[-self.max_entries :]
        self._index = len(self.entries)
        self.path.write_text("".join(json.dumps(e) + "\n" for e in self.entries), "utf-8")

    def previous(self, current: str) -> str | None:
        """The entry before the one shown; ``None`` at the oldest."""
        if self._index == len(self.entries):
            self._draft = current
        if self._index == 0:
            return None
        self._index -= 1
        return self.entries[self._index]

    def next(self) -> str | None:
        """The entry after the one shown, the draft after the newest; ``None`` past it."""
        if self._index >= len(self.entries):
            return None
        self._index += 1
        return self._draft if self._index == len(self.entries) else self.entries[self._index]

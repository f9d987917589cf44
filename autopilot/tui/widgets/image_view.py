"""``ImageView``: an image a cell produced, as a path the person can open."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.widgets import Static


class ImageView(Static):
    def __init__(self, path: str, width: int = 0, height: int = 0) -> None:
        size = f" {width}×{height}" if width and height else ""
        text = Text("🖼  image" + size + ": ", style="bold")
        text.append(path, style=f"underline link {Path(path).resolve().as_uri()}")
        super().__init__(text, classes="image-output")
        self.path = path

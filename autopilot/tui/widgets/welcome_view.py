"""``WelcomeView``: what Autopilot is, the keys, and how to configure a model if none is."""

from __future__ import annotations

from textual.widgets import Static

SHORT_KEYS = (
    "Enter sends, ctrl+j adds a line, Esc interrupts. On a code block: y run · a always · "
    "e edit · n skip. !cmd runs a shell command in the sandbox, @path names a file. /help"
)


class WelcomeView(Static):
    def __init__(self, *, model: str, version: str) -> None:
        super().__init__(_text(model, version), classes="welcome")


def _text(model: str, version: str) -> str:
    lines = [
        f"[b]Autopilot[/b] {version} — ask for a task; I answer by running Python in a sandbox.",
        "",
    ]
    if model:
        lines.append(f"Model: [b]{_esc(model)}[/b]. Type a task and press Enter.")
    else:
        lines += [
            "[b $warning]No model is configured.[/] Set one up, then start again:",
            "  [b]autopilot config set model openai/gpt-4o-mini[/b]   (any litellm model name)",
            "  [b]autopilot keys set openai[/b]                       (stores the API key)",
            "  local server: [b]autopilot config set api_base http://localhost:8080/v1[/b]",
            "  no API key: [b]autopilot --local[/b]                 (a small model, runs here)",
        ]
    lines += ["", f"[dim]{_esc(SHORT_KEYS)}[/dim]"]
    return "\n".join(lines)


def _esc(text: str) -> str:
    return text.replace("[", r"\[")

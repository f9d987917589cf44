"""``StatusLine``: model, user, sandbox state, approval mode, tokens, context use, cost."""

from __future__ import annotations

import re

from textual.widgets import Static

from autopilot.events import Usage

SANDBOX_STYLE = {
    "starting": "$warning",
    "restarting": "$warning",
    "ready": "$success",
    "busy": "$accent",
    "restarted": "$error",
    "failed": "$error",
    "stopped": "$text-muted",
}


class StatusLine(Static):
    def __init__(self, *, model: str, user: str, mode: str) -> None:
        super().__init__("", markup=True)
        self.model = model or "no model"
        self.user = user
        self.mode = mode
        self.sandbox = "starting"
        self.sandbox_detail = ""
        self.tokens = 0
        self.context_pct: float | None = None
        self.cost: float | None = None

    def on_mount(self) -> None:
        self._redraw()

    def add_usage(self, usage: Usage) -> None:
        self.tokens += usage.prompt_tokens + usage.completion_tokens
        if usage.context_window:
            self.context_pct = 100.0 * usage.prompt_tokens / usage.context_window
        if usage.cost_usd is not None:
            self.cost = (self.cost or 0.0) + usage.cost_usd
        self._redraw()

    def set(self, **values: object) -> None:
        for name, value in values.items():
            setattr(self, name, value)
        self._redraw()

    def reset_usage(self) -> None:
        self.tokens, self.context_pct, self.cost = 0, None, None
        self._redraw()

    def on_resize(self) -> None:
        self._redraw()

    def _redraw(self) -> None:
        width = (self.size.width or 80) - 2
        text = self._line(long=True)
        if _visible_len(text) > width:
            text = self._line(long=False)
        self.update(text)

    def _line(self, *, long: bool) -> str:
        sandbox_style = SANDBOX_STYLE.get(self.sandbox, "$text-muted")
        sandbox = self.sandbox
        if self.sandbox == "restarted":
            sandbox = "restarted — state lost" if long else "restarted, state lost"
        usage = [f"{_tokens(self.tokens)} tok"]
        if self.context_pct is not None:
            usage.append(f"{self.context_pct:.0f}% ctx")
        if self.cost is not None:
            usage.append(f"${self.cost:.4f}" if self.cost < 1 else f"${self.cost:.2f}")
        parts = [
            f"[b]{_esc(_short(self.model, 24 if long else 18))}[/b]",
            _esc(_short(self.user, 12)),
            f"{'sandbox' if long else 'sbx'} [{sandbox_style}]{sandbox}[/]",
            f"{self.mode} mode" if long else self.mode,
            " · ".join(usage),
        ]
        return " │ ".join(parts)


def _visible_len(markup: str) -> int:
    return len(re.sub(r"\[[^\]]*\]", "", markup))


def _tokens(n: int) -> str:
    return f"{n / 1000:.1f}k" if n >= 1000 else str(n)


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else "…" + text[-(width - 1) :]


def _esc(text: str) -> str:
    return text.replace("[", r"\[")

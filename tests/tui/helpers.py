"""Small helpers for Pilot-driven TUI tests."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot

from autopilot.tui.app import AutopilotApp


async def wait_until(pilot: Pilot[int], check: Callable[[], object], timeout: float = 5.0) -> None:
    """Let the app run until ``check()`` is truthy; fail with a clear message otherwise."""
    waited = 0.0
    while not check():
        if waited >= timeout:
            raise AssertionError(f"condition not met within {timeout}s: {check}")
        await pilot.pause(0.02)
        waited += 0.02


async def type_text(pilot: Pilot[int], text: str) -> None:
    keys = ["space" if c == " " else c for c in text]
    await pilot.press(*keys)


async def send(pilot: Pilot[int], text: str) -> None:
    await type_text(pilot, text)
    await pilot.press("enter")


def widgets(app: AutopilotApp, kind: str) -> list:
    return list(app.query(kind))


def toasts(app: AutopilotApp) -> list[str]:
    return [n.message for n in app._notifications]


def screen_text(app: AutopilotApp) -> str:
    """The plain text currently on screen (the conversation as rendered)."""
    return "\n".join(
        "".join(segment.text for segment in line) for line in app.screen._compositor.render_strips()
    )

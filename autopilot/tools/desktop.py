"""``desktop.*``: the real screen, mouse and keyboard (pyautogui + Pillow), all blocking.

pyautogui connects to the X server when imported, so it is imported on first use, after
checking there is a display. Coordinates are in screen pixels: ``screenshot()`` scales the
image down to at most 1280 pixels wide and says the factor, so the model can map back.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
from pathlib import Path
from typing import Any

from autopilot.errors import ToolError
from autopilot.sandbox.base import ExecImage

MAX_WIDTH = 1280
NO_DISPLAY = "no display: set DISPLAY or run under a desktop session"

_lock = threading.Lock()
_pyautogui: Any = None


def _require_display() -> str:
    display = os.environ.get("DISPLAY", "")
    if not display and not os.environ.get("WAYLAND_DISPLAY"):
        raise ToolError(NO_DISPLAY)
    return display


def gui() -> Any:
    """pyautogui, imported on first use (it connects to the display at import)."""
    global _pyautogui
    _require_display()
    with _lock:
        if _pyautogui is None:
            # python-xlib reads ~/.Xauthority and fails when it is missing, even when the
            # server needs no cookie (Xvfb): an empty file is what `xauth` would create.
            xauthority = Path(os.environ.get("XAUTHORITY") or Path.home() / ".Xauthority")
            with contextlib.suppress(OSError):
                xauthority.touch(exist_ok=True)
            try:
                # python-xlib prints "no xauthority details" to stdout when the file is
                # empty: keep it off the terminal the TUI owns.
                with contextlib.redirect_stdout(io.StringIO()):
                    import pyautogui
            except Exception as exc:  # Xlib raises its own errors for a dead display
                raise ToolError(f"{NO_DISPLAY} ({type(exc).__name__}: {exc})") from None
            pyautogui.FAILSAFE = False  # the corner fail-safe would kill agent runs at random
            pyautogui.PAUSE = 0.05
            _pyautogui = pyautogui
    return _pyautogui


def screenshot() -> ExecImage:
    """A PNG of the whole screen, scaled to at most 1280 px wide (coordinates for click()
    are screen pixels: multiply by screen_size()["width"] / image width)."""
    _require_display()
    from PIL import ImageGrab

    try:
        image = ImageGrab.grab()
    except Exception as exc:
        raise ToolError(f"{NO_DISPLAY} ({exc})") from None
    return encode_png(image)


def encode_png(image: Any) -> ExecImage:
    if image.width > MAX_WIDTH:
        height = round(image.height * MAX_WIDTH / image.width)
        image = image.resize((MAX_WIDTH, height))
    buffer = io.BytesIO()
    # Level 1: screenshots are mostly flat colour; faster and nearly as small as the default.
    image.convert("RGB").save(buffer, format="PNG", compress_level=1)
    return ExecImage(png=buffer.getvalue(), width=image.width, height=image.height)


def screen_size() -> dict:
    """The screen size in pixels: {width, height}."""
    size = gui().size()
    return {"width": int(size[0]), "height": int(size[1])}


def click(x: int, y: int) -> str:
    """Left-click at screen pixel (x, y)."""
    _check_point(x, y)
    gui().click(x, y)
    return f"clicked at ({x}, {y})"


def double_click(x: int, y: int) -> str:
    """Double-click at screen pixel (x, y)."""
    _check_point(x, y)
    gui().doubleClick(x, y)
    return f"double-clicked at ({x}, {y})"


def right_click(x: int, y: int) -> str:
    """Right-click at screen pixel (x, y)."""
    _check_point(x, y)
    gui().rightClick(x, y)
    return f"right-clicked at ({x}, {y})"


def move(x: int, y: int) -> str:
    """Move the mouse pointer to screen pixel (x, y)."""
    _check_point(x, y)
    gui().moveTo(x, y)
    return f"moved to ({x}, {y})"


def drag(x1: int, y1: int, x2: int, y2: int) -> str:
    """Press the left button at (x1, y1), drag to (x2, y2) and release."""
    _check_point(x1, y1)
    _check_point(x2, y2)
    g = gui()
    g.moveTo(x1, y1)
    g.dragTo(x2, y2, duration=0.3, button="left")
    return f"dragged from ({x1}, {y1}) to ({x2}, {y2})"


def type(text: str) -> str:
    """Type text with the keyboard into whatever has the focus."""
    gui().write(text, interval=0.01)
    return f"typed {len(text)} characters"


def hotkey(*keys: str) -> str:
    """Press keys together, e.g. hotkey("ctrl", "s")."""
    if not keys:
        raise ToolError('desktop.hotkey needs at least one key, e.g. hotkey("ctrl", "c")')
    g = gui()
    unknown = [k for k in keys if k.lower() not in g.KEYBOARD_KEYS]
    if unknown:
        raise ToolError(
            f"desktop.hotkey: unknown key(s) {unknown}; e.g. ctrl, alt, shift, enter, a"
        )
    g.hotkey(*[k.lower() for k in keys])
    return "pressed " + "+".join(keys)


def scroll(amount: int) -> str:
    """Scroll the mouse wheel: positive scrolls up, negative down (in wheel clicks)."""
    gui().scroll(amount)
    return f"scrolled {amount}"


def _check_point(x: int, y: int) -> None:
    width, height = gui().size()
    if not (0 <= x < width and 0 <= y < height):
        raise ToolError(f"({x}, {y}) is off the screen, which is {width}x{height}")


TOOLS = [
    screenshot,
    screen_size,
    click,
    double_click,
    right_click,
    move,
    drag,
    type,
    hotkey,
    scroll,
]

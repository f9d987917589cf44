"""desktop.* on a real Xvfb display, against a real Tk window, through the bridge."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops

from autopilot.config import Config
from autopilot.errors import ToolError
from autopilot.policy import load_policy
from autopilot.sandbox.base import ToolRequest
from autopilot.tools import ToolBridge, create_registry, desktop
from tests.tools.fakes import EventLog, ScriptedInteraction

TK_APP = Path(__file__).parent / "tk_app.py"


@pytest.fixture
def display(xvfb_display: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DISPLAY", xvfb_display)
    return xvfb_display


@pytest.fixture
def tk_app(display: str, tmp_path: Path) -> Iterator[Path]:
    """The Tk test window; yields the path of its JSON state file."""
    state = tmp_path / "state.json"
    python = _python_with_tkinter()
    process = subprocess.Popen([python, str(TK_APP), str(state)], stderr=subprocess.PIPE)
    try:
        _wait_for(lambda: state.exists() and _read(state)["button"]["w"] > 1, what="the Tk window")
        yield state
    finally:
        process.terminate()
        process.wait(timeout=10)


def _python_with_tkinter() -> str:
    probe = subprocess.run([sys.executable, "-c", "import tkinter"], capture_output=True)
    return sys.executable if probe.returncode == 0 else "/usr/bin/python3"


def _read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def _wait_for(check: Any, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _bridge(
    answers: list | None = None, default: str = "once"
) -> tuple[ToolBridge, EventLog, ScriptedInteraction]:
    interaction = ScriptedInteraction(answers=list(answers or []), default=default)  # type: ignore[arg-type]
    log = EventLog()
    registry = create_registry(Config(), interaction, groups=("desktop",))
    return ToolBridge(registry, load_policy(Config()), interaction, log), log, interaction


def _image(result: dict) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(result["__image__"]))).convert("RGB")


def _center(box: dict[str, int]) -> dict[str, int]:
    return {"x": box["x"] + box["w"] // 2, "y": box["y"] + box["h"] // 2}


@pytest.mark.integration
async def test_click_and_type_into_a_real_window(tk_app: Path) -> None:
    bridge, log, interaction = _bridge()
    state = _read(tk_app)
    label = state["label"]
    region = (label["x"], label["y"], label["x"] + label["w"], label["y"] + label["h"])

    size = await bridge.handle(ToolRequest("0", "desktop.screen_size", {}))
    assert size == {"width": 1280, "height": 800}
    before = _image(await bridge.handle(ToolRequest("1", "desktop.screenshot", {})))
    assert before.size == (1280, 800)

    await bridge.handle(ToolRequest("2", "desktop.click", _center(state["button"])))
    _wait_for(lambda: _read(tk_app)["clicks"] == 1, what="the button press")

    await bridge.handle(ToolRequest("3", "desktop.click", _center(state["entry"])))
    await bridge.handle(ToolRequest("4", "desktop.type", {"text": "hello desktop"}))
    _wait_for(lambda: _read(tk_app)["text"] == "hello desktop", what="the typed text")
    await bridge.handle(ToolRequest("5", "desktop.hotkey", {"keys": ["home"]}))
    await bridge.handle(ToolRequest("6", "desktop.type", {"text": "X"}))
    _wait_for(lambda: _read(tk_app)["text"] == "Xhello desktop", what="Home, then X")
    await bridge.handle(ToolRequest("5b", "desktop.hotkey", {"keys": ["shift", "end"]}))
    await bridge.handle(ToolRequest("6b", "desktop.type", {"text": "!"}))
    _wait_for(lambda: _read(tk_app)["text"] == "X!", what="Shift+End selects, typing replaces")

    after = _image(await bridge.handle(ToolRequest("7", "desktop.screenshot", {})))
    changed = ImageChops.difference(before.crop(region), after.crop(region)).getbbox()
    assert changed is not None, "the screenshot does not show the label change"
    red = after.getpixel((label["x"] + 3, label["y"] + 3))
    assert red[0] > 150 and red[1] < 100, red  # the label turned red

    # every action asked the person (the default policy), screen_size did not
    asked = [r.tool for r in interaction.tool_requests]
    assert "desktop.screen_size" not in asked and asked.count("desktop.click") == 2
    assert [c.decision for c in log.called()][:2] == ["allow", "ask"]
    assert all(f.ok for f in log.finished())


@pytest.mark.integration
async def test_move_scroll_drag_double_and_right_click(display: str) -> None:
    bridge, _, _ = _bridge(default="always")
    for tool, args in [
        ("desktop.move", {"x": 10, "y": 20}),
        ("desktop.double_click", {"x": 30, "y": 30}),
        ("desktop.right_click", {"x": 40, "y": 40}),
        ("desktop.drag", {"x1": 50, "y1": 50, "x2": 80, "y2": 90}),
        ("desktop.scroll", {"amount": -3}),
    ]:
        assert isinstance(await bridge.handle(ToolRequest(tool, tool, args)), str)
    assert desktop.gui().position() == (80, 90)
    with pytest.raises(ToolError, match="off the screen, which is 1280x800"):
        await bridge.handle(ToolRequest("x", "desktop.click", {"x": 5000, "y": 1}))
    with pytest.raises(ToolError, match="unknown key"):
        await bridge.handle(ToolRequest("y", "desktop.hotkey", {"keys": ["hyperspace"]}))


@pytest.mark.integration
def test_screenshot_is_a_png_scaled_to_1280(display: str) -> None:
    shot = desktop.screenshot()
    assert shot.png.startswith(b"\x89PNG") and (shot.width, shot.height) == (1280, 800)
    wide = desktop.encode_png(Image.new("RGB", (2560, 1600), "blue"))
    assert (wide.width, wide.height) == (1280, 800)
    assert Image.open(io.BytesIO(wide.png)).size == (1280, 800)


def test_no_display_is_a_clear_tool_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    for action in (desktop.screenshot, desktop.screen_size, lambda: desktop.click(1, 1)):
        with pytest.raises(
            ToolError, match="no display: set DISPLAY or run under a desktop session"
        ):
            action()

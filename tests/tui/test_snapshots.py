"""SVG snapshots of the key screens at 80x24 (update with --snapshot-update, then look)."""

from __future__ import annotations

import pytest

from autopilot.config import Config
from autopilot.tui.app import AutopilotApp
from tests.tui.conftest import SIZE, fixed_clock
from tests.tui.fake_agent import code_turn
from tests.tui.helpers import send, wait_until, widgets
from tests.tui.test_commands import long_output_turn


@pytest.fixture(autouse=True)
def fixed_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("autopilot.tui.app.__version__", "0.0.0")


def test_welcome(snap_compare, make_app):
    app, _ = make_app([])
    assert snap_compare(app, terminal_size=SIZE)


def test_welcome_without_a_model(snap_compare, tmp_path):
    app = AutopilotApp(Config(user="tester"), clock=fixed_clock, workspace=tmp_path)
    assert snap_compare(app, terminal_size=SIZE)


def test_approval_prompt(snap_compare, make_app):
    app, made = make_app([code_turn(code="import math\nprint(math.factorial(20))")])

    async def run_before(pilot):
        await wait_until(pilot, lambda: made)
        await send(pilot, "what is 20 factorial?")
        await wait_until(pilot, lambda: widgets(app, "ApprovalBar"))

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_streamed_answer_with_code_and_output(snap_compare, make_app):
    app, made = make_app([code_turn()])

    async def run_before(pilot):
        await wait_until(pilot, lambda: made)
        await send(pilot, "what is 6*7?")
        await wait_until(pilot, lambda: widgets(app, "ApprovalBar"))
        await pilot.press("y")
        await wait_until(pilot, lambda: widgets(app, "FinalAnswerView") and not app.controller.busy)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_failed_cell(snap_compare, make_app):
    traceback = (
        "Traceback (most recent call last):\n"
        '  File "<cell>", line 1, in <module>\n'
        "ZeroDivisionError: division by zero\n"
    )
    turn = code_turn(
        code="print('about to fail')\n1 / 0",
        output="about to fail\n",
        ok=False,
        error=("ZeroDivisionError", "division by zero", traceback),
        answer="The cell failed: dividing by zero is undefined.",
    )
    app, made = make_app([turn])

    async def run_before(pilot):
        await wait_until(pilot, lambda: made)
        await send(pilot, "divide by zero")
        await wait_until(pilot, lambda: widgets(app, "ApprovalBar"))
        await pilot.press("y")
        await wait_until(pilot, lambda: widgets(app, "FinalAnswerView") and not app.controller.busy)
        block = widgets(app, "CodeBlockView")[0]
        block.scroll_visible(animate=False, top=True)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_long_folded_output(snap_compare, make_app):
    app, made = make_app([long_output_turn(5000)])

    async def run_before(pilot):
        await wait_until(pilot, lambda: made)
        await send(pilot, "print 5000 lines")
        await wait_until(pilot, lambda: not app.controller.busy and widgets(app, "CodeBlockView"))
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)

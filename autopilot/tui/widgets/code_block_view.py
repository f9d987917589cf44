"""``CodeBlockView``: one code action — highlighted code, its state, approval, live output."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from rich.syntax import Syntax
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Static

from autopilot.events import CodeFinished
from autopilot.interaction import CodeApproval
from autopilot.tui.widgets.approval_bar import CODE_OPTIONS, ApprovalBar
from autopilot.tui.widgets.code_editor import CodeEditor
from autopilot.tui.widgets.output_view import OutputView

STATE_STYLE = {
    "proposed": "$text-muted",
    "awaiting approval": "$warning",
    "approved": "$text-muted",
    "running": "$accent",
    "done": "$success",
    "failed": "$error",
    "interrupted": "$warning",
    "skipped": "$text-muted",
}


class CodeBlockView(Vertical):
    class Answered(Message):
        """The person answered the approval prompt of this block."""

        def __init__(self, view: CodeBlockView, approval: CodeApproval) -> None:
            super().__init__()
            self.view = view
            self.approval = approval

    def __init__(
        self, block_id: str, code: str, language: str, *, clock: Callable[[], float]
    ) -> None:
        super().__init__(classes="code-block")
        self.block_id = block_id
        self.code = code
        self.language = language or "python"
        self.state = "proposed"
        self.detail = ""
        self._clock = clock
        self._started_at: float | None = None
        self._ticker: Timer | None = None
        self._future: asyncio.Future[Any] | None = None

    def compose(self) -> ComposeResult:
        yield Static(self._header(), classes="code-header")
        yield Static(self._syntax(), classes="code-body")
        yield OutputView()
        yield Static("", classes="code-error", markup=False)

    @property
    def output(self) -> OutputView:
        return self.query_one(OutputView)

    def _syntax(self) -> Syntax:
        return Syntax(
            self.code.rstrip("\n"),
            self.language,
            theme="monokai",
            word_wrap=True,
            background_color="default",
        )

    def _header(self) -> str:
        label = self.state
        if self.state == "running" and self._started_at is not None:
            label = f"running {self._clock() - self._started_at:.1f}s"
        style = STATE_STYLE.get(self.state, "$text-muted")
        detail = f" · {self.detail}" if self.detail else ""
        return f"[b]{self.language}[/b] [{style}]● {label}[/]{_escape(detail)}"

    def set_state(self, state: str, detail: str = "") -> None:
        self.state = state
        self.detail = detail
        self.set_class(state == "failed", "-failed")
        self.set_class(state == "awaiting approval", "-awaiting")
        if self.is_mounted:
            self.query_one(".code-header", Static).update(self._header())

    def set_code(self, code: str) -> None:
        if code and code != self.code:
            self.code = code
            if self.is_mounted:
                self.query_one(".code-body", Static).update(self._syntax())

    # --- approval -----------------------------------------------------------------------

    async def ask(self, future: asyncio.Future[Any]) -> None:
        self._future = future
        self.set_state("awaiting approval")
        bar = ApprovalBar(CODE_OPTIONS)
        await self.mount(bar, after=self.query_one(".code-body"))
        bar.focus()

    @property
    def asking(self) -> bool:
        return self._future is not None and not self._future.done()

    def on_approval_bar_chosen(self, message: ApprovalBar.Chosen) -> None:
        message.stop()
        if message.choice == "edit":
            message.bar.remove()
            self.mount(CodeEditor(self.code, self.language), after=self.query_one(".code-body"))
            self.query_one(".code-body").display = False
        elif message.choice == "skip":
            message.bar.remove()
            reason = Input(placeholder="why skip? (optional, told to the model) — Enter")
            reason.add_class("skip-reason")
            self.mount(reason, after=self.query_one(".code-body"))
            reason.focus()
        else:
            message.bar.remove()
            self._answer(CodeApproval(message.choice))  # type: ignore[arg-type]

    def on_input_submitted(self, message: Input.Submitted) -> None:
        if "skip-reason" in message.input.classes:
            message.stop()
            message.input.remove()
            self._answer(CodeApproval("skip", reason=message.value.strip()))

    def on_code_editor_confirmed(self, message: CodeEditor.Confirmed) -> None:
        message.stop()
        message.editor.remove()
        self.set_code(message.code)
        self.query_one(".code-body").display = True
        self._answer(CodeApproval("edit", code=message.code))

    async def on_code_editor_cancelled(self, message: CodeEditor.Cancelled) -> None:
        message.stop()
        await message.editor.remove()
        self.query_one(".code-body").display = True
        if self.asking and self._future is not None:
            await self.ask(self._future)

    def _answer(self, approval: CodeApproval) -> None:
        if self._future is not None and not self._future.done():
            self._future.set_result(approval)
        self._future = None
        if approval.choice == "skip":
            self.set_state("skipped", approval.reason)
        else:
            self.set_state("approved", "always this session" if approval.choice == "always" else "")
        self.post_message(self.Answered(self, approval))

    def cancel_question(self) -> None:
        """The turn was interrupted while asking: drop the prompt widgets."""
        for widget in self.query("ApprovalBar, CodeEditor, .skip-reason"):
            widget.remove()
        self.query_one(".code-body").display = True
        self._future = None

    # --- running ------------------------------------------------------------------------

    def started(self, code: str) -> None:
        self.set_code(code)
        self._started_at = self._clock()
        self.set_state("running")
        if self._ticker is None:
            self._ticker = self.set_interval(0.5, self._tick)

    def _tick(self) -> None:
        if self.state == "running":
            self.query_one(".code-header", Static).update(self._header())

    def finished(self, event: CodeFinished) -> None:
        self._stop_ticker()
        self.output.flush()
        took = f"{event.duration_s:.2f}s"
        if event.interrupted:
            self.set_state("interrupted", took)
        elif event.ok:
            self.set_state("done", took)
        else:
            what = event.error_type or "error"
            if event.state_lost:
                what += " — sandbox restarted, state lost"
            self.set_state("failed", f"{what} · {took}")
        if event.value is not None and event.ok:
            self.output.append(f"→ {event.value}\n")
            self.output.flush()
        problem = (event.traceback or f"{event.error_type}: {event.error_message}").strip()
        has_problem = not event.ok and bool(event.traceback or event.error_message)
        # Some sandboxes stream the traceback as stderr too: show it once.
        if has_problem and problem not in self.output.plain:
            error = self.query_one(".code-error", Static)
            error.update(problem)
            error.display = True

    def interrupted(self) -> None:
        self._stop_ticker()
        self.cancel_question()
        if self.state in ("running", "awaiting approval", "proposed", "approved"):
            self.output.flush()
            self.set_state("interrupted")

    def _stop_ticker(self) -> None:
        if self._ticker is not None:
            self._ticker.stop()
            self._ticker = None


def _escape(text: str) -> str:
    return text.replace("[", r"\[")

"""Human-readable rendering of the event stream for terminals and pipes.

Used live (headless ``run``, the plain REPL) and to replay a log (``sessions show``).
Assistant text streams as it arrives; cells show their output and how they ended.
"""

from __future__ import annotations

from typing import TextIO

from autopilot import events as ev


def error_line(event: ev.ErrorEvent) -> str:
    return f"{event.message} — {event.hint}" if event.hint else event.message


class TextRenderer:
    """Writes events to ``out`` (the work) and ``err`` (errors, warnings, status)."""

    def __init__(self, out: TextIO, err: TextIO, *, replay: bool = False) -> None:
        self.out = out
        self.err = err
        self.replay = replay
        self._line_open = False  # the last thing written to ``out`` did not end a line
        self._last_reply = ""

    def show(self, event: ev.Event) -> None:
        handler = getattr(self, "_" + event.type, None)
        if handler is not None:
            handler(event)

    # --- output ---------------------------------------------------------------------------

    def _write(self, text: str) -> None:
        if text:
            self.out.write(text)
            self.out.flush()
            self._line_open = not text.endswith("\n")

    def _line(self, text: str) -> None:
        if self._line_open:
            self._write("\n")
        self._write(text + "\n")

    def _status(self, text: str) -> None:
        if self._line_open:
            self._write("\n")
        self.err.write(text + "\n")
        self.err.flush()

    # --- events ---------------------------------------------------------------------------

    def _session_started(self, event: ev.SessionStarted) -> None:
        if self.replay:
            resumed = " (resumed)" if event.resumed else ""
            self._line(f"# session {event.session_id}{resumed} — {event.model}")

    def _user_message(self, event: ev.UserMessage) -> None:
        if self.replay:
            self._line("")
            self._line("> " + event.text.replace("\n", "\n> "))
            self._line("")

    def _assistant_delta(self, event: ev.AssistantDelta) -> None:
        if not self.replay:
            self._write(event.text)

    def _assistant_message(self, event: ev.AssistantMessage) -> None:
        if self.replay:
            self._write(event.text)
        self._last_reply = event.text.strip()
        if self._line_open:
            self._write("\n")

    def _code_decision(self, event: ev.CodeDecision) -> None:
        if event.decision == "edit":
            self._line(f"[edited before running]\n{event.code.rstrip()}")
        elif event.decision in ("skip", "refused"):
            why = f": {event.reason}" if event.reason else ""
            self._line(f"[not run{why}]")

    def _code_started(self, event: ev.CodeStarted) -> None:
        self._line(f"[running {event.language} {event.block_id}]")

    def _output(self, event: ev.Output) -> None:
        self._write(event.text)

    def _image(self, event: ev.ImageOutput) -> None:
        self._line(f"[image {event.width}x{event.height}: {event.path}]")

    def _code_finished(self, event: ev.CodeFinished) -> None:
        if event.value is not None:
            self._line(f"→ {event.value}")
        if event.state_lost:
            self._line("[the sandbox restarted: its state was lost]")
        elif event.interrupted:
            self._line("[interrupted]")
        elif not event.ok:
            self._line(f"[error] {event.error_type}: {event.error_message}")

    def _final_answer(self, event: ev.FinalAnswer) -> None:
        if event.text.strip() != self._last_reply:
            self._line("")
            self._line(event.text)

    def _error(self, event: ev.ErrorEvent) -> None:
        self._status(f"error: {error_line(event)}")

    def _notice(self, event: ev.Notice) -> None:
        self._status(f"{event.level}: {event.message}")

    def _sandbox_state(self, event: ev.SandboxState) -> None:
        # A failure is not shown here: the ErrorEvent that follows says it, with the hint.
        if event.state == "starting" and not self.replay:
            self._status("[starting the sandbox…]")

    def _interrupted(self, event: ev.InterruptedEvent) -> None:
        self._status("[interrupted]")

    def _turn_finished(self, event: ev.TurnFinished) -> None:
        if self._line_open:
            self._write("\n")

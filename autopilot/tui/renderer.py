"""``ConversationRenderer``: turns agent events into widgets, live or replayed from a log.

It runs on the app's event loop only (the app calls it from message handlers), keeps the
widgets of the current turn by id, and records the events it saw for ``/export``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.widget import Widget

from autopilot import events as ev
from autopilot.tui.widgets.assistant_message_view import AssistantMessageView
from autopilot.tui.widgets.code_block_view import CodeBlockView
from autopilot.tui.widgets.conversation import Conversation
from autopilot.tui.widgets.final_answer_view import FinalAnswerView
from autopilot.tui.widgets.image_view import ImageView
from autopilot.tui.widgets.notice_view import NoticeView
from autopilot.tui.widgets.status_line import StatusLine
from autopilot.tui.widgets.tool_call_view import ToolCallView
from autopilot.tui.widgets.user_message_view import UserMessageView

KEEP_OUTPUT_CHARS = 50_000  # per block, in the export record
# Items kept on screen. Every mount lays out the whole column, so a long session would get
# slower with each step; older items leave the screen (they stay in the log and /export).
MAX_ITEMS = 120


class ConversationRenderer:
    def __init__(
        self,
        conversation: Conversation,
        status: StatusLine,
        *,
        clock: Callable[[], float],
        notify: Callable[..., Any],
    ) -> None:
        self.conversation = conversation
        self.status = status
        self.clock = clock
        self.notify = notify
        self.blocks: dict[str, CodeBlockView] = {}
        self.tools: dict[str, ToolCallView] = {}
        self.assistant: AssistantMessageView | None = None
        self.record: list[ev.Event] = []
        self._kept_output: dict[str, int] = {}
        self.echo_pending: list[str] = []  # user texts already shown, to skip their echo
        self.session_id: str | None = None
        self.hidden_items = 0
        self._fold: NoticeView | None = None

    async def add(self, widget: Widget) -> Widget:
        await self.conversation.mount(widget)
        await self._trim()
        return widget

    async def _trim(self) -> None:
        items = [c for c in self.conversation.children if c is not self._fold]
        extra = len(items) - MAX_ITEMS
        if extra <= 0:
            return
        old = items[:extra]
        self.hidden_items += extra
        gone = set(map(id, old))
        self.blocks = {k: v for k, v in self.blocks.items() if id(v) not in gone}
        self.tools = {k: v for k, v in self.tools.items() if id(v) not in gone}
        if self.assistant is not None and id(self.assistant) in gone:
            self.assistant = None
        await self.conversation.remove_children(old)
        text = f"… {self.hidden_items} earlier items are off screen (/export saves everything)"
        if self._fold is None:
            self._fold = NoticeView(text)
            await self.conversation.mount(self._fold, before=0)
        else:
            self._fold.update(text)

    def _keep(self, event: ev.Event) -> None:
        if isinstance(event, ev.AssistantDelta):
            return
        if isinstance(event, ev.Output):
            used = self._kept_output.get(event.block_id, 0)
            if used >= KEEP_OUTPUT_CHARS:
                return
            self._kept_output[event.block_id] = used + len(event.text)
        self.record.append(event)

    async def render(self, event: ev.Event, *, live: bool = True) -> None:
        self._keep(event)
        handler = getattr(self, f"_on_{event.type}", None)
        if handler is not None:
            await handler(event, live)

    # --- conversation ---------------------------------------------------------------

    async def _on_session_started(self, event: ev.SessionStarted, live: bool) -> None:
        self.session_id = event.session_id
        if live:
            self.status.set(model=event.model or self.status.model, user=event.user)

    async def _on_user_message(self, event: ev.UserMessage, live: bool) -> None:
        if live and event.text in self.echo_pending:
            self.echo_pending.remove(event.text)
            return
        await self.add(UserMessageView(event.text))

    async def _on_assistant_delta(self, event: ev.AssistantDelta, live: bool) -> None:
        if not live:
            return
        view = self.assistant
        if view is None or view.step != event.step or (not view.streaming and view.text):
            view = self.assistant = AssistantMessageView(event.step)
            await self.add(view)
        await view.write(event.text)

    async def _on_assistant_message(self, event: ev.AssistantMessage, live: bool) -> None:
        view = self.assistant
        if view is not None and view.step == event.step and (view.streaming or not live):
            await view.finish(event.text)
            return
        if not event.text.strip():
            return
        view = self.assistant = AssistantMessageView(event.step)
        await self.add(view)
        await view.finish(event.text)

    # --- code -----------------------------------------------------------------------

    async def block(self, block_id: str, code: str = "", language: str = "python") -> CodeBlockView:
        view = self.blocks.get(block_id)
        if view is None:
            view = CodeBlockView(block_id, code, language, clock=self.clock)
            self.blocks[block_id] = view
            await self.add(view)
        return view

    async def _on_code_proposed(self, event: ev.CodeProposed, live: bool) -> None:
        if self.assistant is not None:
            await self.assistant.drop_code(event.code)
        await self.block(event.block_id, event.code, event.language)

    async def _on_code_decision(self, event: ev.CodeDecision, live: bool) -> None:
        view = await self.block(event.block_id, event.code)
        if event.decision == "skip":
            view.set_state("skipped", event.reason)
        elif event.decision == "refused":
            view.set_state("skipped", event.reason or "refused")
        else:
            if event.code:
                view.set_code(event.code)
            detail = {"always": "always this session", "edit": "edited"}.get(event.decision, "")
            if event.by == "mode":
                detail = "auto mode"
            view.set_state("approved", detail)

    async def _on_code_started(self, event: ev.CodeStarted, live: bool) -> None:
        view = await self.block(event.block_id, event.code, event.language)
        view.started(event.code)

    async def _on_output(self, event: ev.Output, live: bool) -> None:
        view = await self.block(event.block_id)
        view.output.append(event.text, stderr=event.stream == "stderr")

    async def _on_image(self, event: ev.ImageOutput, live: bool) -> None:
        image = ImageView(event.path, event.width, event.height)
        view = self.blocks.get(event.block_id)
        if view is not None:
            await view.mount(image)
        else:
            await self.add(image)

    async def _on_code_finished(self, event: ev.CodeFinished, live: bool) -> None:
        view = await self.block(event.block_id)
        view.finished(event)

    # --- tools ----------------------------------------------------------------------

    async def tool(self, call_id: str, tool: str, args: dict[str, Any]) -> ToolCallView:
        view = self.tools.get(call_id)
        if view is None:
            view = self.tools[call_id] = ToolCallView(call_id, tool, args)
            await self.add(view)
        return view

    async def _on_tool_called(self, event: ev.ToolCalled, live: bool) -> None:
        (await self.tool(event.call_id, event.tool, event.args)).called(event)

    async def _on_tool_finished(self, event: ev.ToolFinished, live: bool) -> None:
        (await self.tool(event.call_id, event.tool, {})).finished(event)

    # --- end of turn, status, problems ----------------------------------------------

    async def _on_final_answer(self, event: ev.FinalAnswer, live: bool) -> None:
        last = self.assistant
        if last is not None:
            await last.finish()
            if last.text.strip() == event.text.strip():
                await last.remove()  # the answer is shown once, in its frame
                self.assistant = None
        await self.add(FinalAnswerView(event.text))

    async def _on_usage(self, event: ev.Usage, live: bool) -> None:
        self.status.add_usage(event)

    async def _on_error(self, event: ev.ErrorEvent, live: bool) -> None:
        await self.add(NoticeView(event.message, level="error", hint=event.hint))
        if live:
            self.notify(event.message, title=event.kind, severity="error")

    async def _on_notice(self, event: ev.Notice, live: bool) -> None:
        await self.add(NoticeView(event.message, level=event.level))
        if live and event.level == "warning":
            self.notify(event.message, severity="warning")

    async def _on_sandbox_state(self, event: ev.SandboxState, live: bool) -> None:
        state = "restarted" if event.state_lost and event.state == "ready" else event.state
        self.status.set(sandbox=state, sandbox_detail=event.detail)
        if event.state_lost or event.state == "restarted":
            await self.add(NoticeView("sandbox restarted — its state was lost", level="warning"))
        elif event.state == "failed" and live:
            await self.add(NoticeView(f"sandbox failed: {event.detail}", level="error"))
            self.notify(event.detail or "the sandbox failed", title="Sandbox", severity="error")

    async def _on_interrupted(self, event: ev.InterruptedEvent, live: bool) -> None:
        await self.stop_turn(interrupted=True)
        await self.add(NoticeView("interrupted", level="warning"))

    async def _on_turn_finished(self, event: ev.TurnFinished, live: bool) -> None:
        # max_steps arrives as the agent's own Notice just before: it is not repeated here.
        await self.stop_turn(interrupted=event.reason == "interrupted")

    async def stop_turn(self, *, interrupted: bool) -> None:
        if self.assistant is not None and self.assistant.streaming:
            await self.assistant.finish()
        if interrupted:
            for view in self.blocks.values():
                view.interrupted()

    async def _on_suggestion(self, event: ev.Suggestion, live: bool) -> None:
        if live:
            self.notify(event.text, title="Suggestion")

    async def _on_memory_changed(self, event: ev.MemoryChanged, live: bool) -> None:
        await self.add(NoticeView(f"memory {event.operation}: {event.text}"))

    async def _on_skill_changed(self, event: ev.SkillChanged, live: bool) -> None:
        await self.add(NoticeView(f"skill {event.operation}: {event.name}"))

    def clear(self) -> None:
        self.hidden_items = 0
        self._fold = None
        self.blocks.clear()
        self.tools.clear()
        self.assistant = None

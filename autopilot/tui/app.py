"""``AutopilotApp``: the screen layout and the wiring between widgets, renderer and agent."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, ClassVar

from textual.app import App, ComposeResult, ScreenStackError, SystemCommand
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import TextArea

from autopilot import __version__
from autopilot.config import Config, user_data_dir_for
from autopilot.errors import ConfigError
from autopilot.tui import messages as msg
from autopilot.tui import sessions, slash
from autopilot.tui.commands import SlashCommands, error_event
from autopilot.tui.controller import AgentFactory, SessionController, default_agent_factory
from autopilot.tui.guards import freeze_startup_objects, guarded
from autopilot.tui.renderer import ConversationRenderer
from autopilot.tui.widgets.approval_bar import ApprovalBar
from autopilot.tui.widgets.code_block_view import CodeBlockView
from autopilot.tui.widgets.conversation import Conversation
from autopilot.tui.widgets.input_hint import InputHint
from autopilot.tui.widgets.notice_view import NoticeView
from autopilot.tui.widgets.output_view import OutputView
from autopilot.tui.widgets.prompt_input import PromptInput
from autopilot.tui.widgets.question_view import QuestionView
from autopilot.tui.widgets.status_line import StatusLine
from autopilot.tui.widgets.tool_call_view import ToolCallView
from autopilot.tui.widgets.user_message_view import UserMessageView
from autopilot.tui.widgets.welcome_view import WelcomeView

NO_MODEL = ConfigError(
    "no model is configured",
    hint="run `autopilot config set model PROVIDER/MODEL` and `autopilot keys set PROVIDER`",
)


class AutopilotApp(App[int]):
    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "Autopilot"
    BINDINGS: ClassVar = [
        Binding("escape", "interrupt", "Interrupt", show=False),
        Binding("ctrl+o", "toggle_output", "Fold/unfold output", show=False),
        Binding("pageup", "scroll_conversation(-1)", "Scroll up", show=False, priority=True),
        Binding("pagedown", "scroll_conversation(1)", "Scroll down", show=False, priority=True),
    ]

    def __init__(
        self,
        config: Config,
        *,
        resume: str | None = None,
        agent_factory: AgentFactory | None = None,
        clock: Callable[[], float] = time.monotonic,
        history_path: Path | None = None,
        workspace: Path | None = None,
        tune_gc: bool = False,
    ) -> None:
        """``tune_gc`` changes the process's garbage collector: only for the real program."""
        super().__init__()
        self.tune_gc = tune_gc
        self.config = config
        self.resume = resume
        self.clock = clock
        self.workspace = workspace or Path(config.sandbox.workspace or os.getcwd())
        self.controller = SessionController(self, config, agent_factory or default_agent_factory)
        self.commands_ = SlashCommands(self)
        user_dir = user_data_dir_for(config.effective_user)
        from autopilot.tui.history import InputHistory

        self.history = InputHistory(history_path or user_dir / "history")
        self._queued_views: list[UserMessageView] = []
        self._polled_state: str | None = None

    def compose(self) -> ComposeResult:
        yield StatusLine(
            model=self.config.model, user=self.config.effective_user, mode=self.config.approval_mode
        )
        with Conversation(id="conversation"):
            yield WelcomeView(model=self.config.model, version=__version__)
        yield PromptInput(self.history, self.workspace)
        yield InputHint()

    @property
    def status(self) -> StatusLine:
        return self.query_one(StatusLine)

    @property
    def prompt(self) -> PromptInput:
        return self.query_one(PromptInput)

    async def on_mount(self) -> None:
        self.renderer = ConversationRenderer(
            self.query_one(Conversation), self.status, clock=self.clock, notify=self.notify
        )
        self.prompt.focus()
        self.set_interval(0.5, self._poll_sandbox)
        if self.tune_gc:
            self.call_after_refresh(freeze_startup_objects)
        if self.resume is not None:
            self.call_after_refresh(self._resume_at_start, self.resume)
        elif self.config.model:
            self.controller.build()
        else:
            self.status.set(sandbox="stopped")

    def _poll_sandbox(self) -> None:
        """The agent reports the sandbox only inside turns; its warm-up shows from here."""
        sandbox = getattr(self.controller.agent, "sandbox", None)
        state = getattr(sandbox, "state", None)
        if not isinstance(state, str) or state == self._polled_state:
            return  # act on changes only, so an event's "restarted" is not overwritten
        self._polled_state = state
        self.status.set(sandbox="starting" if state == "new" else state)

    @guarded
    async def _resume_at_start(self, wanted: str) -> None:
        await self.resume_session(wanted)

    # --- sending --------------------------------------------------------------------

    @guarded
    async def on_prompt_input_submitted(self, message: PromptInput.Submitted) -> None:
        text = message.text
        command = slash.parse(text)
        if command is not None:
            await self.commands_.run(*command)
        elif text.startswith("!"):
            await self.run_shell(text[1:].strip())
        else:
            await self.send(text)

    async def send(self, text: str) -> None:
        controller = self.controller
        if controller.agent is None and not controller.building:
            raise controller.build_error or NO_MODEL
        if controller.can_send_now():
            await self.renderer.add(UserMessageView(text))
            self.renderer.echo_pending.append(text)
            controller.start_turn(text)
        else:
            view = UserMessageView(text, queued=True)
            await self.renderer.add(view)
            controller.queue.append(text)
            self._queued_views.append(view)
        self._update_hint()

    async def run_shell(self, command: str) -> None:
        if self.controller.busy:
            self.notify("the agent is working: wait, or press Esc", severity="warning")
            return
        await self.renderer.add(UserMessageView("!" + command))
        self.controller.run_shell(command)

    def _send_next_queued(self) -> None:
        controller = self.controller
        if controller.agent is None or controller.busy or not controller.queue:
            return
        text = controller.queue.popleft()
        if self._queued_views:
            self._queued_views.pop(0).mark_sent()
        self.renderer.echo_pending.append(text)
        controller.start_turn(text)
        self._update_hint()

    # --- from workers ---------------------------------------------------------------

    @guarded
    async def on_agent_event_posted(self, message: msg.AgentEventPosted) -> None:
        await self.renderer.render(message.event)

    def on_agent_ready(self, message: msg.AgentReady) -> None:
        self.controller.ready(message.agent)
        self._polled_state = None
        self._send_next_queued()

    @guarded
    async def on_agent_failed(self, message: msg.AgentFailed) -> None:
        self.controller.failed(message.error)
        if self.controller.agent is None:
            self.status.set(sandbox="stopped")
            for view in self._queued_views:
                view.remove()
            self._queued_views.clear()
            self.controller.queue.clear()
        await self.show_error(message.error)

    def on_turn_ended(self, message: msg.TurnEnded) -> None:
        self._send_next_queued()
        self._update_hint()

    @guarded
    async def on_code_approval_requested(self, message: msg.CodeApprovalRequested) -> None:
        request = message.request
        view = await self.renderer.block(request.block_id, request.code, request.language)
        await view.ask(message.future)
        view.scroll_visible(animate=False)

    @guarded
    async def on_tool_approval_requested(self, message: msg.ToolApprovalRequested) -> None:
        request = message.request
        view = await self.renderer.tool(request.call_id, request.tool, request.args)
        await view.ask(request, message.future)

    @guarded
    async def on_question_asked(self, message: msg.QuestionAsked) -> None:
        await self.renderer.add(QuestionView(message.question, message.future))

    def on_code_block_view_answered(self, message: CodeBlockView.Answered) -> None:
        self.status.set(mode=self.controller.interaction.mode)
        self.prompt.focus()

    def on_approval_bar_chosen(self, message: ApprovalBar.Chosen) -> None:
        owner = getattr(message.bar, "owner", None)
        if isinstance(owner, ToolCallView):
            owner.answer(message.bar, message.choice)
            self.prompt.focus()

    def on_text_area_changed(self, message: TextArea.Changed) -> None:
        if message.text_area is self.prompt:
            self._update_hint()

    def _update_hint(self) -> None:
        try:
            hint, prompt = self.query_one(InputHint), self.prompt
        except (NoMatches, ScreenStackError):
            return  # shutting down: a late message from a worker finds no widgets
        hint.show_for(prompt.text, busy=self.controller.busy, queued=len(self.controller.queue))

    # --- actions --------------------------------------------------------------------

    def action_interrupt(self) -> None:
        if self.controller.busy:
            self.run_worker(self.controller.interrupt(), group="interrupt", exit_on_error=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "scroll_conversation":
            # In the code editor PageUp/PageDown move its cursor instead.
            return not (self.focused is not None and self.focused.id == "code-editor-area")
        return True

    def action_scroll_conversation(self, direction: int) -> None:
        conversation = self.query_one(Conversation)
        if direction < 0:
            conversation.scroll_page_up(animate=False)
        else:
            conversation.scroll_page_down(animate=False)

    def action_toggle_output(self) -> None:
        outputs = [o for o in self.query(OutputView) if o.foldable]
        if outputs:
            outputs[-1].action_toggle_fold()
            outputs[-1].scroll_visible(animate=False)

    async def action_quit(self) -> None:
        await self.controller.close()
        self.exit(0)

    async def show_error(self, error: BaseException) -> None:
        event = error_event(error)
        await self.renderer.render(event)

    async def clear_conversation(self) -> None:
        await self.query_one(Conversation).remove_children()
        self.renderer.clear()

    async def resume_session(self, wanted: str) -> None:
        info = sessions.resolve(self.controller.config, wanted)
        loaded = sessions.load_events(info.path)
        await self.clear_conversation()
        for event in loaded:
            await self.renderer.render(event, live=False)
        self.renderer.session_id = info.session_id
        await self.renderer.add(NoticeView(f"resumed session {info.session_id}"))
        if self.controller.config.model:
            await self.controller.rebuild(self.controller.config, resume=info.session_id)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for command in slash.COMMANDS:
            yield SystemCommand(
                f"/{command.name}",
                command.help,
                functools.partial(self._palette_command, command.name),
            )

    @guarded
    async def _palette_command(self, name: str) -> None:
        await self.commands_.run(name, "")

"""The CodeAct loop: stream a reply, cut it at the first code block, approve, run, observe.

``Agent.turn`` is an async generator of :mod:`autopilot.events`; every event it yields is
appended to the session log first. A turn ends on a final answer (``final_answer(...)`` in
code, or a reply without code), the step limit, an error, or an interruption — always with
exactly one ``TurnFinished``, and with the history left consistent for the next turn.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autopilot import events as ev
from autopilot.agent import cells
from autopilot.agent.compaction import compact, estimate_tokens
from autopilot.agent.control import TurnControl, TurnInterrupted
from autopilot.agent.execution import CellRunner
from autopilot.agent.fences import Block, classify, strip_prompts
from autopilot.agent.observation import cap, format_result
from autopilot.agent.prompts import render, resolve_style, system_prompt
from autopilot.agent.repeats import GIVE_UP_AFTER, NOTE_AT, RepeatGuard, Verdict, error_hint
from autopilot.agent.resume import Restored, resume_note
from autopilot.agent.session import SessionLog
from autopilot.agent.streaming import Reply, stream_reply
from autopilot.config import Config
from autopilot.errors import AutopilotError, Interrupted, RuntimeFailure
from autopilot.interaction import CodeApprovalRequest, Interaction, RefuseAll
from autopilot.llm.base import LLM, ImagePart, LLMUsage, Message
from autopilot.sandbox.base import ExecResult, Sandbox


@dataclass
class _Outcome:
    reason: str | None = None  # set when the turn ends


class Agent:
    def __init__(
        self,
        *,
        llm: LLM,
        sandbox: Sandbox,
        interaction: Interaction,
        config: Config,
        session: SessionLog | None = None,
        tools: Any = None,
    ) -> None:
        self.llm = llm
        self.sandbox = sandbox
        self.interaction = interaction
        self.config = config
        self.session = session
        self.tools = tools
        self.history: list[Message] = []
        self.prompt_style = resolve_style(config.prompt_style, llm.model)
        self.system_prompt = system_prompt(tools, self.prompt_style)
        self._control = TurnControl()
        self._cells = CellRunner(
            sandbox,
            config,
            self._control,
            self._record,
            lambda: session.folder if session else None,
        )
        self._auto_approve = config.approval_mode == "auto"
        self._person_indexes: list[int] = []  # where the person's messages are in history
        self._background: set[asyncio.Task[Any]] = set()
        self._blocks = 0
        self._announced = False
        self._resumed = False
        self._repeats = RepeatGuard()
        self._last_attempt: Message | None = None  # the last one-block reply that ran
        self._last_step_failed = False
        self._nudged_after_error = False
        self._own_loop: asyncio.AbstractEventLoop | None = None
        self._pending: list[ev.Event] = []  # yielded at the start of the next turn
        if tools is not None:
            sandbox.set_tool_handler(getattr(tools, "handle", None), list(tools.specs()))

    # --- public API -----------------------------------------------------------------------

    @property
    def session_id(self) -> str | None:
        return self.session.session_id if self.session else None

    def start_sandbox(self) -> None:
        """Start the sandbox (and its prelude) in the background, if a loop is running."""
        self._cells.start_in_background()

    def restore(self, restored: Restored) -> None:
        """Take a resumed session's history and tell the model its sandbox is fresh."""
        self.history = list(restored.history)
        self._person_indexes = list(restored.person_indexes)
        self._blocks = restored.blocks
        self._resumed = True
        note = resume_note(restored.succeeded_cells)
        self.history.append(Message("user", note))
        self._pending.append(ev.Observation(text=note))  # logged after session_started

    def emit(self, event: ev.Event) -> None:
        """Let collaborators (host tools) add events to the running turn's stream."""
        if self._control.queue is not None:
            self._control.queue.put_nowait(event)
        else:
            self._record(event)

    async def interrupt(self) -> None:
        """Stop the LLM stream or the running cell; the turn then ends as interrupted."""
        if self._control.request_interrupt() == "code":
            # If this fails, the grace timeout in CellRunner abandons the cell.
            with contextlib.suppress(Exception):
                await self.sandbox.interrupt()

    def run(self, task: str) -> str:
        """Run one task to its end, approving every cell; return the final answer text."""
        from autopilot.interaction import AutoApprove

        async def go() -> str:
            saved, self.interaction = self.interaction, AutoApprove()
            answer, failure = "", None
            try:
                async for event in self.turn(task):
                    if isinstance(event, ev.FinalAnswer):
                        answer = event.text
                    elif isinstance(event, ev.ErrorEvent):
                        failure = event
                    elif isinstance(event, ev.TurnFinished) and event.reason == "interrupted":
                        raise Interrupted()
                    elif isinstance(event, ev.TurnFinished) and event.reason == "max_steps":
                        raise RuntimeFailure(f"no answer within {self.config.max_steps} steps")
            finally:
                self.interaction = saved
            if failure is not None:
                raise RuntimeFailure(failure.message, hint=failure.hint)
            return answer

        return self._sync_loop().run_until_complete(go())

    def close(self) -> None:
        """Synchronous :meth:`aclose`, for library use after :meth:`run`."""
        loop = self._sync_loop()
        loop.run_until_complete(self.aclose())
        loop.close()

    def set_approval_mode(self, mode: str) -> None:
        """``auto`` runs every block from now on; ``ask`` asks the person again."""
        if mode not in ("ask", "auto"):
            raise ValueError(f"unknown approval mode {mode!r}")
        self._auto_approve = mode == "auto"

    async def aclose(self) -> None:
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        try:
            await self._cells.close()
        finally:
            try:
                closer = getattr(self.tools, "aclose", None)
                if closer is not None:
                    await closer()  # the browser, when one was started
            finally:
                if self.session is not None:
                    self.session.close()

    # --- the turn -------------------------------------------------------------------------

    async def turn(self, text: str) -> AsyncIterator[ev.Event]:
        self._control.begin()
        self.start_sandbox()
        steps = 0
        outcome = _Outcome()
        try:
            if not self._announced:
                self._announced = True
                yield self._record(self._session_started())
                # The local backend runs code UNISOLATED: every front end must say so.
                if warning := getattr(self.sandbox, "warning", None):
                    yield self._record(ev.Notice(level="warning", message=str(warning)))
            while self._pending:
                yield self._record(self._pending.pop(0))
            yield self._record(ev.UserMessage(text=text))
            self._person_indexes.append(len(self.history))
            self.history.append(Message("user", text))
            self._last_step_failed = self._nudged_after_error = False
            self._repeats.reset()
            while outcome.reason is None:
                if self._control.interrupted:  # between steps: do not even ask the model
                    outcome.reason = "interrupted"
                    yield self._record(ev.InterruptedEvent(during="idle"))
                    break
                if steps >= self.config.max_steps:
                    outcome.reason = "max_steps"
                    message = f"stopped after {steps} steps (max_steps)"
                    yield self._record(ev.Notice(level="warning", message=message))
                    break
                steps += 1
                async for event in self._step(steps, outcome):
                    yield event
        except Exception as exc:  # a bug or an unexpected failure: end the turn cleanly
            outcome.reason = "error"
            yield self._record(_error_event(exc))
        finally:
            self._control.end()
            if self._background:
                await asyncio.wait(set(self._background), timeout=2)
        yield self._record(ev.TurnFinished(reason=outcome.reason, steps=steps))  # type: ignore[arg-type]

    async def _step(self, step: int, outcome: _Outcome) -> AsyncIterator[ev.Event]:
        yield self._record(ev.StepStarted(step=step))
        reply = Reply()
        prompt = self._prompt()
        async for event in stream_reply(
            self.llm, prompt, step, reply, self._control, self._record, self._background
        ):
            yield event
        if reply.text or reply.interrupted:
            kept = reply.text
            if reply.interrupted:
                kept = (kept + "\n\n" if kept else "") + render("interrupted_reply.txt")
            self.history.append(Message("assistant", kept))
            yield self._record(ev.AssistantMessage(text=reply.text, step=step))
        if reply.usage is not None or reply.text:
            # A stream stopped at the fence sends no usage: estimate it (~4 chars a token).
            usage = reply.usage or LLMUsage(estimate_tokens(prompt), max(1, len(reply.text) // 4))
            yield self._record(
                ev.Usage(
                    model=self.llm.model,
                    prompt_tokens=usage.prompt_tokens,
                    completion_tokens=usage.completion_tokens,
                    cost_usd=usage.cost_usd,
                    context_window=self.llm.context_window,
                )
            )
        if reply.error is not None:
            outcome.reason = "error"
            yield self._record(_error_event(reply.error))
            return
        if reply.interrupted:
            outcome.reason = "interrupted"
            yield self._record(ev.InterruptedEvent(during="llm"))
            return
        actions = [b for b in reply.blocks if classify(b) != "display"]
        if actions:
            async for event in self._act(step, actions, outcome):
                yield event
        elif self._last_step_failed and not self._nudged_after_error:
            # Never accept an answer right after an error without a look.
            self._nudged_after_error = True
            yield self._observe(step, [render("check_after_error.txt")], [])
        else:
            outcome.reason = "no_code"
            yield self._record(ev.FinalAnswer(text=reply.text.strip()))

    def _prompt(self) -> list[Message]:
        protected = self._person_indexes[-1] if self._person_indexes else None
        messages = compact(
            self.history,
            context_window=self.llm.context_window,
            reserved_tokens=len(self.system_prompt) // 4 + 1_000,
            protected=protected,
        )
        return [Message("system", self.system_prompt), *messages]

    # --- acting on the blocks -------------------------------------------------------------

    async def _act(
        self, step: int, actions: list[Block], outcome: _Outcome
    ) -> AsyncIterator[ev.Event]:
        notes: list[str] = []
        images: list[tuple[ImagePart, str]] = []
        final: str | None = None
        failed = False
        hint: str | None = None  # a failed cell's hint for the task reminder ("" : said already)
        for block in actions:
            kind = classify(block)
            self._blocks += 1
            block_id = f"b{self._blocks}"
            language = {"python": "python", "shell": "bash"}.get(kind, block.language)
            code = strip_prompts(block.code, block.language)
            yield self._record(ev.CodeProposed(block_id=block_id, language=language, code=code))
            if kind == "unsupported":
                yield self._record(
                    ev.CodeDecision(
                        block_id=block_id,
                        decision="refused",
                        reason="unsupported language",
                        by="mode",
                    )
                )
                notes.append(render("unsupported_language.txt", language=block.language))
                failed = True
                break
            try:
                if self._control.interrupted:
                    raise TurnInterrupted()
                decision = await self._decide(block_id, language, code)
            except TurnInterrupted:
                outcome.reason = "interrupted"
                notes.append(render("interrupted_reply.txt"))
                yield self._record(ev.InterruptedEvent(during="idle"))
                break
            yield self._record(decision)
            if decision.decision in ("skip", "refused"):
                reason = f" Reason: {decision.reason}." if decision.reason else ""
                notes.append(render("skipped.txt", reason_text=reason))
                if decision.decision == "refused":
                    outcome.reason = "error"
                    yield self._record(
                        ev.ErrorEvent(
                            kind="PermissionDenied",
                            message="code needs approval and there is no one to ask",
                            hint=decision.reason or None,
                        )
                    )
                break
            if decision.decision == "edit":
                code = decision.code
                notes.append(render("edited.txt", language=language, code=code.strip()))
            result: list[ExecResult] = []
            try:
                async for event in self._cells.run(block_id, language, code, result, images):
                    yield event
            except TurnInterrupted:
                outcome.reason = "interrupted"
                notes.append(render("interrupted_reply.txt"))
                yield self._record(ev.InterruptedEvent(during="code"))
                break
            except AutopilotError as exc:  # the sandbox could not start or broke for good
                outcome.reason = "error"
                notes.append(render("sandbox_failed.txt", error=str(exc)))
                yield self._record(_error_event(exc))
                break
            done = result[0]
            limit = self.config.sandbox.output_cap_chars
            notes.append(
                format_result(
                    done,
                    limit=limit,
                    image_notes=self._image_notes(done),
                    brief=self.prompt_style == "compact",
                )
            )
            if done.state_lost:
                notes.append(render("state_lost.txt"))
            if done.interrupted and self._control.interrupted:
                outcome.reason = "interrupted"
                notes.append(render("interrupted_cell.txt"))
                yield self._record(ev.InterruptedEvent(during="code"))
                break
            verdict = self._repeats.saw(code, done)
            self._forget_repeated_attempt(verdict, single=len(actions) == 1)
            if verdict.give_up:
                outcome.reason = "error"
                yield self._record(_error_event(_repeated_failure(verdict, done)))
                failed = not done.ok
                break
            if verdict.repeated:
                notes.append(self._repeat_note(verdict, done))
            if not done.ok:
                failed = True
                hint = "" if verdict.repeated else error_hint(done)
                break
            if kind == "python" and cells.mentions_final_answer(code):
                final = await self._cells.take_final_answer()
                if final is not None and self._needs_a_look(code):
                    notes.append(render("check_after_error.txt"))
                    final = None
                if final is not None:
                    break
        self._last_step_failed = failed
        if failed:
            self._nudged_after_error = False
        if self.prompt_style == "compact" and hint is not None and outcome.reason is None:
            notes.append(self._task_reminder(hint))
        yield self._observe(step, notes, images)
        if final is not None and outcome.reason is None:
            outcome.reason = "final_answer"
            yield self._record(ev.FinalAnswer(text=final))

    async def _decide(self, block_id: str, language: str, code: str) -> ev.CodeDecision:
        if self._auto_approve:
            return ev.CodeDecision(block_id=block_id, decision="run", code=code, by="mode")
        request = CodeApprovalRequest(block_id=block_id, language=language, code=code)
        answer = await self._control.race(self.interaction.approve_code(request))
        if answer.choice == "skip":
            if isinstance(self.interaction, RefuseAll):  # nobody there: not a person's "no"
                return ev.CodeDecision(
                    block_id=block_id, decision="refused", reason=answer.reason, by="mode"
                )
            return ev.CodeDecision(block_id=block_id, decision="skip", reason=answer.reason)
        if answer.choice == "edit" and answer.code and answer.code.strip():
            return ev.CodeDecision(block_id=block_id, decision="edit", code=answer.code)
        if answer.choice == "always":
            self._auto_approve = True
            return ev.CodeDecision(block_id=block_id, decision="always", code=code)
        return ev.CodeDecision(block_id=block_id, decision="run", code=code)

    def _needs_a_look(self, code: str) -> bool:
        """A cell that only calls final_answer right after a failure is checked once."""
        if (
            self._last_step_failed
            and not self._nudged_after_error
            and cells.only_final_answer(code)
        ):
            self._nudged_after_error = True
            return True
        return False

    def _forget_repeated_attempt(self, verdict: Verdict, *, single: bool) -> None:
        """Keep one copy of a repeated attempt in the prompt (the session log keeps all).

        The current reply is the last message; the previous identical attempt and its
        observation sit just before it — drop them if they belong to this turn.
        """
        previous, self._last_attempt = self._last_attempt, self.history[-1] if single else None
        if not (verdict.repeated and single and previous is not None):
            return
        start = len(self.history) - 3
        person = self._person_indexes[-1] if self._person_indexes else -1
        if start > person and self.history[start] is previous:
            del self.history[start : start + 2]

    def _repeat_note(self, verdict: Verdict, result: ExecResult) -> str:
        if verdict.repeats >= NOTE_AT + GIVE_UP_AFTER - 1:
            return render("loop_last_chance.txt", count=verdict.repeats, hint=error_hint(result))
        if result.ok:
            return render("loop_same_output.txt", count=verdict.repeats)
        return render("loop_breaker.txt", count=verdict.repeats, hint=error_hint(result))

    def _task_reminder(self, hint: str) -> str:
        """Small models lose the task after an error: restate it under the error.

        Only then: under every output it made the 0.5B copy it as its answer."""
        task = self.history[self._person_indexes[-1]].content if self._person_indexes else ""
        return render("task_reminder.txt", task=cap(task.strip(), 600), hint=hint)

    def _observe(
        self, step: int, notes: list[str], images: list[tuple[ImagePart, str]]
    ) -> ev.Event:
        text = "\n\n".join(notes)
        parts = tuple(part for part, _ in images) if self.llm.supports_vision else ()
        self.history.append(Message("user", text, parts))
        return self._record(ev.Observation(text=text, step=step, images=[p for _, p in images]))

    def _image_notes(self, result: ExecResult) -> list[str]:
        count = len(result.images)
        if not count:
            return []
        images = f"{count} image{'s' if count > 1 else ''}"
        name = "images_attached.txt" if self.llm.supports_vision else "images_not_seen.txt"
        return [render(name, images=images)]

    # --- bookkeeping ----------------------------------------------------------------------

    def _record(self, event: ev.Event) -> ev.Event:
        if self.session is not None:
            self.session.append(event)
        return event

    def _session_started(self) -> ev.SessionStarted:
        from autopilot import __version__

        return ev.SessionStarted(
            session_id=self.session_id or "",
            user=self.config.effective_user,
            model=self.llm.model,
            workspace=self.config.sandbox.workspace or str(Path.cwd()),
            version=__version__,
            resumed=self._resumed,
        )

    def _sync_loop(self) -> asyncio.AbstractEventLoop:
        if self._own_loop is None or self._own_loop.is_closed():
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                self._own_loop = asyncio.new_event_loop()
            else:
                raise RuntimeError(
                    "Agent.run() cannot be used inside an event loop; use `async for` on agent.turn()"
                )
        return self._own_loop


def _repeated_failure(verdict: Verdict, result: ExecResult) -> RuntimeFailure:
    error = result.error
    if error is None:
        what = "the same code with the same output"
    else:
        what = "the same failing code ("
        what += f"{error.type}: {error.message}".splitlines()[0][:160] + ")"
    return RuntimeFailure(
        f"stopped: the model ran {what} {verdict.repeats} times",
        hint="rephrase the task or break it into steps, or use a larger model (--model)",
    )


def _error_event(error: BaseException) -> ev.ErrorEvent:
    if isinstance(error, AutopilotError):
        return ev.ErrorEvent(kind=type(error).__name__, message=error.message, hint=error.hint)
    return ev.ErrorEvent(kind=type(error).__name__, message=str(error) or type(error).__name__)

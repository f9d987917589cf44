"""``autopilot --plain``: a line-mode REPL with prompt-toolkit, for terminals without a TUI.

Enter sends, Esc Enter starts a new line (pastes keep theirs); input history persists in
the user data folder. Ctrl-C interrupts the running step, twice quits; at the prompt it
clears the line, twice quits; Ctrl-D quits. Approvals are y / n / e / a questions.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from autopilot import errors
from autopilot.config import Config, user_data_dir_for

DOUBLE_PRESS_S = 1.5
QUIT_WORDS = frozenset({"/exit", "/quit", "exit", "quit"})


def main(config: Config, *, resume: str | None) -> int:
    try:
        return asyncio.run(repl(config, resume=resume))
    except errors.AutopilotError as exc:
        if config.debug:
            import traceback

            traceback.print_exception(exc, file=sys.stderr)
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code


def _prompt_session(config: Config) -> Any:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory
    from prompt_toolkit.key_binding import KeyBindings

    bindings = KeyBindings()

    @bindings.add("escape", "enter")
    def _newline(event: Any) -> None:
        event.current_buffer.insert_text("\n")

    folder = user_data_dir_for(config.effective_user)
    folder.mkdir(parents=True, exist_ok=True)
    return PromptSession(history=FileHistory(str(folder / "plain_history")), key_bindings=bindings)


async def repl(
    config: Config,
    *,
    resume: str | None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    agent_factory: Callable[..., Any] | None = None,
) -> int:
    from autopilot import __version__
    from autopilot.frontends.render import TextRenderer
    from autopilot.frontends.terminal import TerminalInteraction

    out = out or sys.stdout
    err = err or sys.stderr
    from prompt_toolkit import PromptSession

    session = _prompt_session(config)
    questions: Any = PromptSession()  # approvals stay out of the input history

    async def ask(message: str) -> str:
        return await questions.prompt_async(message)

    async def edit(code: str) -> str:
        return await questions.prompt_async(
            "edit (Esc Enter to run):\n", default=code.rstrip("\n"), multiline=True
        )

    interaction = TerminalInteraction(ask=ask, edit=edit)
    if agent_factory is None:
        from autopilot.agent import build_agent

        agent_factory = build_agent
    agent = agent_factory(config, interaction, resume=resume)
    renderer = TextRenderer(out, err)
    if resume is not None and agent.session is not None:
        # Show the conversation so far, as `sessions show` would.
        replay = TextRenderer(out, err, replay=True)
        for event in agent.session.events():
            replay.show(event)
        out.write("\n")
    resumed = " (resumed)" if resume is not None else ""
    out.write(
        f"Autopilot {__version__} — session {agent.session_id}{resumed}. "
        "Esc Enter: new line · Ctrl-C: interrupt · Ctrl-D: quit\n"
    )
    out.flush()
    last_ctrl_c = 0.0
    try:
        while True:
            try:
                text = await session.prompt_async("› ")
            except KeyboardInterrupt:
                now = time.monotonic()
                if now - last_ctrl_c < DOUBLE_PRESS_S:
                    break
                last_ctrl_c = now
                err.write("(Ctrl-C again to quit)\n")
                continue
            except EOFError:
                break
            if text.strip() in QUIT_WORDS:
                break
            if not text.strip():
                continue
            if await _turn(agent, text, renderer, err):
                break
    finally:
        await agent.aclose()
    return errors.EXIT_OK


async def _turn(agent: Any, text: str, renderer: Any, err: TextIO) -> bool:
    """Run one turn; True when the person pressed Ctrl-C twice to quit."""
    loop = asyncio.get_running_loop()
    pending: set[asyncio.Task[None]] = set()  # keeps the interrupt task alive
    presses = 0
    task = asyncio.current_task()

    def on_sigint() -> None:
        nonlocal presses
        presses += 1
        if presses == 1:
            err.write("\n(interrupting — Ctrl-C again to quit)\n")
            pending.add(loop.create_task(agent.interrupt()))
        elif task is not None:
            task.cancel()

    try:
        loop.add_signal_handler(signal.SIGINT, on_sigint)
        installed = True
    except (NotImplementedError, RuntimeError, ValueError):
        installed = False
    try:
        async for event in agent.turn(text):
            renderer.show(event)
    except asyncio.CancelledError:
        if presses < 2 or task is None:
            raise
        task.uncancel()
        return True
    finally:
        if installed:
            loop.remove_signal_handler(signal.SIGINT)
    return False

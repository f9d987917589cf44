"""What each slash command (and its command-palette entry) does."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from autopilot import events as ev
from autopilot.errors import AutopilotError, UsageError
from autopilot.safe_paths import open_below
from autopilot.tui import sessions, slash, transcript
from autopilot.tui.widgets.assistant_message_view import AssistantMessageView
from autopilot.tui.widgets.notice_view import NoticeView

if TYPE_CHECKING:
    from autopilot.tui.app import AutopilotApp


class SlashCommands:
    def __init__(self, app: AutopilotApp) -> None:
        self.app = app

    async def run(self, name: str, args: str) -> None:
        handler = getattr(self, f"cmd_{name}", None)
        if handler is None or name not in slash.BY_NAME:
            raise UsageError(f"unknown command /{name}", hint="type /help for the list")
        await handler(args)

    async def say(self, text: str, level: str = "info") -> None:
        await self.app.renderer.add(NoticeView(text, level=level))  # type: ignore[arg-type]

    async def cmd_help(self, args: str) -> None:
        view = AssistantMessageView(step=-1)
        await self.app.renderer.add(view)
        await view.finish(slash.help_markdown())

    async def cmd_model(self, args: str) -> None:
        controller = self.app.controller
        if not args:
            await self.say(f"model: {controller.config.model or 'none configured'}")
            return
        config = controller.config.with_overrides({"model": args})
        self.app.status.set(model=args)
        await controller.rebuild(config, resume=self.app.renderer.session_id)
        await self.say(f"model switched to {args}")

    async def cmd_mode(self, args: str) -> None:
        interaction = self.app.controller.interaction
        if args:
            if args not in ("ask", "auto"):
                raise UsageError(f"unknown mode {args!r}", hint="use /mode ask or /mode auto")
            interaction.mode = args  # type: ignore[assignment]
        else:
            interaction.mode = "auto" if interaction.mode == "ask" else "ask"
        agent = self.app.controller.agent
        if agent is not None and hasattr(agent, "set_approval_mode"):
            agent.set_approval_mode(interaction.mode)
        self.app.status.set(mode=interaction.mode)
        await self.say(f"approval mode: {interaction.mode}")

    async def cmd_new(self, args: str) -> None:
        await self.app.clear_conversation()
        self.app.status.reset_usage()
        self.app.renderer.session_id = None
        await self.app.controller.rebuild(self.app.controller.config)
        await self.say("new session")

    async def cmd_sessions(self, args: str) -> None:
        infos = sessions.list_sessions(self.app.controller.config)
        if not infos:
            await self.say("no stored sessions yet")
            return
        rows = [
            f"| `{i.session_id}` | {time.strftime('%Y-%m-%d %H:%M', time.localtime(i.modified))}"
            f" | {i.title.replace('|', '/')} |"
            for i in infos[:20]
        ]
        view = AssistantMessageView(step=-1)
        await self.app.renderer.add(view)
        await view.finish("| session | when | first message |\n|---|---|---|\n" + "\n".join(rows))

    async def cmd_resume(self, args: str) -> None:
        await self.app.resume_session(args)

    async def cmd_sandbox(self, args: str) -> None:
        controller = self.app.controller
        sandbox = getattr(controller.agent, "sandbox", None)
        words = args.split()
        if not words or words[0] == "status":
            state = getattr(sandbox, "state", None) or self.app.status.sandbox
            network = "on" if controller.config.sandbox.network else "off"
            await self.say(
                f"sandbox: {state} · image {controller.config.sandbox.image} · network {network}"
            )
        elif words[0] == "restart":
            if sandbox is None:
                raise UsageError("the sandbox is not running yet")
            self.app.status.set(sandbox="restarting")
            await sandbox.restart()
            self.app.status.set(sandbox="restarted")
            await self.say("sandbox restarted — its state was lost", "warning")
        elif words[0] == "network" and len(words) == 2 and words[1] in ("on", "off"):
            config = controller.config.with_overrides({"sandbox.network": words[1] == "on"})
            self.app.status.set(sandbox="restarting")
            await controller.rebuild(config, resume=self.app.renderer.session_id)
            await self.say(
                f"network {words[1]}: the sandbox restarts (its state is lost)", "warning"
            )
        else:
            raise UsageError(
                f"unknown /sandbox {args!r}", hint="use status, restart, network on, network off"
            )

    async def cmd_export(self, args: str) -> None:
        name = f"autopilot-{self.app.renderer.session_id or 'session'}.md"
        text = transcript.to_markdown(self.app.renderer.record)
        path = _export_path(self.app.workspace, args or name)
        try:
            _write_export(self.app.workspace, path, text)
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror}") from exc
        await self.say(f"conversation saved to {path}")

    async def cmd_clear(self, args: str) -> None:
        await self.app.clear_conversation()

    async def cmd_quit(self, args: str) -> None:
        await self.app.action_quit()


def _export_path(workspace: Path, given: str) -> Path:
    path = Path(given).expanduser()
    return path if path.is_absolute() else workspace / path


def _write_export(workspace: Path, path: Path, text: str) -> None:
    """Inside the workspace the sandbox may have planted links: never follow them there."""
    root = Path(os.path.abspath(workspace))  # textual: resolving would follow planted links
    target = Path(os.path.abspath(path))
    if target.is_relative_to(root):
        with open_below(root, target) as fh:
            fh.write(text)
    else:
        target.write_text(text, encoding="utf-8")


def error_event(error: BaseException) -> ev.ErrorEvent:
    """An exception as the error event the conversation shows."""
    if isinstance(error, AutopilotError):
        return ev.ErrorEvent(kind=type(error).__name__, message=error.message, hint=error.hint)
    return ev.ErrorEvent(kind=type(error).__name__, message=str(error) or type(error).__name__)

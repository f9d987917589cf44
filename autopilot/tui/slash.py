"""Slash commands: their names, help, parsing and completion (no Textual here)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SlashCommand:
    name: str
    usage: str
    help: str


COMMANDS: tuple[SlashCommand, ...] = (
    SlashCommand("help", "/help", "show commands and keys"),
    SlashCommand("model", "/model [NAME]", "show or switch the model"),
    SlashCommand("mode", "/mode [ask|auto]", "show or set the approval mode"),
    SlashCommand("new", "/new", "start a new session"),
    SlashCommand("sessions", "/sessions", "list stored sessions"),
    SlashCommand("resume", "/resume [ID]", "resume a stored session (default: the last)"),
    SlashCommand(
        "sandbox", "/sandbox [status|restart|network on|off]", "sandbox status and control"
    ),
    SlashCommand("export", "/export [PATH]", "save the conversation as Markdown"),
    SlashCommand("clear", "/clear", "clear the screen (the session goes on)"),
    SlashCommand("quit", "/quit", "leave Autopilot"),
)

BY_NAME = {c.name: c for c in COMMANDS}

SUBCOMMANDS: dict[str, tuple[str, ...]] = {
    "mode": ("ask", "auto"),
    "sandbox": ("status", "restart", "network on", "network off"),
}

KEYS_HELP = (
    "Enter send · ctrl+j newline · ↑/↓ history · Tab complete · "
    "Esc interrupt · ctrl+o fold/unfold output · ctrl+p command palette · "
    "on a code block: y run, a always, e edit (ctrl+s runs the edit), n skip · "
    "!cmd runs a shell command in the sandbox · @path inserts a workspace path"
)


def parse(text: str) -> tuple[str, str] | None:
    """``"/model gpt-4o"`` → ``("model", "gpt-4o")``; ``None`` when not a slash command."""
    text = text.strip()
    if not text.startswith("/") or text.startswith("//"):
        return None
    name, _, args = text[1:].partition(" ")
    return name.lower(), args.strip()


def matching(text: str) -> list[SlashCommand]:
    """Commands whose name starts with what was typed after ``/`` (only on the first word)."""
    if not text.startswith("/") or " " in text or "\n" in text:
        return []
    prefix = text[1:].lower()
    return [c for c in COMMANDS if c.name.startswith(prefix)]


def complete(text: str, workspace: Path | None = None) -> str:
    """The suffix that completes ``text`` (a command, a subcommand or an ``@path``), or ``""``."""
    if text.startswith("/") and "\n" not in text:
        if " " not in text:
            names = [c.name for c in matching(text)]
            return _common_suffix(text[1:], names, " ")
        name, _, rest = text[1:].partition(" ")
        options = SUBCOMMANDS.get(name.lower(), ())
        return _common_suffix(rest, list(options), "")
    word = text.rsplit(None, 1)[-1] if text and not text[-1].isspace() else ""
    if word.startswith("@") and workspace is not None:
        return _common_suffix(word[1:], workspace_paths(workspace, word[1:]), "")
    return ""


def _common_suffix(typed: str, options: list[str], end: str) -> str:
    hits = [o for o in options if o.startswith(typed)]
    if not hits:
        return ""
    if len(hits) == 1:
        return hits[0][len(typed) :] + end
    return os.path.commonprefix(hits)[len(typed) :]  # noqa: RUF071 — strings, not paths


def workspace_paths(workspace: Path, typed: str, *, limit: int = 200) -> list[str]:
    """Entries of the workspace folder named by ``typed``'s directory part (dirs end in /)."""
    folder, _, _ = typed.rpartition("/")
    base = (workspace / folder).resolve()
    try:
        base.relative_to(workspace.resolve())
    except ValueError:
        return []  # never complete outside the workspace
    results: list[str] = []
    try:
        with os.scandir(base) as entries:
            for entry in entries:
                if entry.name.startswith(".") and not typed.rpartition("/")[2].startswith("."):
                    continue
                name = f"{folder}/{entry.name}" if folder else entry.name
                results.append(name + ("/" if entry.is_dir() else ""))
                if len(results) >= limit:
                    break
    except OSError:
        return []
    return sorted(results)


def help_markdown() -> str:
    rows = "\n".join(f"| `{c.usage}` | {c.help} |" for c in COMMANDS)
    return f"| command | what it does |\n|---|---|\n{rows}\n\n{KEYS_HELP}"

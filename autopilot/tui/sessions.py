"""Stored sessions as the agent writes them: ``<user data>/sessions/<id>.jsonl``, one
``events.to_dict`` object per line. The TUI reads them to list and re-render sessions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from autopilot import events
from autopilot.config import Config, user_data_dir_for
from autopilot.errors import SessionError


@dataclass(frozen=True)
class SessionInfo:
    session_id: str
    path: Path
    modified: float
    title: str


def sessions_dir(config: Config) -> Path:
    return user_data_dir_for(config.effective_user) / "sessions"


def list_sessions(config: Config) -> list[SessionInfo]:
    """Stored sessions, newest first."""
    folder = sessions_dir(config)
    if not folder.is_dir():
        return []
    infos = [
        SessionInfo(p.stem, p, p.stat().st_mtime, _first_user_text(p))
        for p in folder.glob("*.jsonl")
    ]
    return sorted(infos, key=lambda i: i.modified, reverse=True)


def resolve(config: Config, wanted: str) -> SessionInfo:
    """A session by id (or unique id prefix); ``""``, ``"last"`` or ``"latest"`` mean the newest."""
    infos = list_sessions(config)
    if not infos:
        raise SessionError("there is no stored session to resume", hint="start one: `autopilot`")
    if wanted in ("", "last", "latest"):
        return infos[0]
    exact = [i for i in infos if i.session_id == wanted]
    hits = exact or [i for i in infos if i.session_id.startswith(wanted)]
    if len(hits) == 1:
        return hits[0]
    if not hits:
        raise SessionError(f"no stored session {wanted!r}", hint="list them with /sessions")
    raise SessionError(f"{wanted!r} names {len(hits)} sessions", hint="give more of the id")


def load_events(path: Path) -> list[events.Event]:
    """Every readable event of a session log; a torn last line (a crash) is skipped."""
    loaded: list[events.Event] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise SessionError(f"cannot read session {path.name}: {exc.strerror}") from exc
    for line in lines:
        if not line.strip():
            continue
        try:
            loaded.append(events.from_dict(json.loads(line)))
        except (ValueError, TypeError):
            continue  # unknown event type from a newer version, or a torn line
    return loaded


def _first_user_text(path: Path) -> str:
    try:
        with path.open(encoding="utf-8") as fh:
            for _, line in zip(range(200), fh, strict=False):
                if '"user_message"' in line:
                    text = json.loads(line).get("text", "")
                    return " ".join(str(text).split())[:60]
    except (OSError, ValueError):
        pass
    return ""

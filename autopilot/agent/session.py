"""Session logs: one append-only JSON-lines file of events per session.

``<user data dir>/sessions/<id>.jsonl`` holds every event (``events.to_dict``, one per
line); ``<id>/`` next to it holds the session's files (images). Every line is flushed as it
is written and the file is fsync'd at step boundaries, so a crash or ``kill -9`` loses at
most the step in flight; a torn last line is skipped when reading. Ids sort by time:
``20261126-160102-ab12`` (UTC).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from autopilot import events as ev
from autopilot.config import Config, user_data_dir_for
from autopilot.errors import SessionError

# Events after which the log is fsync'd: the ends of the steps and of the turn. Every line
# is flushed at once (enough for a killed process); fsync guards against a machine crash.
_SYNC_AFTER = frozenset({"session_started", "observation", "turn_finished"})


def new_session_id(now: float | None = None) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(time.time() if now is None else now))
    return f"{stamp}-{secrets.token_hex(2)}"


def sessions_dir(config: Config) -> Path:
    return user_data_dir_for(config.effective_user) / "sessions"


class SessionLog:
    """An open session log; :meth:`append` writes one event and flushes it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.session_id = path.stem
        self._file: TextIO | None = None  # opened at the first event: no empty sessions
        self._syncing: asyncio.Future[None] | None = None
        self._sync_again = False

    def _open(self) -> TextIO:
        if self._file is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = self.path.open("a", encoding="utf-8")
            except OSError as exc:
                raise SessionError(
                    f"cannot write the session log {self.path} ({exc.strerror})"
                ) from exc
        return self._file

    @classmethod
    def create(cls, config: Config, session_id: str | None = None) -> SessionLog:
        return cls(sessions_dir(config) / f"{session_id or new_session_id()}.jsonl")

    @classmethod
    def reopen(cls, config: Config, session_id: str | None) -> SessionLog:
        """Reopen an existing session (the latest when ``session_id`` is None) to append."""
        return cls(find_session(config, session_id))

    @property
    def folder(self) -> Path:
        """Where this session's files (images) go."""
        return self.path.with_suffix("")

    def append(self, event: ev.Event) -> None:
        line = json.dumps(ev.to_dict(event), ensure_ascii=False, default=str)
        file = self._open()
        try:
            file.write(line + "\n")
            file.flush()
            if event.type in _SYNC_AFTER:
                self._sync()
        except ValueError:  # closed: events after close (a late cancel) are dropped
            return
        except OSError as exc:
            raise SessionError(
                f"cannot write the session log {self.path} ({exc.strerror})"
            ) from exc

    def _sync(self) -> None:
        """fsync on a worker thread when a loop runs (it takes milliseconds), else here."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._fsync_quietly()
            return
        if self._syncing is not None and not self._syncing.done():
            self._sync_again = True  # one more fsync after the one in flight
            return
        self._sync_again = False
        self._syncing = loop.run_in_executor(None, self._fsync_quietly)
        self._syncing.add_done_callback(lambda _: self._sync() if self._sync_again else None)

    def _fsync_quietly(self) -> None:
        file = self._file
        if file is not None and not file.closed:
            with contextlib.suppress(OSError, ValueError):
                os.fsync(file.fileno())

    def events(self) -> list[ev.Event]:
        if self._file is not None and not self._file.closed:
            self._file.flush()
        return read_events(self.path) if self.path.exists() else []

    def close(self) -> None:
        if self._file is not None and not self._file.closed:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()


def read_events(path: Path) -> list[ev.Event]:
    """Every event in a log; a torn or unknown line (a kill in mid-write) is skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SessionError(f"cannot read the session log {path} ({exc.strerror})") from exc
    result: list[ev.Event] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            result.append(ev.from_dict(json.loads(line)))
        except (ValueError, TypeError):
            continue
    return result


def find_session(config: Config, session_id: str | None) -> Path:
    """The log of ``session_id`` (a unique prefix is enough), or of the latest session."""
    folder = sessions_dir(config)
    logs = sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
    if not logs:
        raise SessionError("there are no sessions yet", hint="start one with `autopilot`")
    if session_id is None:
        return logs[-1]
    matches = [p for p in logs if p.stem == session_id] or [
        p for p in logs if p.stem.startswith(session_id)
    ]
    if len(matches) != 1:
        problem = "no session" if not matches else "several sessions"
        raise SessionError(
            f"{problem} matching {session_id!r}", hint="list them with `autopilot sessions list`"
        )
    return matches[0]


@dataclass(frozen=True)
class SessionInfo:
    session_id: str
    path: Path
    started: float
    turns: int
    first_message: str
    model: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "path": str(self.path),
            "started": self.started,
            "turns": self.turns,
            "first_message": self.first_message,
            "model": self.model,
        }


def list_sessions(config: Config) -> list[SessionInfo]:
    folder = sessions_dir(config)
    infos: list[SessionInfo] = []
    for path in sorted(folder.glob("*.jsonl")) if folder.is_dir() else []:
        events = read_events(path)
        users = [e for e in events if isinstance(e, ev.UserMessage)]
        starts = [e for e in events if isinstance(e, ev.SessionStarted)]
        infos.append(
            SessionInfo(
                session_id=path.stem,
                path=path,
                started=events[0].ts if events else path.stat().st_mtime,
                turns=len(users),
                first_message=users[0].text if users else "",
                model=starts[-1].model if starts else "",
            )
        )
    return infos

"""No orphans: every sandbox container names its owner, and dead owners' containers go.

Containers carry ``autopilot.session``, ``autopilot.owner_pid``, ``autopilot.owner_start``
(the owner's start time, so a reused pid is not mistaken for the owner) and
``autopilot.host``. When a sandbox starts, containers on this host whose owner is gone are
removed — so even a SIGKILLed autopilot leaves nothing behind after the next start.
"""

from __future__ import annotations

import contextlib
import os
import socket
from dataclasses import dataclass
from typing import Any

from autopilot.sandbox._docker import (
    LABEL_HOST,
    LABEL_MARK,
    LABEL_OWNER_PID,
    LABEL_OWNER_START,
    LABEL_SESSION,
)


@dataclass(frozen=True)
class SandboxContainer:
    """One Autopilot sandbox container as ``autopilot sandbox ps`` shows it."""

    id: str
    name: str
    session: str
    owner_pid: int
    host: str
    status: str
    image: str
    orphaned: bool

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


def process_start_time(pid: int) -> str:
    """The kernel's start time of ``pid`` (clock ticks since boot), or "" where unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            stat = fh.read()
    except OSError:
        return ""
    # The command name may contain spaces and parentheses: fields start after the last ")".
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else ""


def owner_labels(session_id: str) -> dict[str, str]:
    pid = os.getpid()
    return {
        LABEL_MARK: "1",
        LABEL_SESSION: session_id,
        LABEL_OWNER_PID: str(pid),
        LABEL_OWNER_START: process_start_time(pid),
        LABEL_HOST: socket.gethostname(),
    }


def owner_alive(labels: dict[str, str]) -> bool:
    """Whether the process that started a container still runs (only knowable on its host)."""
    if labels.get(LABEL_HOST) != socket.gethostname():
        return True  # another machine's container: not ours to judge
    try:
        pid = int(labels.get(LABEL_OWNER_PID, ""))
    except ValueError:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    started = labels.get(LABEL_OWNER_START, "")
    return not started or started == process_start_time(pid) or not process_start_time(pid)


def list_sandboxes(client: Any) -> list[SandboxContainer]:
    containers = client.api.containers(all=True, filters={"label": LABEL_MARK})
    found = []
    for item in containers:
        labels = item.get("Labels") or {}
        try:
            pid = int(labels.get(LABEL_OWNER_PID, "0"))
        except ValueError:
            pid = 0
        names = item.get("Names") or ["?"]
        found.append(
            SandboxContainer(
                id=item["Id"][:12],
                name=names[0].lstrip("/"),
                session=labels.get(LABEL_SESSION, ""),
                owner_pid=pid,
                host=labels.get(LABEL_HOST, ""),
                status=item.get("Status", ""),
                image=item.get("Image", ""),
                orphaned=not owner_alive(labels),
            )
        )
    return found


def remove_container(client: Any, container_id: str) -> bool:
    from docker.errors import APIError, NotFound

    try:
        client.api.remove_container(container_id, force=True, v=True)
    except NotFound:
        return False
    except APIError as exc:
        # "removal already in progress" means someone else is removing it: fine.
        return "in progress" in str(exc)
    return True


def reap_orphans(client: Any) -> list[str]:
    """Remove this host's sandbox containers whose owner process is gone; return their ids."""
    removed = []
    for container in list_sandboxes(client):
        if container.orphaned and remove_container(client, container.id):
            removed.append(container.id)
    return removed


def prune(client: Any, *, everything: bool = False) -> list[str]:
    """Remove orphans, or with ``everything`` every sandbox container of this host."""
    if not everything:
        return reap_orphans(client)
    removed = []
    host = socket.gethostname()
    for container in list_sandboxes(client):
        if container.host == host:
            with contextlib.suppress(Exception):
                if remove_container(client, container.id):
                    removed.append(container.id)
    return removed

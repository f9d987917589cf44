"""Reaching the Docker engine: one place that turns "cannot connect" into a user error."""

from __future__ import annotations

from typing import Any

from autopilot.errors import DockerUnavailableError

# Labels every container Autopilot starts carries; ``autopilot.sandbox`` marks ours.
LABEL_MARK = "autopilot.sandbox"
LABEL_SESSION = "autopilot.session"
LABEL_OWNER_PID = "autopilot.owner_pid"
LABEL_OWNER_START = "autopilot.owner_start"
LABEL_HOST = "autopilot.host"


def docker_client(*, timeout: int = 120) -> Any:
    """A connected ``docker.DockerClient``; raises DockerUnavailableError when unreachable."""
    try:
        import docker
        from docker.errors import DockerException
    except ImportError as exc:  # pragma: no cover - docker is a hard dependency
        raise DockerUnavailableError("the docker Python package is missing") from exc
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except DockerException as exc:
        raise DockerUnavailableError(_short(exc)) from exc
    except OSError as exc:
        raise DockerUnavailableError(_short(exc)) from exc
    return client


def _short(exc: BaseException) -> str:
    """A few words on why, and where we looked: the raw errors are pages of urllib3."""
    import os

    text = str(exc)
    where = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    for needle, reason in (
        ("Connection refused", "connection refused"),
        ("No such file or directory", "no Docker socket"),
        ("FileNotFoundError", "no Docker socket"),
        ("Permission denied", "permission denied; is this user in the docker group?"),
        ("timed out", "timed out"),
        ("Name or service not known", "unknown host"),
    ):
        if needle in text:
            return f"{where}: {reason}"
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return f"{where}: {first[:120]}"

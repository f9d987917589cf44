"""The sandbox: a persistent Python namespace in a hardened Docker container.

``create_sandbox(config, session_id=..., workspace=...)`` returns the backend the config
asks for: :class:`DockerSandbox` (the default) or, only when explicitly chosen,
:class:`LocalSandbox` (the same runner as an unisolated host subprocess). Importing this
package is cheap; backends load on first use.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from autopilot.sandbox.base import (
    ExecError,
    ExecImage,
    ExecResult,
    OutputChunk,
    Sandbox,
    ToolRequest,
    ToolSpec,
)

if TYPE_CHECKING:
    from autopilot.config import SandboxConfig
    from autopilot.sandbox.docker_sandbox import DockerSandbox
    from autopilot.sandbox.local import LocalSandbox

__all__ = [
    "DockerSandbox",
    "ExecError",
    "ExecImage",
    "ExecResult",
    "LocalSandbox",
    "OutputChunk",
    "Sandbox",
    "ToolRequest",
    "ToolSpec",
    "create_sandbox",
    "shell_code",
    "shell_result",
]


def create_sandbox(config: SandboxConfig, *, session_id: str, workspace: Path) -> Sandbox:
    """The sandbox backend ``config.backend`` names ("docker" or "local")."""
    if config.backend == "local":
        from autopilot.sandbox.local import LocalSandbox

        return LocalSandbox(config, session_id=session_id, workspace=workspace)
    from autopilot.sandbox.docker_sandbox import DockerSandbox

    return DockerSandbox(config, session_id=session_id, workspace=workspace)


def __getattr__(name: str) -> Any:
    if name == "DockerSandbox":
        from autopilot.sandbox.docker_sandbox import DockerSandbox

        return DockerSandbox
    if name == "LocalSandbox":
        from autopilot.sandbox.local import LocalSandbox

        return LocalSandbox
    if name in ("shell_code", "shell_result"):
        from autopilot.sandbox import _session

        return getattr(_session, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

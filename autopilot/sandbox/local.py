"""The local backend: the same runner as a plain host subprocess, for machines without Docker.

Only used when explicitly chosen (``sandbox.backend = "local"`` / ``--sandbox local``).
It is *not* isolated: code can read and change anything the person can. The front end
shows :attr:`LocalSandbox.warning`; library code never prints it. The environment is
still built from scratch, so API keys in the host environment do not reach the code.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from autopilot.config import SandboxConfig
from autopilot.sandbox._client import Transport
from autopilot.sandbox._session import RunnerSandbox, bootstrap_command

LOCAL_WARNING = (
    "the local sandbox runs code unisolated on this machine: it can read and change your "
    "files and reach the network (use the Docker sandbox to contain it)"
)
_PASSED_ENV = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "TZ", "TMPDIR", "DISPLAY")


class PipeTransport:
    """A runner subprocess's stdin/stdout; its stderr is kept for diagnostics."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdin and process.stdout and process.stderr
        self.process = process
        self._stdin = process.stdin.fileno()
        self._stdout = process.stdout.fileno()
        self.diagnostics = bytearray()
        threading.Thread(target=self._collect_stderr, daemon=True).start()

    def _collect_stderr(self) -> None:
        assert self.process.stderr is not None
        fd = self.process.stderr.fileno()
        with contextlib.suppress(OSError, ValueError):
            while chunk := os.read(fd, 65536):
                self.diagnostics += chunk
                del self.diagnostics[: max(0, len(self.diagnostics) - 65536)]

    def send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._stdin, view) :]

    def recv(self) -> bytes:
        try:
            return os.read(self._stdout, 1 << 20)
        except (OSError, ValueError):
            return b""

    def close(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            self.process.wait(timeout=5)
        for pipe in (self.process.stdin, self.process.stdout, self.process.stderr):
            with contextlib.suppress(Exception):
                pipe.close()  # type: ignore[union-attr]


class LocalSandbox(RunnerSandbox):
    """The runner as a host subprocess in its own process group; see the module docstring."""

    backend = "local"

    def __init__(
        self, config: SandboxConfig, *, session_id: str, workspace: Path, python: str | None = None
    ) -> None:
        super().__init__(config, session_id=session_id, workspace=workspace)
        self.python = python or sys.executable
        self._transport: PipeTransport | None = None

    @property
    def warning(self) -> str:
        """What the front end must show the person before running anything."""
        return LOCAL_WARNING

    def _environment(self) -> dict[str, str]:
        environment = {name: os.environ[name] for name in _PASSED_ENV if name in os.environ}
        environment.update(
            {
                "PYTHONUTF8": "1",
                "MPLBACKEND": "Agg",
                "AUTOPILOT_SANDBOX": "local",
                "PYTHONDONTWRITEBYTECODE": "1",
            }
        )
        if self.config.ca_bundle:
            for name in ("PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
                environment[name] = self.config.ca_bundle
        return environment

    def _launch(self) -> Transport:
        self.workspace.mkdir(parents=True, exist_ok=True)
        process = subprocess.Popen(
            bootstrap_command(self.python),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=self.workspace,
            env=self._environment(),
            start_new_session=True,
        )
        self._transport = PipeTransport(process)
        return self._transport

    def _destroy(self) -> None:
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()

    def _death_reason(self) -> tuple[str, str]:
        transport = self._transport
        if transport is None:
            return "SandboxCrashed", "the local runner is gone"
        try:  # the pipe closes a moment before the exit status is there
            code = transport.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            code = None
        diagnostics = transport.diagnostics.decode("utf-8", "replace").strip()
        detail = f": {diagnostics.splitlines()[-1]}" if diagnostics else ""
        if code is None:
            return "SandboxCrashed", "the local runner stopped answering"
        if code < 0:
            return "SandboxCrashed", f"the local runner was killed by signal {-code}{detail}"
        return "SandboxCrashed", f"the local runner exited with status {code}{detail}"

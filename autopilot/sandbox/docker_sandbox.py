"""The real sandbox: one hardened, long-lived Docker container per session.

The container's main process (under Docker's tiny init) is ``python3 -c BOOTSTRAP``; the
runner source is written to its stdin right after start, and from then on the attach
socket (stdin + multiplexed stdout/stderr) is the framed channel. That works on any
engine the docker SDK reaches — local socket, Docker Desktop, a remote ``DOCKER_HOST``.

Hardening by default: memory (no extra swap), CPU and pids limits, ``cap_drop=ALL``,
``no-new-privileges``, a non-root user, a read-only root filesystem with tmpfs ``/tmp`` and
home, no network unless ``SandboxConfig.network``, only the workspace mounted from the
host, and an environment built from scratch (nothing of the host's, so no secrets).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path
from typing import Any

from autopilot.config import SandboxConfig
from autopilot.errors import ImageMissingError, SandboxError
from autopilot.sandbox._client import Transport
from autopilot.sandbox._docker import docker_client
from autopilot.sandbox._protocol import STDOUT, DockerDemux
from autopilot.sandbox._session import OUTPUTS_DIR, RunnerSandbox, bootstrap_command
from autopilot.sandbox.image import IMAGE_ENV, SANDBOX_HOME, SANDBOX_UID
from autopilot.sandbox.orphans import owner_labels, reap_orphans, remove_container

WORKSPACE = "/workspace"
CA_BUNDLE_PATH = "/etc/autopilot/ca-bundle.crt"
TMPFS_SIZE = "512m"


class AttachTransport:
    """Docker's attach socket: raw bytes in, multiplexed stdout/stderr out."""

    def __init__(self, sock: Any) -> None:
        self._socket_io = sock
        self.sock = getattr(sock, "_sock", sock)
        self._demux = DockerDemux()
        self.diagnostics = bytearray()  # the runner's own stderr (tracebacks if it dies)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def recv(self) -> bytes:
        while True:
            data = self.sock.recv(1 << 20)
            if not data:
                return b""
            out = []
            for stream, piece in self._demux.feed(data):
                if stream == STDOUT:
                    out.append(piece)
                else:
                    self.diagnostics += piece
                    del self.diagnostics[: max(0, len(self.diagnostics) - 65536)]
            if out:
                return b"".join(out)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(2)
        with contextlib.suppress(OSError):
            self.sock.close()
        with contextlib.suppress(Exception):
            self._socket_io.close()


def container_user() -> str:
    """The host user's uid:gid (files in the workspace stay theirs), never root."""
    uid, gid = os.getuid(), os.getgid()
    if uid == 0:
        return f"{SANDBOX_UID}:{SANDBOX_UID}"
    return f"{uid}:{gid}"


class DockerSandbox(RunnerSandbox):
    """One long-lived container per session; see the module docstring."""

    backend = "docker"

    def __init__(
        self, config: SandboxConfig, *, session_id: str, workspace: Path, client: Any = None
    ) -> None:
        super().__init__(config, session_id=session_id, workspace=workspace)
        self._docker = client
        self.container_id: str | None = None
        self._transport: AttachTransport | None = None
        self._reaped = False

    @property
    def docker(self) -> Any:
        if self._docker is None:
            self._docker = docker_client()
        return self._docker

    def _shown_output_path(self, name: str) -> str:
        return f"{WORKSPACE}/{OUTPUTS_DIR.as_posix()}/{name}.txt"

    # --- launching ----------------------------------------------------------------------

    def container_spec(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """``(create_container kwargs, create_host_config kwargs)`` for this session."""
        config = self.config
        check_workspace(self.workspace)
        user = container_user()
        uid, _, gid = user.partition(":")
        environment = dict(IMAGE_ENV)
        environment["AUTOPILOT_SANDBOX"] = "1"
        binds = {str(self.workspace): {"bind": WORKSPACE, "mode": "rw"}}
        if config.ca_bundle:
            bundle = Path(config.ca_bundle).expanduser().resolve()
            if not bundle.is_file():
                raise SandboxError(
                    f"sandbox.ca_bundle {bundle} is not a file",
                    hint="point sandbox.ca_bundle at a PEM bundle, e.g. /etc/ssl/certs/ca-certificates.crt",
                )
            binds[str(bundle)] = {"bind": CA_BUNDLE_PATH, "mode": "ro"}
            for name in ("PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
                environment[name] = CA_BUNDLE_PATH
        tmpfs_options = f"rw,nosuid,nodev,size={TMPFS_SIZE}"
        host_config = {
            "binds": binds,
            "network_mode": "bridge" if config.network else "none",
            "mem_limit": config.memory,
            "memswap_limit": config.memory,
            "nano_cpus": int(config.cpus * 1e9) if config.cpus else None,
            "pids_limit": config.pids_limit or None,
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges"],
            "read_only": True,
            "tmpfs": {
                "/tmp": f"{tmpfs_options},mode=1777",
                SANDBOX_HOME: f"{tmpfs_options},mode=0700,uid={uid},gid={gid}",
            },
            "init": True,
            "log_config": {"type": "none", "config": {}},
            "ipc_mode": "private",
        }
        create = {
            "command": bootstrap_command(),
            "user": user,
            "working_dir": WORKSPACE,
            "environment": environment,
            "labels": owner_labels(self.session_id),
            "stdin_open": True,
            # detach=False with stdin_open makes StdinOnce: when our attach goes (even on a
            # SIGKILL of the owner) stdin closes, the runner exits and the container stops.
            "detach": False,
            "tty": False,
            "name": f"autopilot-{_slug(self.session_id)}-{uuid.uuid4().hex[:6]}",
            "network_disabled": not config.network,
        }
        return create, host_config

    def _launch(self) -> Transport:
        from docker.errors import APIError, DockerException, ImageNotFound, NotFound

        api = self.docker.api
        if not self._reaped:  # once per sandbox, not on every restart
            self._reaped = True
            with contextlib.suppress(Exception):
                reap_orphans(self.docker)
        self.workspace.mkdir(parents=True, exist_ok=True)
        create, host_kwargs = self.container_spec()
        image = self.config.image
        try:
            host_config = api.create_host_config(
                **{k: v for k, v in host_kwargs.items() if v is not None}
            )
            created = api.create_container(image, host_config=host_config, **create)
        except (ImageNotFound, NotFound) as exc:
            raise ImageMissingError(image) from exc
        except DockerException as exc:  # e.g. a memory or CPU limit the engine refuses
            why = exc.explanation if isinstance(exc, APIError) and exc.explanation else exc
            first_line = (str(why).strip().splitlines() or [type(exc).__name__])[0][:200]
            raise SandboxError(
                f"Docker refused to create the sandbox: {first_line}",
                hint="check sandbox.memory, sandbox.cpus and sandbox.pids_limit "
                "(`autopilot config show`)",
            ) from None
        self.container_id = created["Id"]
        try:
            sock = api.attach_socket(
                self.container_id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
            )
            transport = AttachTransport(sock)
            api.start(self.container_id)
        except Exception:
            self._destroy()
            raise
        self._transport = transport
        return transport

    def _destroy(self) -> None:
        container_id, self.container_id = self.container_id, None
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        if container_id is not None and self._docker is not None:
            remove_container(self._docker, container_id)

    def _death_reason(self) -> tuple[str, str]:
        from docker.errors import NotFound

        diagnostics = ""
        if self._transport is not None:
            diagnostics = self._transport.diagnostics.decode("utf-8", "replace").strip()
        if self.container_id is None:
            return "SandboxCrashed", "the sandbox container is gone"
        api = self.docker.api
        try:
            state = api.inspect_container(self.container_id)["State"]
            if state.get("Running"):  # the socket closes a moment before the state changes
                with contextlib.suppress(Exception):
                    api.wait(self.container_id, timeout=2)
                state = api.inspect_container(self.container_id)["State"]
        except NotFound:
            return "SandboxCrashed", "the sandbox container was removed from outside"
        if state.get("OOMKilled"):
            return (
                "MemoryError",
                f"the cell ran out of memory (limit {self.config.memory}) and was killed",
            )
        code = state.get("ExitCode")
        if state.get("Running"):
            return "SandboxCrashed", "the sandbox runner stopped answering"
        if code == 137:  # SIGKILL; on some kernels an OOM kill does not set OOMKilled
            why = (
                f"the sandbox was killed (SIGKILL: out of memory, limit {self.config.memory}, "
                "or stopped from outside)"
            )
            return "SandboxCrashed", why
        detail = f": {diagnostics.splitlines()[-1]}" if diagnostics else ""
        return "SandboxCrashed", f"the sandbox exited with status {code}{detail}"

    # --- files besides the workspace ----------------------------------------------------
    # Docker's archive API cannot see tmpfs mounts (and the root is read-only), so files
    # travel through a short ``docker exec`` instead: ``cat`` in, ``cat`` out.

    async def put_file(self, path: str, data: bytes) -> None:
        """Write ``data`` to ``path`` inside the container (e.g. under /tmp or home)."""
        import asyncio

        await self.start()
        directory = path.rstrip("/").rpartition("/")[0] or "/"
        script = 'mkdir -p "$1" && cat > "$2"'
        await asyncio.to_thread(self._exec, ["sh", "-c", script, "sh", directory, path], data)

    async def get_file(self, path: str) -> bytes:
        """Read the file at ``path`` inside the container."""
        import asyncio

        await self.start()
        return await asyncio.to_thread(self._exec, ["cat", "--", path], None)

    def _exec(self, command: list[str], stdin: bytes | None) -> bytes:
        import socket

        api = self.docker.api
        made = api.exec_create(
            self.container_id, command, stdin=stdin is not None, stdout=True, stderr=True
        )
        transport = AttachTransport(api.exec_start(made["Id"], socket=True))
        try:
            if stdin is not None:
                transport.send(stdin)
                transport.sock.shutdown(socket.SHUT_WR)
            chunks = []
            while data := transport.recv():
                chunks.append(data)
        finally:
            transport.close()
        code = api.exec_inspect(made["Id"]).get("ExitCode")
        if code:
            error = transport.diagnostics.decode("utf-8", "replace").strip()
            raise SandboxError(f"copying {command[-1]} failed: {error or f'exit status {code}'}")
        return b"".join(chunks)


def check_workspace(workspace: Path) -> None:
    """Refuse a workspace that holds the home folder or Autopilot's config or data (where
    keys may be stored): mounted read-write, it would give the sandboxed code the person's
    keys, ssh keys and shell start-up files — and a way to run code on the host."""
    from autopilot.config import config_dir, data_dir

    workspace = workspace.resolve()
    for what, path in (
        ("your home folder", Path.home()),
        ("Autopilot's config", config_dir()),
        ("Autopilot's data and keys", data_dir()),
    ):
        guarded = path.expanduser().resolve()
        if workspace == guarded or workspace in guarded.parents:
            raise SandboxError(
                f"the working folder {workspace} contains {what}; the sandbox will not mount it",
                hint="start autopilot in a project folder, or "
                "`autopilot config set sandbox.workspace ~/autopilot-work`",
            )


def _slug(text: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "-" for c in text)
    return cleaned.strip("-.")[:40] or "session"

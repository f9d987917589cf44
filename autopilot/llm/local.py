"""The embedded local model: llama-cpp-python's OpenAI-compatible server on a loopback port.

``autopilot --local`` resolves a GGUF file (``local.model_path``, else the default model
fetched once from the Hugging Face hub into the user cache, with a progress bar), starts
``python -m llama_cpp.server`` on 127.0.0.1, waits until it answers, and points the session
at it through litellm like any other provider (``openai/local`` + ``api_base``). The server
lives as long as the session and is stopped with it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autopilot.config import Config, LocalConfig
from autopilot.errors import ConfigError, RuntimeFailure, UserError

LOCAL_MODEL_ALIAS = "local"
_RUNNING: dict[str, LocalModelServer] = {}  # url -> server, so create_llm can watch it


class LocalModelError(RuntimeFailure):
    """The local model could not be fetched or served."""


@dataclass(frozen=True)
class HubModel:
    repo_id: str
    filename: str
    size_hint: str


HUB_MODELS: dict[str, HubModel] = {
    "qwen2.5-coder-1.5b": HubModel(
        "Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF", "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", "1.1 GB"
    ),
    "qwen2.5-coder-0.5b": HubModel(
        "Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF", "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", "491 MB"
    ),
}


def models_cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("autopilot", appauthor=False)) / "models"


def is_gguf(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(4) == b"GGUF"
    except OSError:
        return False


def resolve_model_file(local: LocalConfig) -> Path:
    """The GGUF file to serve: ``model_path`` when set, else the hub model (fetched once)."""
    if local.model_path:
        path = Path(local.model_path).expanduser()
        if not path.is_file():
            raise ConfigError(
                f"local.model_path: {path} does not exist",
                hint="point it at a GGUF file, or unset it to fetch the default model",
            )
        if not is_gguf(path):
            raise ConfigError(
                f"local.model_path: {path} is not a GGUF model file (corrupt or another format)",
                hint="download the model again or choose another .gguf file",
            )
        return path
    hub = HUB_MODELS[local.model]
    cached = models_cache_dir() / hub.filename
    if is_gguf(cached):
        return cached
    return _download(hub, cached.parent)


def _download(hub: HubModel, directory: Path) -> Path:
    try:
        from huggingface_hub import hf_hub_download
    except ImportError as exc:
        raise UserError(
            "the local model extra is not installed",
            hint="install it: `pip install 'autopilot[local]'` (or `./install.sh --local`)",
        ) from exc
    print(f"fetching {hub.filename} ({hub.size_hint}) from {hub.repo_id}…", file=sys.stderr)
    try:
        path = Path(hf_hub_download(hub.repo_id, hub.filename, local_dir=directory))
    except Exception as exc:  # offline, hub down, disk full: one line, then the way out
        raise LocalModelError(
            f"could not fetch {hub.filename} from the hub ({type(exc).__name__})",
            hint="without a hub, set `autopilot config set local.model_path /path/to/model.gguf`",
        ) from exc
    if not is_gguf(path):
        raise LocalModelError(
            f"the fetched {path} is not a GGUF file", hint=f"delete {path} and retry"
        )
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_taken(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


class LocalModelServer:
    """One llama-cpp-python server process on loopback; a context manager."""

    def __init__(
        self, local: LocalConfig, model_file: Path, *, log_dir: Path | None = None
    ) -> None:
        self.local = local
        self.model_file = model_file
        self.port = 0
        self.log_path = (log_dir or models_cache_dir()) / "llama-server.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> None:
        try:
            import llama_cpp.server  # noqa: F401  (only to say clearly when it is missing)
        except ImportError as exc:
            raise UserError(
                "the local model server (llama-cpp-python) is not installed",
                hint="install it: `pip install 'autopilot[local]'` (or `./install.sh --local`)",
            ) from exc
        if self.local.port:
            if _port_taken(self.local.port):
                raise UserError(
                    f"port {self.local.port} on 127.0.0.1 is taken; the local model cannot listen there",
                    hint="stop what uses it, or `autopilot config set local.port 0` to pick a free one",
                )
            self.port = self.local.port
        else:
            self.port = _free_port()
        threads = self.local.threads or max(1, (os.cpu_count() or 2) - 1)
        argv = [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(self.model_file),
            "--model_alias", LOCAL_MODEL_ALIAS,
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--n_ctx", str(self.local.context),
            "--n_threads", str(threads),
            "--n_threads_batch", str(max(threads, os.cpu_count() or 1)),
        ]  # fmt: skip
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self._process = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        try:
            self._wait_ready()
        except BaseException:  # Ctrl-C while the model loads: the server is in its own
            self.stop()  # session, so it never saw the SIGINT; __exit__ will not run
            raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.local.startup_timeout_s
        assert self._process is not None
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise LocalModelError(
                    f"the local model server exited with code {self._process.returncode}: {self._last_log_line()}",
                    hint=f"full log: {self.log_path}",
                )
            try:
                with urllib.request.urlopen(f"{self.url}/models", timeout=2) as response:
                    models = json.load(response)
                if any(m.get("id") == LOCAL_MODEL_ALIAS for m in models.get("data", [])):
                    _RUNNING[self.url] = self
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
                pass
            time.sleep(0.2)  # start-up only: the server loads the model before it listens
        self.stop()
        raise LocalModelError(
            f"the local model server did not answer within {self.local.startup_timeout_s:.0f} s",
            hint=f"see {self.log_path}; raise local.startup_timeout_s on a slow machine",
        )

    def _last_log_line(self) -> str:
        try:
            lines = [
                line
                for line in self.log_path.read_text(errors="replace").splitlines()
                if line.strip()
            ]
        except OSError:
            return "no log"
        return lines[-1][:200] if lines else "no output"

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def died(self) -> LocalModelError:
        """The error for a server that stopped under a running session."""
        code = self._process.returncode if self._process else None
        how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        return LocalModelError(
            f"the local model server stopped ({how}) while answering",
            hint=f"its log: {self.log_path}; run the command again to restart it",
        )

    def stop(self) -> None:
        _RUNNING.pop(self.url, None)
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def __enter__(self) -> LocalModelServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class LocalModelClient:
    """An LLM served by a :class:`LocalModelServer` that says so when the server dies.

    Without this, a crashed server shows as a refused connection or, worse, as a stream
    that just ends — a cut reply the agent would take for an answer. The context window is
    the server's ``n_ctx``: litellm does not know it for a local model.
    """

    def __init__(self, inner: Any, server: LocalModelServer) -> None:
        self._inner = inner
        self._server = server

    def __getattr__(self, name: str) -> Any:  # model, supports_vision, check_key …
        return getattr(self._inner, name)

    @property
    def context_window(self) -> int:
        return self._server.local.context

    async def stream(
        self, messages: Sequence[Any], *, stop: Sequence[str] | None = None
    ) -> AsyncIterator[Any]:
        try:
            async for chunk in self._inner.stream(messages, stop=stop):
                yield chunk
        except Exception as exc:
            if not self._server.alive():
                raise self._server.died() from exc
            raise
        if not self._server.alive():
            raise self._server.died()


def watch_local_server(llm: Any, api_base: str) -> Any:
    """``llm`` wrapped in a :class:`LocalModelClient` when ``api_base`` is a server we run."""
    server = _RUNNING.get(api_base.rstrip("/"))
    return LocalModelClient(llm, server) if server is not None else llm


def local_config(config: Config, server: LocalModelServer) -> Config:
    """``config`` pointed at the running local server."""
    return dataclasses.replace(config, model=f"openai/{LOCAL_MODEL_ALIAS}", api_base=server.url)


@contextlib.contextmanager
def serve_local_model(config: Config) -> Iterator[Config]:
    """Start the local model for the length of a session; yields the config that uses it."""
    model_file = resolve_model_file(config.local)
    with LocalModelServer(config.local, model_file) as server:
        yield local_config(config, server)

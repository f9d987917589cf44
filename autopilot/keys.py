"""API keys: the provider's environment variable first, then the OS keyring, then a 0600 file.

Where the OS keyring has a real backend (Secret Service, macOS Keychain, Windows Credential
Locker) keys live there under the service ``autopilot``. On headless Linux keyring often has
only its *fail* backend; then keys go to ``credentials.json`` in the data directory, created
with mode 0600 in a 0700 folder, and every write says so. Keys are never printed in full
(:func:`mask`), never logged, never written to a session log and never passed into the
sandbox (the sandbox gets no host environment at all).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from autopilot.errors import ConfigError

SERVICE = "autopilot"

# The variables litellm itself reads, so a key set in the environment works everywhere.
PROVIDER_ENV_VARS: dict[str, str] = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "mistral": "MISTRAL_API_KEY",
    "groq": "GROQ_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "xai": "XAI_API_KEY",
    "together_ai": "TOGETHERAI_API_KEY",
    "cohere": "COHERE_API_KEY",
    "fireworks_ai": "FIREWORKS_AI_API_KEY",
    "perplexity": "PERPLEXITYAI_API_KEY",
    "huggingface": "HUGGINGFACE_API_KEY",
    "azure": "AZURE_API_KEY",
}

# Providers that run locally and need no key.
KEYLESS_PROVIDERS = frozenset(
    {"ollama", "ollama_chat", "lm_studio", "llamafile", "vllm", "hosted_vllm"}
)

Source = Literal["env", "keyring", "file"]


@dataclass(frozen=True)
class StoredKey:
    provider: str
    source: Source
    masked: str
    env_var: str | None = None


def env_var_for(provider: str) -> str | None:
    """The environment variable litellm reads for ``provider`` (``OPENAI_API_KEY`` …)."""
    provider = provider.lower()
    return PROVIDER_ENV_VARS.get(provider, f"{provider.upper()}_API_KEY" if provider else None)


def mask(key: str) -> str:
    """``sk-abc…wxyz`` style: enough to recognise a key, never enough to use it."""
    if len(key) < 16:  # seven characters shown would be most of a short key
        return "*" * len(key)
    return f"{key[:3]}…{key[-4:]}"


def get_key(provider: str) -> str | None:
    """The key for ``provider``: its environment variable, else the stored one, else None."""
    provider = _check_provider(provider)
    env_var = env_var_for(provider)
    if env_var and os.environ.get(env_var):
        return os.environ[env_var]
    store = _store()
    return store.get(provider)


def set_key(provider: str, key: str) -> Source:
    """Store ``key`` for ``provider``; returns where it went (``keyring`` or ``file``)."""
    provider = _check_provider(provider)
    key = key.strip()
    if not key:
        raise ConfigError("the key is empty", hint="paste the key at the prompt")
    store = _store()
    store.set(provider, key)
    return store.kind


def delete_key(provider: str) -> bool:
    """Delete the stored key; True when there was one."""
    return _store().delete(_check_provider(provider))


def list_keys() -> list[StoredKey]:
    """Every key autopilot can see, stored or in the environment, masked."""
    found: dict[str, StoredKey] = {}
    store = _store()
    for provider in store.providers():
        key = store.get(provider)
        if key:
            found[provider] = StoredKey(provider, store.kind, mask(key), env_var_for(provider))
    for provider, env_var in PROVIDER_ENV_VARS.items():
        if os.environ.get(env_var):
            found[provider] = StoredKey(provider, "env", mask(os.environ[env_var]), env_var)
    return sorted(found.values(), key=lambda k: k.provider)


def backend_description() -> tuple[Source, str]:
    """Where keys are stored here and a human description of it (for ``doctor``)."""
    store = _store()
    return store.kind, store.description


def _check_provider(provider: str) -> str:
    provider = provider.strip().lower()
    if not provider or not all(c.isalnum() or c in "_-" for c in provider):
        raise ConfigError(
            f"'{provider}' is not a provider name",
            hint="use the litellm provider prefix, e.g. openai, anthropic, gemini",
        )
    return provider


# --- stores -----------------------------------------------------------------------------


class _KeyringStore:
    kind: Source = "keyring"

    def __init__(self, keyring_module: object, backend: object) -> None:
        self._keyring = keyring_module
        self.description = f"OS keyring ({type(backend).__module__}.{type(backend).__name__})"

    def get(self, provider: str) -> str | None:
        try:
            return self._keyring.get_password(SERVICE, provider)  # type: ignore[attr-defined]
        except Exception as exc:  # locked, D-Bus gone, backend bug: one line, and a way out
            raise _keyring_failed("read", exc) from exc

    def set(self, provider: str, key: str) -> None:
        try:
            self._keyring.set_password(SERVICE, provider, key)  # type: ignore[attr-defined]
        except Exception as exc:
            raise _keyring_failed("store", exc) from exc
        self._remember(provider, add=True)

    def delete(self, provider: str) -> bool:
        try:
            self._keyring.delete_password(SERVICE, provider)  # type: ignore[attr-defined]
        except Exception:
            return False
        self._remember(provider, add=False)
        return True

    def providers(self) -> list[str]:
        # Keyrings cannot list entries portably: keep the names (not the keys) in a file.
        index = _index_path()
        if not index.exists():
            return []
        try:
            return list(json.loads(index.read_text()))
        except (OSError, ValueError):
            return []

    def _remember(self, provider: str, *, add: bool) -> None:
        names = set(self.providers())
        names.add(provider) if add else names.discard(provider)
        _write_private(_index_path(), json.dumps(sorted(names)))


def _keyring_failed(verb: str, exc: Exception) -> ConfigError:
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
    return ConfigError(
        f"the OS keyring could not {verb} the key ({first})",
        hint="unlock the keyring, set the provider's environment variable, or "
        "`export AUTOPILOT_KEYRING=0` to keep keys in a private file instead",
    )


class _FileStore:
    kind: Source = "file"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.description = f"file {path} (mode 0600; no OS keyring backend here)"

    def _read(self) -> dict[str, str]:
        if not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"{self.path}: cannot read stored keys ({exc})",
                hint=f"delete {self.path} and set the keys again",
            ) from exc
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def get(self, provider: str) -> str | None:
        return self._read().get(provider)

    def set(self, provider: str, key: str) -> None:
        data = self._read()
        data[provider] = key
        _write_private(self.path, json.dumps(data, indent=1))

    def delete(self, provider: str) -> bool:
        data = self._read()
        if provider not in data:
            return False
        del data[provider]
        _write_private(self.path, json.dumps(data, indent=1))
        return True

    def providers(self) -> list[str]:
        return sorted(self._read())


def _index_path() -> Path:
    from autopilot.config import data_dir

    return data_dir() / "keyring-index.json"


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` so that only the owner can ever read it (no window with wider mode)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path.parent, 0o700)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _store() -> _KeyringStore | _FileStore:
    from autopilot.config import data_dir

    file_store = _FileStore(data_dir() / "credentials.json")
    if os.environ.get("AUTOPILOT_KEYRING", "").lower() in {"0", "false", "no", "off"}:
        return file_store
    try:
        import keyring
        from keyring.backends import fail

        backend = keyring.get_keyring()
    except Exception:
        return file_store
    if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 0) <= 0:
        return file_store
    # A chainer whose every member is a fail/null backend is no real keyring either.
    members = getattr(backend, "backends", None)
    if members is not None and not any(getattr(b, "priority", 0) > 0 for b in members):
        return file_store
    return _KeyringStore(keyring, backend)

from __future__ import annotations

import stat

import pytest

from autopilot import config, keys
from autopilot.errors import ConfigError


def test_file_fallback_is_private_and_round_trips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert keys.get_key("openai") is None
    assert keys.set_key("openai", "sk-test-1234567890abcd") == "file"
    path = config.data_dir() / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert keys.get_key("openai") == "sk-test-1234567890abcd"
    listed = keys.list_keys()
    assert [(k.provider, k.source, k.masked) for k in listed] == [("openai", "file", "sk-…abcd")]
    assert keys.delete_key("openai") is True
    assert keys.delete_key("openai") is False
    assert keys.get_key("openai") is None


def test_environment_variable_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    keys.set_key("anthropic", "stored-key-000000")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "env-key-1111111111")
    assert keys.get_key("anthropic") == "env-key-1111111111"
    sources = {k.provider: k.source for k in keys.list_keys()}
    assert sources["anthropic"] == "env"


def test_mask_never_reveals_the_key() -> None:
    secret = "sk-proj-ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    masked = keys.mask(secret)
    assert masked == "sk-…WXYZ"
    assert "ABCDEFGH" not in masked
    assert keys.mask("short") == "*****"


def test_bad_provider_name_and_empty_key() -> None:
    with pytest.raises(ConfigError):
        keys.set_key("open ai", "x")
    with pytest.raises(ConfigError, match="empty"):
        keys.set_key("openai", "   ")


def test_env_var_names_match_litellm() -> None:
    assert keys.env_var_for("openai") == "OPENAI_API_KEY"
    assert keys.env_var_for("together_ai") == "TOGETHERAI_API_KEY"
    assert keys.env_var_for("somethingnew") == "SOMETHINGNEW_API_KEY"


def test_fail_keyring_backend_means_file_store(monkeypatch: pytest.MonkeyPatch) -> None:
    # The machine's real keyring situation: only the fail backend. No env override here.
    monkeypatch.delenv("AUTOPILOT_KEYRING", raising=False)
    import keyring
    from keyring.backends import fail

    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())
    kind, description = keys.backend_description()
    assert kind == "file"
    assert "0600" in description


class _BrokenKeyring:
    """A keyring whose backend fails (locked, D-Bus gone): what Secret Service does."""

    def get_password(self, service: str, name: str) -> str | None:
        raise RuntimeError("org.freedesktop.DBus.Error.ServiceUnknown")

    def set_password(self, service: str, name: str, key: str) -> None:
        raise RuntimeError("org.freedesktop.DBus.Error.ServiceUnknown")


def test_a_failing_keyring_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    store = keys._KeyringStore(_BrokenKeyring(), object())
    monkeypatch.setattr(keys, "_store", lambda: store)
    with pytest.raises(ConfigError, match="keyring") as caught:
        keys.get_key("openai")
    assert caught.value.hint and "AUTOPILOT_KEYRING=0" in caught.value.hint
    with pytest.raises(ConfigError, match="keyring"):
        keys.set_key("openai", "sk-test-1234567890abcd")


def test_mask_hides_most_of_a_short_key() -> None:
    for key in ("123456789", "abcdefghijkl", "sk-abcdefghijk"):
        masked = keys.mask(key)
        assert sum(c not in "*…" for c in masked) <= len(key) // 2, masked

"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.scripted_server import ScriptedServer


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Every test gets its own config and data folders: the person's real ones are never touched."""
    root = tmp_path_factory.mktemp("autopilot-home")
    monkeypatch.setenv("AUTOPILOT_CONFIG_DIR", str(root / "config"))
    monkeypatch.setenv("AUTOPILOT_DATA_DIR", str(root / "data"))
    monkeypatch.setenv("AUTOPILOT_KEYRING", "0")
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    monkeypatch.delenv("AUTOPILOT_CONFIG", raising=False)
    yield root


@pytest.fixture
def scripted_server() -> Iterator[ScriptedServer]:
    """A running scripted OpenAI-compatible server (``.url``); queue replies with ``.push``."""
    server = ScriptedServer().start()
    try:
        yield server
    finally:
        server.stop()

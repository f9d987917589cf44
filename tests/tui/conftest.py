"""Fixtures for the TUI tests: a config with a model, and an app factory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from autopilot.config import Config
from autopilot.tui.app import AutopilotApp
from tests.tui.fake_agent import FakeAgent, Script, factory

SIZE = (80, 24)


def fixed_clock() -> float:
    return 100.0


@pytest.fixture
def config() -> Config:
    return Config(model="scripted/test", user="tester")


@pytest.fixture
def make_app(config: Config, tmp_path: Path) -> Callable[..., tuple[AutopilotApp, list[FakeAgent]]]:
    def make(scripts: list[Script], **kwargs: Any) -> tuple[AutopilotApp, list[FakeAgent]]:
        made: list[FakeAgent] = []
        app = AutopilotApp(
            kwargs.pop("config", config),
            agent_factory=factory(scripts, made),
            clock=fixed_clock,
            history_path=tmp_path / "history",
            workspace=tmp_path,
            **kwargs,
        )
        return app, made

    return make

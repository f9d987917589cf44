"""Agent test fixtures. The sandbox image fixture is the sandbox tests' own (built offline)."""

from __future__ import annotations

from tests.sandbox.conftest import sandbox_image, workspace  # noqa: F401 - re-exported fixtures

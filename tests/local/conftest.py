"""The real models the local-model tests run (assembled from PyPI by fetch_test_model).

``test_gguf`` is the 0.5B (fast: the server-level tests); ``default_gguf`` is the 1.5B,
the model `autopilot --local` uses by default (the end-to-end tasks)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.sandbox.conftest import sandbox_image  # noqa: F401 - the e2e tests' image
from tests.support.fetch_test_model import DEFAULT_DIR, MODELS, is_gguf


def _model(size: str, env_var: str) -> Path:
    path = Path(os.environ.get(env_var, DEFAULT_DIR / MODELS[size].filename))
    if not is_gguf(path):
        pytest.fail(
            f"the test model {path} is missing: run "
            f"`python -m tests.support.fetch_test_model --model {size}` (./install.sh --dev does)"
        )
    return path


@pytest.fixture(scope="session")
def test_gguf() -> Path:
    return _model("0.5b", "AUTOPILOT_TEST_GGUF")


@pytest.fixture(scope="session")
def default_gguf() -> Path:
    return _model("1.5b", "AUTOPILOT_TEST_DEFAULT_GGUF")

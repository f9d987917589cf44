"""The small real model the local-model tests run (assembled from PyPI by fetch_test_model)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.fetch_test_model import DEFAULT_DIR, MODELS, is_gguf


@pytest.fixture(scope="session")
def test_gguf() -> Path:
    path = Path(os.environ.get("AUTOPILOT_TEST_GGUF", DEFAULT_DIR / MODELS["0.5b"].filename))
    if not is_gguf(path):
        pytest.fail(
            f"the test model {path} is missing: run `python -m tests.support.fetch_test_model` "
            "(./install.sh --dev does)"
        )
    return path

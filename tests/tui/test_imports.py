"""Startup stays cheap: the TUI package loads Textual only in run_app, never litellm/docker."""

from __future__ import annotations

import subprocess
import sys


def loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_importing_the_tui_package_loads_no_textual():
    modules = loaded_after("import autopilot.tui")
    assert "textual" not in modules


def test_the_app_module_loads_neither_litellm_nor_docker():
    modules = loaded_after("import autopilot.tui.app")
    assert "textual" in modules
    assert not {"litellm", "docker", "chromadb", "playwright"} & modules

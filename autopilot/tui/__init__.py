"""The Textual front end. Importing this package is cheap: Textual loads in ``run_app``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from autopilot.config import Config


def run_app(config: Config, *, resume: str | None = None) -> int:
    """Run the TUI until the person quits; the process exit code."""
    from autopilot.tui.app import AutopilotApp

    app = AutopilotApp(config, resume=resume, tune_gc=True)
    app.run()
    return app.return_code or 0

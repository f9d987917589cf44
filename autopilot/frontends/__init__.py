"""Text front ends: headless ``autopilot run`` and the plain prompt-toolkit REPL.

Both consume the agent's event stream only; the Textual TUI lives in ``autopilot.tui``.
"""

"""The TUI's widgets, one per module named after its class."""

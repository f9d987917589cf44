"""Helpers shared by the test suite (the scripted OpenAI-compatible server)."""

"""Catch a model that repeats the same code with the same result — small models do, greedy.

Measured: at temperature 0 a 0.5B model sent the same failing block 15 times in a row, each
time after reading the same error; a note alone did not stop it, because the earlier
identical attempts in its context invite it to copy them once more. It also re-ran a cell
that caught its own exception and printed it, getting the same output each time. So, from
the second identical run on (same code up to whitespace, same error or output), the agent
keeps only the latest attempt in the prompt (the session log keeps all of them), says so —
with an error-specific hint for a failure — and after the model has ignored that note
:data:`GIVE_UP_AFTER` times it ends the turn with an error instead of burning the steps.
"""

from __future__ import annotations

from dataclasses import dataclass

from autopilot.agent.prompts import template
from autopilot.sandbox.base import ExecResult

NOTE_AT = 2  # the same code and result this many times: drop duplicates, add a note
GIVE_UP_AFTER = 2  # the model ignored the note this many times: end the turn


@dataclass(frozen=True)
class Verdict:
    repeats: int  # how often this turn this code ran with this result (1: the first time)

    @property
    def repeated(self) -> bool:
        return self.repeats >= NOTE_AT

    @property
    def give_up(self) -> bool:
        return self.repeats >= NOTE_AT + GIVE_UP_AFTER


class RepeatGuard:
    """Counts identical runs in a turn: same code up to whitespace, same error or output.

    Not only in a row: the 0.5B also cycled between two cells (define a helper, call it,
    define it again …), each time with the same output.
    """

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], int] = {}

    def reset(self) -> None:
        """A new turn: the person said something new."""
        self._seen.clear()

    def saw(self, code: str, result: ExecResult) -> Verdict:
        error = result.error
        if error is not None:
            outcome = f"error {error.type}: {error.message}"
        else:
            outcome = f"ok {result.stdout}\0{result.stderr}\0{result.value}"
        key = (" ".join(code.split()), outcome)
        self._seen[key] = self._seen.get(key, 0) + 1
        return Verdict(self._seen[key])


def error_hint(result: ExecResult) -> str:
    """A one-line hint for the error's type, from ``prompts/error_hints.txt`` ("" if none)."""
    if result.error is None:
        return ""
    return _hints().get(result.error.type, _hints().get("*", ""))


def _hints() -> dict[str, str]:
    hints: dict[str, str] = {}
    for line in template("error_hints.txt").template.splitlines():
        name, sep, text = line.partition(":")
        if sep and name.strip() and not line.startswith("#"):
            hints[name.strip()] = text.strip()
    return hints

"""What a turn shares with :meth:`Agent.interrupt`: its phase, the queue it reads, the flag.

Streams (the LLM's chunks, a cell's output) are pumped by a task into a queue that the
turn reads; an interrupt sets the flag, wakes the reader with :data:`WAKE` and, during the
reply, cancels the LLM task — so the turn notices at once, not at the next chunk.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Literal

Phase = Literal["idle", "turn", "llm", "code"]

END = object()  # the producer is done
WAKE = object()  # an interrupt: look at the flag


@dataclass
class Failure:
    """The producer failed; the reader re-raises or reports it."""

    error: BaseException


class TurnInterrupted(Exception):
    """Raised inside the turn when the person interrupted a wait."""


class TurnControl:
    def __init__(self) -> None:
        self.phase: Phase = "idle"
        self.interrupted = False
        self.queue: asyncio.Queue[Any] | None = None
        self.llm_task: asyncio.Task[None] | None = None
        self._event: asyncio.Event | None = None

    def begin(self) -> None:
        if self.phase != "idle":
            raise RuntimeError("a turn is already running")
        self.interrupted = False
        self._event = asyncio.Event()
        self.phase = "turn"

    def end(self) -> None:
        self.phase = "idle"
        self.queue = None
        self.llm_task = None

    def new_queue(self, phase: Phase) -> asyncio.Queue[Any]:
        self.queue = asyncio.Queue()
        self.phase = phase
        return self.queue

    def back_to_turn(self) -> None:
        self.phase = "turn"
        self.queue = None
        self.llm_task = None

    def request_interrupt(self) -> Phase:
        """Flag the interrupt and wake the turn; returns the phase it hit."""
        phase = self.phase
        if phase == "idle":
            return phase
        self.interrupted = True
        if self._event is not None:
            self._event.set()
        if self.queue is not None:
            self.queue.put_nowait(WAKE)
        if phase == "llm" and self.llm_task is not None:
            self.llm_task.cancel()
        return phase

    async def race(self, awaitable: Awaitable[Any]) -> Any:
        """Await ``awaitable`` unless the person interrupts first (then raise)."""
        task = asyncio.ensure_future(awaitable)
        assert self._event is not None
        waiter = asyncio.create_task(self._event.wait())
        try:
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        if task.done():
            return task.result()
        task.cancel()
        raise TurnInterrupted()

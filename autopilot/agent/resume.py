"""Rebuild a session's conversation from its event log, for ``--resume``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from autopilot import events as ev
from autopilot.agent.prompts import render
from autopilot.llm.base import ImagePart, Message

MAX_LISTED_CELLS = 12
MAX_CELL_CHARS = 1_500


@dataclass
class Restored:
    history: list[Message] = field(default_factory=list)
    person_indexes: list[int] = field(default_factory=list)
    succeeded_cells: list[tuple[str, str]] = field(default_factory=list)  # (language, code)
    blocks: int = 0
    turns: int = 0


def restore(events: Sequence[ev.Event]) -> Restored:
    """The model's history as it was: person messages, replies and observations, in order."""
    restored = Restored()
    started: dict[str, ev.CodeStarted] = {}
    for event in events:
        if isinstance(event, ev.UserMessage):
            restored.person_indexes.append(len(restored.history))
            restored.history.append(Message("user", event.text))
            restored.turns += 1
        elif isinstance(event, ev.AssistantMessage):
            restored.history.append(Message("assistant", event.text))
        elif isinstance(event, ev.Observation):
            images = tuple(
                ImagePart(Path(p).read_bytes()) for p in event.images if Path(p).is_file()
            )
            restored.history.append(Message("user", event.text, images))
        elif isinstance(event, ev.CodeProposed):
            restored.blocks += 1
        elif isinstance(event, ev.CodeStarted):
            started[event.block_id] = event
        elif isinstance(event, ev.CodeFinished) and event.ok and event.block_id in started:
            cell = started[event.block_id]
            restored.succeeded_cells.append((cell.language, cell.code))
    return restored


def resume_note(succeeded_cells: Sequence[tuple[str, str]]) -> str:
    """Tells the model the sandbox is fresh, listing the cells that succeeded before."""
    cells_text = ""
    if succeeded_cells:
        listed = succeeded_cells[-MAX_LISTED_CELLS:]
        blocks = "\n".join(
            f"```{language}\n{code.strip()[:MAX_CELL_CHARS]}\n```" for language, code in listed
        )
        cells_text = render("resumed_cells.txt", cells=blocks)
    return render("resumed.txt", cells_text=cells_text)

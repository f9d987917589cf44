"""The one event vocabulary every part of Autopilot speaks.

The agent emits these; the TUI renders them, ``run --json`` prints them one per line and
the session store appends them to disk, so a session can be resumed or replayed exactly.
Each event is a frozen dataclass with a ``type`` tag; :func:`to_dict` / :func:`from_dict`
convert to and from plain JSON objects. ``SCHEMA_VERSION`` changes when a field changes
meaning or disappears (adding a field or an event type keeps the version).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

SCHEMA_VERSION = 1

_REGISTRY: dict[str, type[Event]] = {}


def _now() -> float:
    return time.time()


@dataclass(frozen=True, kw_only=True)
class Event:
    """Base of all events. ``ts`` is seconds since the epoch."""

    type: ClassVar[str] = "event"
    ts: float = field(default_factory=_now)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        tag = cls.__dict__.get("type")
        if isinstance(tag, str):
            _REGISTRY[tag] = cls


# --- session and conversation -----------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SessionStarted(Event):
    type: ClassVar[str] = "session_started"
    session_id: str
    user: str
    model: str
    workspace: str
    version: str
    resumed: bool = False


@dataclass(frozen=True, kw_only=True)
class UserMessage(Event):
    type: ClassVar[str] = "user_message"
    text: str


@dataclass(frozen=True, kw_only=True)
class AssistantDelta(Event):
    """A piece of the assistant's reply as it streams."""

    type: ClassVar[str] = "assistant_delta"
    text: str
    step: int = 0


@dataclass(frozen=True, kw_only=True)
class AssistantMessage(Event):
    """The assistant's whole reply for one step, once the stream has ended."""

    type: ClassVar[str] = "assistant_message"
    text: str
    step: int = 0


@dataclass(frozen=True, kw_only=True)
class StepStarted(Event):
    type: ClassVar[str] = "step_started"
    step: int


# --- code actions -----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CodeProposed(Event):
    type: ClassVar[str] = "code_proposed"
    block_id: str
    language: str
    code: str


@dataclass(frozen=True, kw_only=True)
class CodeDecision(Event):
    """What the person (or the approval mode) decided about a proposed block."""

    type: ClassVar[str] = "code_decision"
    block_id: str
    decision: Literal["run", "skip", "edit", "always", "refused"]
    code: str = ""
    reason: str = ""
    by: Literal["person", "mode"] = "person"


@dataclass(frozen=True, kw_only=True)
class CodeStarted(Event):
    type: ClassVar[str] = "code_started"
    block_id: str
    code: str
    language: str = "python"


@dataclass(frozen=True, kw_only=True)
class Output(Event):
    """A chunk of a running cell's stdout or stderr, streamed as produced."""

    type: ClassVar[str] = "output"
    block_id: str
    stream: Literal["stdout", "stderr"]
    text: str


@dataclass(frozen=True, kw_only=True)
class ImageOutput(Event):
    """An image a cell or a tool produced, saved as a PNG file on the host."""

    type: ClassVar[str] = "image"
    block_id: str
    path: str
    mime: str = "image/png"
    width: int = 0
    height: int = 0


@dataclass(frozen=True, kw_only=True)
class CodeFinished(Event):
    type: ClassVar[str] = "code_finished"
    block_id: str
    ok: bool
    duration_s: float
    value: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    traceback: str | None = None
    state_lost: bool = False
    interrupted: bool = False
    images: int = 0


@dataclass(frozen=True, kw_only=True)
class Observation(Event):
    """What the agent told the model after a step (cell results, nudges, resume notes).

    Kept in the session log so a resumed session rebuilds the model's history exactly;
    ``images`` are the paths of PNGs that went with it.
    """

    type: ClassVar[str] = "observation"
    text: str
    step: int = 0
    images: list[str] = field(default_factory=list)


# --- host tools -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ToolCalled(Event):
    """A host tool call from the sandbox and the policy's decision on it."""

    type: ClassVar[str] = "tool_called"
    call_id: str
    tool: str
    args: dict[str, Any]
    decision: Literal["allow", "deny", "ask"]
    rule: str = ""
    by: Literal["policy", "person", "session_rule"] = "policy"


@dataclass(frozen=True, kw_only=True)
class ToolFinished(Event):
    type: ClassVar[str] = "tool_finished"
    call_id: str
    tool: str
    ok: bool
    summary: str = ""
    error: str | None = None
    duration_s: float = 0.0
    untrusted: bool = False


# --- the end of a turn ------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class FinalAnswer(Event):
    type: ClassVar[str] = "final_answer"
    text: str


@dataclass(frozen=True, kw_only=True)
class Usage(Event):
    """Token use and cost of one LLM call, and the running totals of the session."""

    type: ClassVar[str] = "usage"
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None = None
    context_window: int | None = None


@dataclass(frozen=True, kw_only=True)
class ErrorEvent(Event):
    """An error the person should see. ``kind`` is the error class name."""

    type: ClassVar[str] = "error"
    kind: str
    message: str
    hint: str | None = None
    fatal: bool = False


@dataclass(frozen=True, kw_only=True)
class Notice(Event):
    """Something worth telling the person that is not an error (warnings, info)."""

    type: ClassVar[str] = "notice"
    level: Literal["info", "warning"]
    message: str


@dataclass(frozen=True, kw_only=True)
class SandboxState(Event):
    type: ClassVar[str] = "sandbox_state"
    state: Literal["starting", "ready", "busy", "restarting", "restarted", "stopped", "failed"]
    detail: str = ""
    state_lost: bool = False


@dataclass(frozen=True, kw_only=True)
class InterruptedEvent(Event):
    type: ClassVar[str] = "interrupted"
    during: Literal["llm", "code", "tool", "idle"] = "idle"


@dataclass(frozen=True, kw_only=True)
class TurnFinished(Event):
    """The agent stopped working on the last user message."""

    type: ClassVar[str] = "turn_finished"
    reason: Literal["final_answer", "no_code", "max_steps", "interrupted", "error"]
    steps: int


# --- later stages: room for skills, memory and proactivity ------------------------------


@dataclass(frozen=True, kw_only=True)
class Suggestion(Event):
    type: ClassVar[str] = "suggestion"
    suggestion_id: str
    text: str


@dataclass(frozen=True, kw_only=True)
class MemoryChanged(Event):
    type: ClassVar[str] = "memory_changed"
    operation: Literal["add", "update", "delete"]
    memory_id: str
    text: str


@dataclass(frozen=True, kw_only=True)
class SkillChanged(Event):
    type: ClassVar[str] = "skill_changed"
    operation: Literal["add", "update", "delete"]
    name: str


# --- serialisation ----------------------------------------------------------------------


def to_dict(event: Event) -> dict[str, Any]:
    """The JSON object for an event: ``{"type": ..., "v": SCHEMA_VERSION, ...fields}``."""
    data: dict[str, Any] = {"type": event.type, "v": SCHEMA_VERSION}
    data.update(dataclasses.asdict(event))
    return data


def from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from :func:`to_dict`'s output; unknown fields are ignored."""
    try:
        cls = _REGISTRY[data["type"]]
    except KeyError as exc:
        raise ValueError(f"unknown event type: {data.get('type')!r}") from exc
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


def event_types() -> dict[str, type[Event]]:
    """Every registered event type by its tag (for docs and tests)."""
    return dict(_REGISTRY)

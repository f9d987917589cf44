"""The host side of a tool call: look up, bind, ask the policy (and maybe the person), run.

``ToolBridge.handle`` is the sandbox's ``ToolHandler``. For every ``ToolRequest`` it

1. finds the tool and binds the arguments to its signature (bad ones → ``ToolError``
   quoting the signature, so the model can correct itself);
2. asks the :class:`~autopilot.policy.Policy`: ``deny`` → ``PermissionDenied`` with the
   rule's message; ``ask`` → ``Interaction.approve_tool`` → once / always (a session rule)
   / deny;
3. runs the tool (blocking ones in a thread, async ones awaited) and returns its result as
   JSON, untrusted content marked (see :mod:`autopilot.tools.results`).

Every call is a ``ToolCalled`` event (with the decision and the rule) and a
``ToolFinished`` event. A per-step budget stops runaway loops (a step is one code cell:
``ToolRequest.cell`` changing, or ``new_step()``, fills it again). Nothing a tool returns can
reach the policy or an approval: only the person and the config change them.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from typing import Any

from autopilot.errors import PermissionDenied, ToolError
from autopilot.events import Event, ToolCalled, ToolFinished
from autopilot.interaction import Interaction, ToolApprovalRequest
from autopilot.policy.engine import Decision, Policy
from autopilot.sandbox.base import ToolRequest, ToolSpec
from autopilot.tools.registry import Tool, ToolRegistry
from autopilot.tools.results import summarize, to_json

DEFAULT_STEP_BUDGET = 50

Emit = Callable[[Event], Any]


class ToolBridge:
    def __init__(
        self,
        registry: ToolRegistry,
        policy: Policy,
        interaction: Interaction,
        emit: Emit | None = None,
        *,
        step_budget: int = DEFAULT_STEP_BUDGET,
    ) -> None:
        self.registry = registry
        self.policy = policy
        self.interaction = interaction
        self.emit = emit or (lambda event: None)
        self.step_budget = step_budget
        self.calls_this_step = 0
        self._cell = ""

    # The agent takes the bridge as ``tools=``: it renders the prompt and defines the stubs.
    def prompt_text(self, *, brief: bool = False) -> str:
        return self.registry.prompt_text(brief=brief)

    def specs(self) -> list[ToolSpec]:
        return self.registry.specs()

    def set_emit(self, emit: Emit) -> None:
        """Route events to ``emit`` (the agent's, once it exists)."""
        self.emit = emit

    async def aclose(self) -> None:
        await self.registry.aclose()

    def new_step(self) -> None:
        """A new agent step starts: the tool-call budget is full again."""
        self.calls_this_step = 0

    async def handle(self, request: ToolRequest) -> Any:
        if request.cell and request.cell != self._cell:  # each cell is a step of its own
            self._cell = request.cell
            self.new_step()
        self.calls_this_step += 1
        if self.calls_this_step > self.step_budget:
            message = (
                f"tool call budget used up: at most {self.step_budget} tool calls per step; "
                "stop looping, look at what you have and answer or change approach"
            )
            await self._refused(request, dict(request.args), "step-budget", message)
            raise ToolError(message)

        tool = self.registry.get(request.tool)
        if tool is None:
            message = (
                f"there is no tool {request.tool!r}; available: {', '.join(self.registry.names())}"
            )
            await self._refused(request, dict(request.args), "unknown-tool", message)
            raise ToolError(message)
        try:
            bound = _bind(tool, request.args)
        except ToolError as exc:
            await self._refused(request, dict(request.args), "invalid-arguments", str(exc))
            raise

        args = {k: list(v) if isinstance(v, tuple) else v for k, v in bound.arguments.items()}
        decision = self.policy.decide(tool.qualified_name, args)
        await self._emit(
            ToolCalled(
                call_id=request.call_id,
                tool=tool.qualified_name,
                args=args,
                decision=decision.effect,
                rule=decision.rule.name,
                by=decision.by,
            )
        )
        if decision.effect == "deny":
            message = f"{tool.qualified_name} denied by the policy: {decision.message}"
            await self._finished(request, tool, ok=False, error=message)
            raise PermissionDenied(message)
        if decision.effect == "ask":
            await self._ask_person(request, tool, args, decision)
        return await self._run(request, tool, bound)

    async def _ask_person(
        self, request: ToolRequest, tool: Tool, args: dict[str, Any], decision: Decision
    ) -> None:
        approval = await self.interaction.approve_tool(
            ToolApprovalRequest(
                call_id=request.call_id,
                tool=tool.qualified_name,
                args=args,
                rule=decision.rule.name,
                reason=decision.rule.description or decision.rule.message,
            )
        )
        if approval.choice == "always":
            self.policy.allow_for_session(tool.qualified_name, decision.rule)
        elif approval.choice != "once":
            why = f": {approval.reason}" if approval.reason else ""
            message = f"{tool.qualified_name} was denied by the person{why}"
            await self._finished(request, tool, ok=False, error=message)
            raise PermissionDenied(message)

    async def _run(self, request: ToolRequest, tool: Tool, bound: inspect.BoundArguments) -> Any:
        started = time.perf_counter()
        try:
            if tool.is_async:
                value = await tool.func(*bound.args, **bound.kwargs)
            else:
                value = await asyncio.to_thread(tool.func, *bound.args, **bound.kwargs)
            result = to_json(value, tool.qualified_name, tool.untrusted)
        except (ToolError, PermissionDenied) as exc:
            await self._finished(request, tool, ok=False, error=str(exc), started=started)
            raise
        except Exception as exc:  # a tool bug or library failure goes back to the model
            message = f"{tool.qualified_name} failed: {type(exc).__name__}: {exc}"
            await self._finished(request, tool, ok=False, error=message, started=started)
            raise ToolError(message) from exc
        await self._finished(request, tool, ok=True, summary=summarize(result), started=started)
        return result

    async def _refused(
        self, request: ToolRequest, args: dict[str, Any], rule: str, message: str
    ) -> None:
        await self._emit(
            ToolCalled(
                call_id=request.call_id, tool=request.tool, args=args, decision="deny", rule=rule
            )
        )
        await self._emit(
            ToolFinished(call_id=request.call_id, tool=request.tool, ok=False, error=message)
        )

    async def _finished(
        self,
        request: ToolRequest,
        tool: Tool,
        *,
        ok: bool,
        summary: str = "",
        error: str | None = None,
        started: float | None = None,
    ) -> None:
        await self._emit(
            ToolFinished(
                call_id=request.call_id,
                tool=tool.qualified_name,
                ok=ok,
                summary=summary,
                error=error,
                duration_s=time.perf_counter() - started if started is not None else 0.0,
                untrusted=tool.untrusted and ok,
            )
        )

    async def _emit(self, event: Event) -> None:
        result = self.emit(event)
        if inspect.isawaitable(result):
            await result


def _bind(tool: Tool, args: dict[str, Any]) -> inspect.BoundArguments:
    """Bind JSON arguments by name; a ``*keys`` parameter takes a list under its name."""
    signature = tool.signature
    positional: list[Any] = []
    keywords = dict(args)
    for param in signature.parameters.values():
        if param.kind is param.VAR_POSITIONAL and param.name in keywords:
            values = keywords.pop(param.name)
            if not isinstance(values, list | tuple):
                values = [values]
            # Everything before *args must then be positional as well.
            for earlier in signature.parameters.values():
                if earlier is param:
                    break
                if earlier.name in keywords:
                    positional.append(keywords.pop(earlier.name))
            positional.extend(values)
    try:
        bound = signature.bind(*positional, **keywords)
    except TypeError as exc:
        raise ToolError(
            f"bad arguments for {tool.qualified_name}: {exc}; "
            f"signature: {tool.qualified_name}{tool.signature_text}"
        ) from None
    bound.apply_defaults()
    for name, value in bound.arguments.items():
        param = signature.parameters[name]
        values = value if param.kind is param.VAR_POSITIONAL else (value,)
        expected = _SIMPLE_TYPES.get(str(param.annotation).replace("builtins.", ""))
        if expected is None or value is param.default:
            continue
        for item in values:
            if not isinstance(item, expected) or (isinstance(item, bool) and bool not in expected):
                raise ToolError(
                    f"bad arguments for {tool.qualified_name}: {name} must be "
                    f"{param.annotation}, got {type(item).__name__} {item!r}; "
                    f"signature: {tool.qualified_name}{tool.signature_text}"
                )
    return bound


# Checked before the call so the model gets a clear message instead of a deep traceback.
_SIMPLE_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "<class 'str'>": (str,),
    "<class 'int'>": (int,),
    "<class 'float'>": (int, float),
    "<class 'bool'>": (bool,),
}

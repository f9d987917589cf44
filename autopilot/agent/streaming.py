"""Stream one reply: text deltas out at once, cut at the end of the first code block.

The closing fence is recognised as it streams (:class:`FenceParser`); then the reply is
cut there, the LLM task is cancelled (which closes the HTTP stream) and the blocks go to
the agent. Small models otherwise go on to invent the cell's output.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from autopilot import events as ev
from autopilot.agent.control import END, Failure, TurnControl
from autopilot.agent.fences import Block, FenceParser, classify
from autopilot.llm.base import LLM, LLMUsage, Message, TextDelta


@dataclass
class Reply:
    text: str = ""
    blocks: list[Block] = field(default_factory=list)
    usage: LLMUsage | None = None
    interrupted: bool = False
    error: BaseException | None = None


async def stream_reply(
    llm: LLM,
    prompt: list[Message],
    step: int,
    reply: Reply,
    control: TurnControl,
    record: Callable[[ev.Event], ev.Event],
    background: set[asyncio.Task[Any]],
) -> AsyncIterator[ev.Event]:
    queue = control.new_queue("llm")
    task = asyncio.create_task(_pump(llm, prompt, queue), name="llm-stream")
    control.llm_task = task
    parser = FenceParser()
    text = ""
    finished = False
    try:
        while True:
            item = await queue.get()
            if control.interrupted:
                reply.interrupted = True
                break
            if item is END:
                finished = True
                break
            if isinstance(item, TextDelta):
                start = len(text)
                text += item.text
                blocks = parser.feed(item.text)
                reply.blocks.extend(blocks)
                actions = [b for b in blocks if classify(b) != "display"]
                if actions:
                    # Stop at the first code block: what follows would be invented output.
                    # Blocks already received in the same chunk still count (run in order).
                    cut = actions[-1].end
                    text = text[:cut]
                    reply.blocks[:] = [b for b in reply.blocks if b.end <= cut]
                    if cut > start:
                        yield record(ev.AssistantDelta(text=text[start:], step=step))
                    break
                if item.text:
                    yield record(ev.AssistantDelta(text=item.text, step=step))
            elif isinstance(item, LLMUsage):
                reply.usage = item
            elif isinstance(item, Failure):
                reply.error = item.error
                break
            elif isinstance(item, ev.Event):
                yield record(item)
    finally:
        if not task.done():
            task.cancel()  # closes the stream; awaited at the end of the turn
            background.add(task)
            task.add_done_callback(background.discard)
        control.back_to_turn()
    if finished:
        reply.blocks.extend(parser.finish())
    reply.text = text


async def _pump(llm: LLM, prompt: list[Message], queue: asyncio.Queue[Any]) -> None:
    stream = llm.stream(prompt)
    try:
        async for chunk in stream:
            queue.put_nowait(chunk)
        queue.put_nowait(END)
    except asyncio.CancelledError:
        queue.put_nowait(END)
        raise
    except BaseException as exc:  # reported by the turn as an ErrorEvent
        queue.put_nowait(Failure(exc))
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()

"""Process-level care for the TUI: handlers that never crash the app, and GC tuning."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

GC_THRESHOLD = 20_000


def freeze_startup_objects() -> None:
    """Move what start-up made (modules, styles, widgets) out of the collector's sight.

    Full collections scan every tracked object; with Textual's render caches a long session
    has hundreds of thousands, and each full pass stalled the screen for 0.5 s or more. A
    larger first threshold makes full passes far rarer (young passes stay a few ms).
    """
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])


def guarded(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Errors in a handler become a message in the conversation and a toast, never a crash."""

    @functools.wraps(handler)
    async def wrapper(self: Any, *args: Any) -> None:
        try:
            await handler(self, *args)
        except Exception as exc:
            self.log.error(f"{handler.__name__}: {exc!r}")
            await self.show_error(exc)

    return wrapper

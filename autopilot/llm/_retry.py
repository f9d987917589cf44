"""How long to wait before retrying a failed model call."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from autopilot.config import LLMConfig


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter; a server's ``Retry-After`` wins when it gives one."""

    max_retries: int = 3
    base_delay_s: float = 1.0
    max_delay_s: float = 30.0

    @classmethod
    def from_config(cls, config: LLMConfig) -> Backoff:
        return cls(config.max_retries, config.retry_base_delay_s, config.retry_max_delay_s)

    def delay_s(
        self,
        attempt: int,
        retry_after_s: float | None = None,
        rand: Callable[[], float] = random.random,
    ) -> float | None:
        """Seconds to wait before retry number ``attempt + 1``, or None to give up.

        Giving up happens when the retries are spent, or when the server asks for a longer
        pause than ``max_delay_s`` (better to say so than to hang silently for minutes).
        """
        if attempt >= self.max_retries:
            return None
        if retry_after_s is not None:
            return retry_after_s if retry_after_s <= self.max_delay_s else None
        ceiling = min(self.max_delay_s, self.base_delay_s * 2**attempt)
        # Jitter in [50%, 100%] of the ceiling: spreads clients out, still grows each time.
        return ceiling * (0.5 + 0.5 * rand())

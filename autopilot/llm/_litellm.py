"""Importing and taming litellm: once, lazily, quietly, and never with a key in a log line.

``import litellm`` takes seconds, so nothing imports it at module level; front ends may call
:func:`load_litellm` in a background thread at startup to hide that cost.
"""

from __future__ import annotations

import logging
import os
import threading
from types import ModuleType

from autopilot.llm._errors import scrub

_lock = threading.Lock()
_module: ModuleType | None = None

# litellm's own loggers; they may print request details (headers included) when verbose.
_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "litellm")


def load_litellm() -> ModuleType:
    """Import litellm with the local cost map, its prints and telemetry off (idempotent)."""
    global _module
    if _module is not None:
        return _module
    with _lock:
        if _module is None:
            # The remote cost map would be fetched over the network at import time.
            os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
            import litellm

            litellm.suppress_debug_info = True  # no "Give Feedback / Get Help" prints
            litellm.set_verbose = False
            # With the default aiohttp transport, closing a stream early only *releases*
            # the connection and the server keeps generating; httpx closes it for real.
            litellm.disable_aiohttp_transport = True
            if hasattr(litellm, "telemetry"):
                litellm.telemetry = False
            for name in _LOGGERS:
                logger = logging.getLogger(name)
                logger.setLevel(logging.ERROR)
                if not any(isinstance(f, _ScrubSecrets) for f in logger.filters):
                    logger.addFilter(_ScrubSecrets())
            _module = litellm
    return _module


class _ScrubSecrets(logging.Filter):
    """Rewrites every record litellm still logs so nothing that looks like a key survives."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.msg = scrub(record.getMessage())
            record.args = ()
        except Exception:  # a broken record must not break the call that logged it
            record.msg, record.args = "(unprintable litellm log record)", ()
        return True

"""Turning what a tool returned into JSON for the sandbox, with untrusted content marked.

Text that came from the web, a page or the screen is *data, never instructions*. Tools
wrap such text in :class:`Untrusted`; the bridge renders it as
``<untrusted source="browser.read">…</untrusted>`` so the model (and the person reading the
log) can always tell it apart from what the person said. A closing marker inside the
content is defused, so a page cannot end the block early and speak "from outside" it.
Untrusted content can never change the policy or an approval: those are only changed by
the person (``Interaction``) and the config.

Images (PNG) travel as ``{"__image__": "<base64>"}``; the sandbox decodes them.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import re
from typing import Any

from autopilot.sandbox.base import ExecImage


class Untrusted(str):
    """A piece of text from outside (a page, a search result, the screen)."""

    __slots__ = ()


# Any spelling a reader might take for the marker: case, and spaces around the slash.
_MARKER = re.compile(r"<(\s*/?\s*untrusted)", re.IGNORECASE)


def mark_untrusted(text: str, source: str) -> str:
    body = _MARKER.sub(r"&lt;\1", text)
    return f'<untrusted source="{html.escape(source, quote=True)}">{body}</untrusted>'


def to_json(value: Any, source: str, untrusted: bool = False) -> Any:
    """A JSON-able copy of ``value``; ``Untrusted`` strings (and, for an untrusted tool, a
    bare string result) come out wrapped in the marker."""
    if isinstance(value, str) and untrusted and not isinstance(value, Untrusted):
        return mark_untrusted(value, source)
    return _encode(value, source)


def _encode(value: Any, source: str) -> Any:
    if isinstance(value, Untrusted):
        return mark_untrusted(str(value), source)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, ExecImage):
        return {"__image__": base64.b64encode(value.png).decode("ascii")}
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {str(k): _encode(v, source) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_encode(v, source) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _encode(dataclasses.asdict(value), source)
    return str(value)


def summarize(value: Any, limit: int = 160) -> str:
    """A one-line summary of a JSON result for the ToolFinished event."""
    if isinstance(value, dict) and "__image__" in value:
        return f"image ({len(value['__image__']) * 3 // 4} bytes PNG)"
    text = value if isinstance(value, str) else repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"

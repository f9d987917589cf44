"""From litellm's exceptions to Autopilot's error tree: one line, actionable, no secrets.

litellm wraps provider failures in its own classes, but not always the obvious one: a
refused connection arrives as ``InternalServerError("Connection error.")`` with the real
``ConnectionRefusedError`` deep in the ``__cause__`` chain, and its ``Timeout`` is a
subclass of ``APIConnectionError``. So :func:`classify` looks at class names along the MRO
and the cause chain (which also lets unit tests use small fakes) rather than trusting the
outermost type.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from autopilot.errors import (
    AuthenticationError,
    ContextWindowExceededError,
    EndpointUnreachableError,
    LLMError,
    LLMTimeoutError,
    ModelNotFoundError,
    RateLimitError,
)

Kind = Literal[
    "context_window",
    "timeout",
    "unreachable",
    "auth",
    "forbidden",
    "not_found",
    "rate_limit",
    "reset",
    "server",
    "bad_request",
    "other",
]

RETRYABLE: frozenset[Kind] = frozenset({"rate_limit", "timeout", "server", "reset"})

_TIMEOUT_NAMES = {
    "Timeout",
    "APITimeoutError",
    "TimeoutException",
    "ReadTimeout",
    "ConnectTimeout",
    "PoolTimeout",
    "SocketTimeoutError",
    "ServerTimeoutError",
    "TimeoutError",
}
_UNREACHABLE_NAMES = {
    "ConnectionRefusedError",
    "gaierror",
    "ClientConnectorError",
    "ClientConnectorDNSError",
    "ConnectError",
}
_RESET_NAMES = {
    "ConnectionResetError",
    "ServerDisconnectedError",
    "RemoteProtocolError",
    "ClientPayloadError",
    "ReadError",
    "APIConnectionError",
}
_SERVER_NAMES = {"InternalServerError", "ServiceUnavailableError", "BadGatewayError"}
_UNKNOWN_MODEL = re.compile(
    r"LLM Provider NOT provided|model[_ ]not[_ ]found|does not exist|unknown model|"
    r"no such model|model .* not found",
    re.IGNORECASE,
)

# Things that look like credentials: provider key formats, bearer tokens, key=... pairs,
# and any long unbroken run of key-ish characters.
_SECRET_PATTERNS = (
    re.compile(r"\b(?:sk|pk|rk|gsk|xai|sk-ant|sk-or)-[A-Za-z0-9_\-]{6,}"),
    re.compile(r"\bAIza[0-9A-Za-z_\-]{20,}"),
    re.compile(r"(?i)\bbearer\s+[^\s,;\"']+"),
    re.compile(
        r"(?i)\b(api[_-]?key|x-api-key|authorization|token)([\"']?\s*[:=]\s*[\"']?)[^\s,;\"'&]+"
    ),
    re.compile(r"\b[A-Za-z0-9_\-]{40,}\b"),
)


@dataclass(frozen=True)
class CallContext:
    """What an error message may name about the call (never the key itself)."""

    model: str
    provider: str
    endpoint: str
    timeout_s: float
    secrets: tuple[str, ...] = ()


def scrub(text: str, secrets: Sequence[str] = ()) -> str:
    """``text`` with the given secrets and anything that looks like a key replaced."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    for pattern in _SECRET_PATTERNS:
        if pattern.groups >= 2:
            text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
        else:
            text = pattern.sub("***", text)
    return text


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def classify(exc: BaseException) -> Kind:
    """What kind of failure ``exc`` is, whatever litellm wrapped it in."""
    outer = _names(exc)
    inner: set[str] = set()
    for link in _chain(exc):
        inner |= _names(link)
    status = getattr(exc, "status_code", None)
    text = str(getattr(exc, "message", "") or exc)
    if "ContextWindowExceededError" in outer:
        return "context_window"
    if outer & {"Timeout", "APITimeoutError"} or inner & _TIMEOUT_NAMES:
        return "timeout"
    if inner & _UNREACHABLE_NAMES:
        return "unreachable"
    if "AuthenticationError" in outer or status == 401:
        return "auth"
    if "PermissionDeniedError" in outer or status == 403:
        return "forbidden"
    if "NotFoundError" in outer or status == 404:
        return "not_found"
    if "RateLimitError" in outer or status == 429:
        return "rate_limit"
    if inner & _RESET_NAMES:
        return "reset"
    if outer & _SERVER_NAMES or (isinstance(status, int) and status >= 500):
        return "server"
    if _UNKNOWN_MODEL.search(text):
        return "not_found"
    if outer & {"BadRequestError", "UnprocessableEntityError"} or status in (400, 422):
        return "bad_request"
    return "other"


def retry_after_s(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait (``Retry-After`` / ``retry-after-ms``), if any."""
    for headers in _headers(exc):
        value = headers.get("retry-after-ms")
        if value:
            try:
                return max(0.0, float(value) / 1000)
            except ValueError:
                pass
        value = headers.get("retry-after")
        if not value:
            continue
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                continue
            return max(0.0, when.timestamp() - time.time())
    return None


def _headers(exc: BaseException) -> Iterator[dict[str, str]]:
    candidates = (
        getattr(exc, "litellm_response_headers", None),
        getattr(getattr(exc, "response", None), "headers", None),
        getattr(exc, "headers", None),
    )
    for headers in candidates:
        if headers:
            try:
                yield {str(k).lower(): str(v) for k, v in dict(headers).items()}
            except (TypeError, ValueError):
                continue


_PREFIXES = re.compile(
    r"^(?:litellm\.\w+:\s*|\w+Error:\s*|\w+Exception\s*-\s*|Error code: \d+ - )+"
)


def detail(exc: BaseException, secrets: Sequence[str] = (), limit: int = 200) -> str:
    """The provider's own words, without litellm's prefixes: one short, scrubbed line."""
    text = str(getattr(exc, "message", "") or exc or type(exc).__name__)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    text = _PREFIXES.sub("", lines[0] if lines else type(exc).__name__).strip()
    text = scrub(text, secrets)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def to_error(exc: BaseException, ctx: CallContext, *, retries: int = 0) -> LLMError:
    """The Autopilot error for ``exc``; ``retries`` is how many retries were spent."""
    kind = classify(exc)
    why = detail(exc, ctx.secrets)
    after = f" after {retries} {'retry' if retries == 1 else 'retries'}" if retries else ""
    status = getattr(exc, "status_code", None)
    if kind == "context_window":
        return ContextWindowExceededError(
            f"the conversation no longer fits {ctx.model}'s context window ({why})",
            hint="start a new session, or pick a model with a larger context window",
        )
    if kind == "timeout":
        return LLMTimeoutError(
            f"{ctx.model} did not answer within {ctx.timeout_s:g}s{after}",
            hint="raise it with `autopilot config set llm.timeout_s 300`, or check the endpoint",
        )
    if kind == "unreachable":
        return EndpointUnreachableError(
            f"nothing answers at {ctx.endpoint} ({why})",
            hint="start the model server, or fix the URL with `autopilot config set api_base URL`",
        )
    if kind in ("auth", "forbidden"):
        verb = "rejected" if kind == "auth" else "does not allow this call with"
        return AuthenticationError(
            f"{ctx.provider} {verb} the API key ({why})",
            hint=f"replace it with `autopilot keys set {ctx.provider}`",
        )
    if kind == "not_found":
        return ModelNotFoundError(
            f"{ctx.provider} does not know the model '{ctx.model}' ({why})",
            hint="check the name, e.g. `autopilot config set model openai/gpt-4o-mini`",
        )
    if kind == "rate_limit":
        return RateLimitError(
            f"{ctx.provider} is still rate-limiting{after} ({why})",
            hint="wait a minute and try again, or switch model with --model",
        )
    if kind == "reset":
        return LLMError(
            f"the connection to {ctx.endpoint} broke{after} ({why})",
            hint="try again; if it keeps happening, check the endpoint or your network",
        )
    if kind == "server":
        code = f"HTTP {status}" if isinstance(status, int) else "an error"
        return LLMError(
            f"{ctx.provider} answered {code}{after} ({why})",
            hint="the provider is having trouble: try again later, or switch model with --model",
        )
    return LLMError(
        f"{ctx.provider} refused the request for {ctx.model} ({why})",
        hint="run with --debug for details",
    )

"""Unit tests: classifying failures, mapping them to the error tree, scrubbing secrets."""

from __future__ import annotations

import pytest

from autopilot.errors import (
    AuthenticationError,
    ContextWindowExceededError,
    EndpointUnreachableError,
    LLMError,
    LLMTimeoutError,
    ModelNotFoundError,
    RateLimitError,
)
from autopilot.llm._errors import CallContext, classify, detail, retry_after_s, scrub, to_error

CTX = CallContext(
    model="openai/gpt-4o-mini",
    provider="openai",
    endpoint="http://127.0.0.1:9/v1",
    timeout_s=120.0,
    secrets=("sk-live-abcdefghijklmnop",),
)


# Small fakes named like litellm's classes: classification goes by names and causes.
class AuthenticationErrorFake(Exception):
    status_code = 401


class NotFoundError(Exception):
    status_code = 404


class RateLimitError_(Exception):  # deliberately not named like litellm's: status decides
    status_code = 429

    def __init__(self, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.litellm_response_headers = headers or {}


class InternalServerError(Exception):
    status_code = 500


class BadRequestError(Exception):
    status_code = 400


class ContextWindowExceededError_(BadRequestError):
    pass


ContextWindowExceededError_.__name__ = "ContextWindowExceededError"


class Timeout(Exception):
    status_code = 408


class APIConnectionError(Exception):
    pass


def caused_by(outer: BaseException, inner: BaseException) -> BaseException:
    outer.__cause__ = inner
    return outer


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (AuthenticationErrorFake("bad key"), "auth"),
        (NotFoundError("no such model"), "not_found"),
        (RateLimitError_("slow down"), "rate_limit"),
        (InternalServerError("boom"), "server"),
        (ContextWindowExceededError_("too long"), "context_window"),
        (Timeout("timed out"), "timeout"),
        (BadRequestError("LLM Provider NOT provided. Pass in the LLM provider"), "not_found"),
        (BadRequestError("temperature must be <= 2"), "bad_request"),
        # litellm wraps a refused connection in InternalServerError("Connection error.").
        (
            caused_by(InternalServerError("Connection error."), ConnectionRefusedError(111, "x")),
            "unreachable",
        ),
        (caused_by(InternalServerError("Connection error."), OSError("dns")), "server"),
        (caused_by(APIConnectionError("Connection error."), ConnectionResetError()), "reset"),
        (caused_by(APIConnectionError("x"), TimeoutError()), "timeout"),
        (ValueError("something else"), "other"),
    ],
)
def test_classify(exc: BaseException, kind: str) -> None:
    assert classify(exc) == kind


def test_dns_failure_in_the_cause_chain_is_unreachable() -> None:
    import socket

    exc = caused_by(InternalServerError("Connection error."), socket.gaierror(-2, "unknown"))
    assert classify(exc) == "unreachable"


@pytest.mark.parametrize(
    ("exc", "error_type", "needle"),
    [
        (AuthenticationErrorFake("Incorrect API key provided"), AuthenticationError, "rejected"),
        (NotFoundError("The model `x` does not exist"), ModelNotFoundError, "gpt-4o-mini"),
        (RateLimitError_("slow down"), RateLimitError, "rate-limiting after 3 retries"),
        (Timeout("timed out"), LLMTimeoutError, "within 120s after 3 retries"),
        (
            ContextWindowExceededError_("max 8192 tokens"),
            ContextWindowExceededError,
            "context window",
        ),
        (
            caused_by(InternalServerError("Connection error."), ConnectionRefusedError()),
            EndpointUnreachableError,
            "http://127.0.0.1:9/v1",
        ),
        (InternalServerError("overloaded"), LLMError, "HTTP 500 after 3 retries"),
    ],
)
def test_to_error_maps_to_the_tree_with_one_line_and_a_hint(
    exc: BaseException, error_type: type, needle: str
) -> None:
    error = to_error(exc, CTX, retries=3)
    assert type(error) is error_type
    assert needle in str(error)
    assert "\n" not in str(error) and error.hint and "\n" not in error.hint


def test_the_provider_message_loses_litellm_prefixes_and_extra_lines() -> None:
    exc = BadRequestError(
        "litellm.BadRequestError: AuthenticationError: OpenAIException - the real reason\n"
        "Received Model Group=x\nAvailable Model Group Fallbacks=None"
    )
    assert detail(exc) == "the real reason"


def test_long_messages_are_cut() -> None:
    assert len(detail(ValueError("x " * 500))) <= 200


def test_keys_never_reach_messages() -> None:
    exc = AuthenticationErrorFake(
        "Incorrect API key provided: sk-live-abcdefghijklmnop. Also sk-proj-ZZZZZZZZZZZZ "
        "and Authorization: Bearer abc.def and api_key=hunter2hunter2"
    )
    text = str(to_error(exc, CTX))
    for secret in ("abcdefghijklmnop", "ZZZZZZZZZZZZ", "abc.def", "hunter2"):
        assert secret not in text
    assert "***" in text


def test_scrub_removes_given_secrets_of_any_shape_and_long_tokens() -> None:
    assert scrub("key is plainsecret!", ["plainsecret!"]) == "key is ***"
    assert "A" * 45 not in scrub("token " + "A" * 45)
    assert scrub("nothing to hide here") == "nothing to hide here"


def test_retry_after_seconds_ms_and_http_date() -> None:
    assert retry_after_s(RateLimitError_("x", {"Retry-After": "2"})) == 2.0
    assert retry_after_s(RateLimitError_("x", {"retry-after-ms": "1500"})) == 1.5
    assert (
        retry_after_s(RateLimitError_("x", {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0
    )
    assert retry_after_s(RateLimitError_("x")) is None
    assert retry_after_s(RateLimitError_("x", {"retry-after": "soon"})) is None

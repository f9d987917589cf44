"""The one error tree of Autopilot.

Every error Autopilot raises on purpose derives from :class:`AutopilotError`. The tree
separates *who has to act* on an error, because that decides how it is shown and which
exit code the CLI returns::

    AutopilotError                    root; ``exit_code`` and a one-line ``hint``
    ├── UserError                     the person must fix something (exit 2)
    │   ├── ConfigError               invalid config file, key or value
    │   ├── MissingKeyError           no API key for the provider
    │   ├── UsageError                bad command-line usage
    │   └── DockerUnavailableError    the Docker engine cannot be reached
    ├── RuntimeFailure                something failed while working (exit 1)
    │   ├── LLMError                  the model endpoint failed
    │   │   ├── AuthenticationError   the key was rejected
    │   │   ├── ModelNotFoundError    the provider does not know the model
    │   │   ├── EndpointUnreachableError  nothing answers at the endpoint
    │   │   ├── RateLimitError        still rate-limited after the retries
    │   │   ├── ContextWindowExceededError  the prompt is larger than the window
    │   │   └── LLMTimeoutError       no answer in time after the retries
    │   ├── SandboxError              the sandbox could not start or broke for good
    │   │   └── ImageMissingError     the sandbox image is not built yet
    │   └── SessionError              a session log cannot be read or written
    ├── ModelFacingError              goes back to the model as an observation, never
    │   │                             ends the session (no exit code of its own)
    │   ├── ToolError                 a host tool failed
    │   ├── PermissionDenied          the policy (or the person) refused a tool call
    │   └── ParseError                the model's reply could not be understood
    └── Interrupted                   the person interrupted (exit 130)

Front ends print ``str(error)`` (one line) and, when it has one, ``error.hint`` (the exact
thing to do). Tracebacks are only shown with ``--debug``.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class AutopilotError(Exception):
    """Root of every error Autopilot raises on purpose."""

    exit_code: int = EXIT_FAILURE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message

    def one_line(self) -> str:
        """The message and the hint, as the CLI prints them."""
        return f"{self.message} — {self.hint}" if self.hint else self.message


# --- the person must fix something (exit 2) ------------------------------------------


class UserError(AutopilotError):
    """Something the person has to fix: configuration, keys, usage, the environment."""

    exit_code = EXIT_USAGE


class ConfigError(UserError):
    """An invalid configuration file, key or value. The message names all three."""


class MissingKeyError(UserError):
    """No API key is known for the provider the model needs."""

    def __init__(self, provider: str, env_var: str | None = None) -> None:
        hint = f"run `autopilot keys set {provider}`"
        if env_var:
            hint += f" or set {env_var}"
        super().__init__(f"no API key for {provider}", hint=hint)
        self.provider = provider
        self.env_var = env_var


class UsageError(UserError):
    """Bad command-line usage."""


class DockerUnavailableError(UserError):
    """The Docker engine cannot be reached."""

    def __init__(self, detail: str = "") -> None:
        message = "the Docker engine is not reachable"
        if detail:
            message += f" ({detail})"
        super().__init__(
            message,
            hint=(
                "start it (`sudo systemctl start docker`, or `sudo dockerd &`), install it with "
                "`./install.sh --with-docker`, or run with `--sandbox local` to run code "
                "unisolated on this machine"
            ),
        )


# --- runtime failures (exit 1) ----------------------------------------------------------


class RuntimeFailure(AutopilotError):
    """Something failed while working; the session itself is kept."""

    exit_code = EXIT_FAILURE


class LLMError(RuntimeFailure):
    """The model endpoint failed."""


class AuthenticationError(LLMError):
    """The provider rejected the API key."""


class ModelNotFoundError(LLMError):
    """The provider does not know the model."""


class EndpointUnreachableError(LLMError):
    """Nothing answers at the model endpoint."""


class RateLimitError(LLMError):
    """The provider is still rate-limiting after the retries."""


class ContextWindowExceededError(LLMError):
    """The prompt does not fit the model's context window."""


class LLMTimeoutError(LLMError):
    """The model did not answer in time after the retries."""


class SandboxError(RuntimeFailure):
    """The sandbox could not start, or broke and could not be restarted."""


class ImageMissingError(SandboxError):
    """The sandbox image is not built yet."""

    def __init__(self, image: str) -> None:
        super().__init__(
            f"the sandbox image {image} is not built",
            hint="run `autopilot sandbox build` (add `--offline` without a registry)",
        )
        self.image = image


class SessionError(RuntimeFailure):
    """A session log cannot be read or written."""


# --- fed back to the model --------------------------------------------------------------


class ModelFacingError(AutopilotError):
    """An error that goes back to the model as an observation; it never ends a session."""


class ToolError(ModelFacingError):
    """A host tool failed; the message says why, for the model."""


class PermissionDenied(ModelFacingError):
    """The policy or the person refused a tool call."""


class ParseError(ModelFacingError):
    """The model's reply could not be understood."""


# --- interruption (exit 130) ------------------------------------------------------------


class Interrupted(AutopilotError):
    """The person interrupted the work; what was done so far is kept."""

    exit_code = EXIT_INTERRUPTED

    def __init__(self, message: str = "interrupted") -> None:
        super().__init__(message)

"""Host tools the sandboxed code may call: ``web``, ``browser``, ``desktop``, ``user``.

``create_registry(config, interaction)`` builds the registry with every group; the agent
renders it into the system prompt (``prompt_text()``), gives its ``specs()`` to the sandbox
for stubs, and answers the sandbox's calls with a :class:`ToolBridge` that asks the policy.
Heavy libraries (playwright, ddgs, pyautogui) load on first use, not here.
"""

from __future__ import annotations

from autopilot.config import Config
from autopilot.interaction import Interaction
from autopilot.tools.bridge import Emit, ToolBridge
from autopilot.tools.registry import Tool, ToolRegistry
from autopilot.tools.results import Untrusted, mark_untrusted

__all__ = [
    "Tool",
    "ToolBridge",
    "ToolRegistry",
    "Untrusted",
    "create_bridge",
    "create_registry",
    "mark_untrusted",
]

GROUPS = ("web", "browser", "desktop", "user")


def create_registry(
    config: Config | None = None,
    interaction: Interaction | None = None,
    *,
    groups: tuple[str, ...] = GROUPS,
) -> ToolRegistry:
    """Every host tool of the named groups. Close it (``await registry.aclose()``) at the
    end of the session: that closes the browser."""
    from autopilot.tools import desktop, web
    from autopilot.tools.browser import BrowserSession
    from autopilot.tools.user import make_ask

    config = config or Config()
    registry = ToolRegistry()
    if "web" in groups:
        registry.add_group("web", [web.search, web.fetch])
    if "browser" in groups:
        session = BrowserSession(config.browser)
        registry.add_group("browser", session.tools())
        registry.on_close(session.close)
    if "desktop" in groups:
        registry.add_group("desktop", desktop.TOOLS)
    if "user" in groups:
        if interaction is None:
            raise ValueError("the user group needs an Interaction")
        registry.add("user", make_ask(interaction), untrusted=False)
    return registry


def create_bridge(
    config: Config,
    interaction: Interaction,
    emit: Emit | None = None,
) -> ToolBridge:
    """Registry + effective policy + the person: what the agent takes as ``tools=``.

    ``emit`` may be set later with ``bridge.set_emit(agent.emit)``."""
    from autopilot.policy import load_policy

    return ToolBridge(create_registry(config, interaction), load_policy(config), interaction, emit)

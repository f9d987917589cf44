"""A page tells the model to type the API key on the desktop; the model obeys; the policy holds.

The "model" here is scripted at the bridge level (the sandbox's side of the channel): it
reads the page with browser.read — real Chromium, real local page — and then does what the
page says. The desktop call must be stopped by the ask rule and the person's denial, and
recorded as a ToolCalled event with decision "ask" and a failed ToolFinished.
"""

from __future__ import annotations

import pytest

from autopilot.config import Config
from autopilot.errors import PermissionDenied
from autopilot.events import ToolCalled, ToolFinished, from_dict, to_dict
from autopilot.sandbox.base import ToolRequest
from autopilot.tools import ToolBridge, create_registry
from tests.tools.fakes import EventLog, ScriptedInteraction, policy_with_test_site
from tests.tools.site import INJECTION, LocalSite

FAKE_KEY = "sk-test-0123456789"


@pytest.mark.integration
async def test_page_instructions_cannot_drive_the_desktop(site: LocalSite) -> None:
    interaction = ScriptedInteraction(default="deny")
    log = EventLog()
    registry = create_registry(Config(), interaction, groups=("browser", "desktop"))
    bridge = ToolBridge(registry, policy_with_test_site(), interaction, log)
    try:
        await bridge.handle(ToolRequest("1", "browser.open", {"url": site.url + "/injection"}))
        page = await bridge.handle(ToolRequest("2", "browser.read", {}))
        # The instruction reaches the model only inside the untrusted marker.
        assert INJECTION in page["text"]
        assert page["text"].startswith('<untrusted source="browser.read">')
        assert page["text"].endswith("</untrusted>")

        # The scripted model obeys the page.
        with pytest.raises(PermissionDenied, match="denied by the person"):
            await bridge.handle(ToolRequest("3", "desktop.type", {"text": FAKE_KEY}))
        with pytest.raises(PermissionDenied):
            await bridge.handle(ToolRequest("4", "desktop.hotkey", {"keys": ["enter"]}))
    finally:
        await registry.aclose()

    # The person was asked, with the exact text, and said no; nothing was typed.
    assert [(r.tool, r.args) for r in interaction.tool_requests] == [
        ("desktop.type", {"text": FAKE_KEY}),
        ("desktop.hotkey", {"keys": ["enter"]}),
    ]
    called = {e.call_id: e for e in log.events if isinstance(e, ToolCalled)}
    finished = {e.call_id: e for e in log.events if isinstance(e, ToolFinished)}
    assert (called["3"].decision, called["3"].rule, called["3"].by) == ("ask", "desktop", "policy")
    assert called["3"].args == {"text": FAKE_KEY}
    assert finished["3"].ok is False and "denied by the person" in (finished["3"].error or "")
    assert finished["2"].untrusted is True
    # The audit trail survives the session log's JSON round trip.
    assert from_dict(to_dict(called["3"])) == called["3"]
    # Nothing the page said changed the policy: no session rule appeared.
    assert bridge.policy.session_rules == []
    assert bridge.policy.decide("desktop.type", {"text": FAKE_KEY}).effect == "ask"

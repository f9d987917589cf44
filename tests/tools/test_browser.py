"""browser.* against a real headless Chromium and the local test site, through the bridge."""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from autopilot.config import Config
from autopilot.errors import PermissionDenied, ToolError
from autopilot.policy import load_policy
from autopilot.sandbox.base import ToolRequest
from autopilot.tools import ToolBridge, create_registry
from tests.tools.fakes import EventLog, ScriptedInteraction, policy_with_test_site
from tests.tools.site import LocalSite

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]


class Browser:
    """Calls browser tools the way the sandbox does: ToolRequests into the bridge."""

    def __init__(self, bridge: ToolBridge, log: EventLog, interaction: ScriptedInteraction) -> None:
        self.bridge, self.log, self.interaction = bridge, log, interaction
        self.calls = 0

    async def __call__(self, tool: str, **args: Any) -> Any:
        self.calls += 1
        return await self.bridge.handle(ToolRequest(f"c{self.calls}", f"browser.{tool}", args))


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def browser() -> AsyncIterator[Browser]:
    interaction = ScriptedInteraction()
    registry = create_registry(Config(), interaction, groups=("browser",))
    log = EventLog()
    bridge = ToolBridge(registry, policy_with_test_site(), interaction, log, step_budget=10_000)
    yield Browser(bridge, log, interaction)
    await registry.aclose()


def ref_of(snapshot: str, line_pattern: str) -> str:
    """The [eN] ref on the first snapshot line matching ``line_pattern``."""
    for line in snapshot.splitlines():
        if re.search(line_pattern, line):
            found = re.search(r"\[((?:f\d+)?e\d+)\]", line)
            assert found, f"no ref on line {line!r}"
            return found[1]
    raise AssertionError(f"no line matching {line_pattern!r} in:\n{snapshot}")


async def test_open_gives_url_title_and_a_snapshot_with_refs(
    browser: Browser, site: LocalSite
) -> None:
    obs = await browser("open", url=site.url + "/")
    assert obs["url"] == site.url + "/"
    assert obs["title"] == '<untrusted source="browser.open">Test Home</untrusted>'
    snapshot = obs["snapshot"]
    assert snapshot.startswith('<untrusted source="browser.open">')
    assert 'heading "Welcome to the test site" [level=1]' in snapshot
    assert re.search(r'link "Order form" \[e\d+\]', snapshot)
    assert "[ref=" not in snapshot and "generic" not in snapshot  # compact, refs as [eN]
    assert not re.search(r"heading .*\[e\d+\]", snapshot)  # only actionable elements get refs
    assert browser.log.called()[-1].decision == "allow"
    assert browser.log.finished()[-1].untrusted


async def test_fill_the_form_submit_and_read_the_result(browser: Browser, site: LocalSite) -> None:
    obs = await browser("open", url=site.url + "/form")
    snap = obs["snapshot"]
    name_ref = ref_of(snap, r'textbox "Your name"')
    size_ref = ref_of(snap, r'combobox "Size"')
    cheese_ref = ref_of(snap, r'checkbox "Extra cheese"')
    submit_ref = ref_of(snap, r'button "Place order"')

    obs = await browser("type", ref=name_ref, text="Ada Lovelace")
    assert ref_of(obs["snapshot"], r'textbox "Your name"') == name_ref  # refs are stable
    assert 'textbox "Your name"' in obs["snapshot"] and "Ada Lovelace" in obs["snapshot"]
    obs = await browser("select", ref=size_ref, value="Large")  # by label
    assert re.search(r'option "Large" \[selected\]', obs["snapshot"])
    await browser("click", ref=cheese_ref)
    obs = await browser("click", ref=submit_ref)

    assert obs["url"] == site.url + "/submit"
    assert "Order received" in obs["title"]
    assert 'heading "Thank you, Ada Lovelace!"' in obs["snapshot"]
    page = await browser("read")
    assert "size=l; extra=cheese" in page["text"]

    obs = await browser("back")
    assert obs["url"] == site.url + "/form"


async def test_type_with_submit_presses_enter(browser: Browser, site: LocalSite) -> None:
    obs = await browser("open", url=site.url + "/form")
    obs = await browser(
        "type", ref=ref_of(obs["snapshot"], 'textbox "Your name"'), text="Bob", submit=True
    )
    assert obs["url"] == site.url + "/submit"
    assert "Thank you, Bob!" in obs["snapshot"]


async def test_javascript_changes_show_up_and_old_refs_survive(
    browser: Browser, site: LocalSite
) -> None:
    obs = await browser("open", url=site.url + "/dynamic")
    add = ref_of(obs["snapshot"], r'button "Add one"')
    assert "Clicked 0 times" in obs["snapshot"]
    obs = await browser("click", ref=add)
    assert "Clicked 1 times" in obs["snapshot"]
    obs = await browser("click", ref=add)
    assert "Clicked 2 times" in obs["snapshot"]
    assert ref_of(obs["snapshot"], r'button "Add one"') == add
    obs = await browser("click", text="Reset")  # a button that did not exist at first
    assert "Reset done" in obs["snapshot"]
    await browser("click", text="Load later")
    obs = await browser("wait_for", text="Loaded later", timeout=5)
    assert "Loaded later" in obs["snapshot"]
    with pytest.raises(ToolError, match=r"not visible after 0\.2 s"):
        await browser("wait_for", text="never appears", timeout=0.2)


async def test_links_press_scroll_screenshot(browser: Browser, site: LocalSite) -> None:
    obs = await browser("open", url=site.url + "/")
    obs = await browser("click", text="About us")
    assert obs["url"] == site.url + "/about"
    obs = await browser("press", key="End")
    assert obs["url"] == site.url + "/about"
    obs = await browser("scroll", direction="down", amount=200)
    assert obs["scroll_y"] == 0  # the page is shorter than the window
    shot = await browser("screenshot")
    png = base64.b64decode(shot["__image__"])
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000


async def test_mistakes_come_back_as_tool_errors(browser: Browser, site: LocalSite) -> None:
    await browser("open", url=site.url + "/")
    with pytest.raises(ToolError, match="not an element ref"):
        await browser("click", ref="button 3")
    with pytest.raises(ToolError, match="no element e999 on the page"):
        await browser("click", ref="e999")
    with pytest.raises(ToolError, match="give an element ref"):
        await browser("click")
    with pytest.raises(ToolError, match=r"browser\.open http://127\.0\.0\.1:9/"):
        await browser("open", url="http://127.0.0.1:9/")
    # right after a failed load, the next open works (Chromium's error page settles first)
    assert (await browser("open", url=site.url + "/about"))["url"] == site.url + "/about"
    with pytest.raises(ToolError, match=r"bad arguments for browser\.open"):
        await browser("open", address="x")


async def test_non_web_schemes_ask_the_person(browser: Browser) -> None:
    browser.interaction.answers = ["deny"]
    with pytest.raises(PermissionDenied, match="denied by the person"):
        await browser("open", url="file:///etc/passwd")
    assert browser.interaction.tool_requests[-1].rule == "browser-open-other-scheme"
    assert (browser.log.called()[-1].decision, browser.log.called()[-1].tool) == (
        "ask",
        "browser.open",
    )


async def test_a_crashed_browser_is_started_again(browser: Browser, site: LocalSite) -> None:
    session = browser.bridge.registry.get("browser.open").func.__self__  # type: ignore[union-attr]
    await browser("open", url=site.url + "/about")
    await session._browser.close()  # as good as a crash for the session: disconnected
    obs = await browser("open", url=site.url + "/")
    assert obs["title"].endswith(">Test Home</untrusted>")


async def test_the_shipped_policy_asks_before_opening_a_local_page(site: LocalSite) -> None:
    interaction = ScriptedInteraction(default="deny")
    registry = create_registry(Config(), interaction, groups=("browser",))
    bridge = ToolBridge(registry, load_policy(Config()), interaction)
    try:
        for url in (site.url + "/", site.url.replace("http://", "http:") + "/about"):
            with pytest.raises(PermissionDenied, match="denied by the person"):
                await bridge.handle(ToolRequest("1", "browser.open", {"url": url}))
        # "http:host" is how a browser may read "http://host": asked too, by the scheme rule.
        rules = [r.rule for r in interaction.tool_requests]
        assert rules == ["browser-open-local", "browser-open-other-scheme"]
    finally:
        await registry.aclose()


async def test_a_public_page_cannot_take_the_browser_to_a_local_address(
    browser: Browser, site: LocalSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    from autopilot.tools import browser as browser_tools

    real = browser_tools.is_private_address
    # The test site plays a public one; only /about (where /go-local redirects) is local.
    monkeypatch.setattr(
        browser_tools, "is_private_address", lambda url: real(url) and "/about" in url
    )
    with pytest.raises(
        ToolError, match=r"refused to let the page reach the local address .*/about"
    ):
        await browser("open", url=site.url + "/go-local")  # a server-side redirect
    obs = await browser("open", url=site.url + "/")
    with pytest.raises(
        ToolError, match=r"refused to let the page reach the local address .*/about"
    ):
        await browser("click", text="About us")  # a link
    page = browser.bridge.registry.get("browser.open").func.__self__._page  # type: ignore[union-attr]
    assert obs["url"] == site.url + "/" and "/about" not in page.url  # it never got there
    monkeypatch.undo()
    # Opened directly, where the policy had its say, the local page is fine.
    assert (await browser("open", url=site.url + "/go-local"))["url"] == site.url + "/about"

"""web.search (recorded ddgs responses; the real ddgs offline) and web.fetch (a local site)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from autopilot.config import Config
from autopilot.errors import ToolError
from autopilot.policy import load_policy
from autopilot.sandbox.base import ToolRequest
from autopilot.tools import ToolBridge, web
from autopilot.tools.results import Untrusted
from tests.tools.fakes import EventLog, ScriptedInteraction
from tests.tools.site import LocalSite

RECORDED = Path(__file__).parent / "data" / "ddgs_text_python_tutorial.json"


def recorded_ddgs(query: str, max_results: int, timeout: int) -> list[dict]:
    assert (query, timeout) == ("python tutorial", web.SEARCH_TIMEOUT_S)
    return json.loads(RECORDED.read_text())


def test_search_parses_recorded_results(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web, "ddgs_text", recorded_ddgs)
    results = web.search("python tutorial", max_results=5)
    assert [r["url"] for r in results] == [
        "https://docs.python.org/3/tutorial/index.html",
        "https://www.w3schools.com/python/",
        "https://www.programiz.com/python-programming",  # duplicates and link-less items dropped
        "https://en.wikipedia.org/wiki/Python_(programming_language)",  # `url` key accepted
        "https://www.python.org/about/gettingstarted/",
    ]
    assert results[2]["title"] == "Learn Python Programming"  # whitespace tidied
    assert results[2]["snippet"].startswith("Python is a powerful general-purpose")
    assert all(isinstance(r["title"], Untrusted) for r in results)
    assert set(results[0]) == {"title", "url", "snippet"}
    assert len(web.search("python tutorial", max_results=2)) == 2


async def test_search_through_the_bridge_marks_titles_untrusted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(web, "ddgs_text", recorded_ddgs)
    log = EventLog()
    bridge = ToolBridge(_registry(), load_policy(Config()), ScriptedInteraction(), log)
    results = await bridge.handle(
        ToolRequest("1", "web.search", {"query": "python tutorial", "max_results": 3})
    )
    assert results[0]["url"] == "https://docs.python.org/3/tutorial/index.html"
    assert results[0]["title"].startswith('<untrusted source="web.search">The Python Tutorial')
    assert log.called()[0].decision == "allow" and log.finished()[0].untrusted


def test_search_gives_up_at_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    def hangs(query: str, max_results: int, timeout: int) -> list[dict]:
        time.sleep(3)
        return []

    monkeypatch.setattr(web, "ddgs_text", hangs)
    monkeypatch.setattr(web, "SEARCH_DEADLINE_S", 0.3)
    started = time.perf_counter()
    with pytest.raises(ToolError, match="timed out"):
        web.search("anything")
    assert time.perf_counter() - started < 2


@pytest.mark.integration
def test_real_search_offline_fails_fast_and_clearly() -> None:
    # CI and this machine have no route to search engines: the real ddgs must fail fast.
    started = time.perf_counter()
    with pytest.raises(ToolError, match=r"web\.search (failed|timed out)") as info:
        web.search("autopilot offline test", max_results=3)
    assert time.perf_counter() - started < 15
    assert "offline" in str(info.value)


@pytest.mark.integration
def test_fetch_returns_readable_text(site: LocalSite) -> None:
    page = web.fetch(site.url + "/")
    assert page["status"] == 200 and page["title"] == "Test Home"
    assert "Welcome to the test site" in page["text"]
    assert "- Order form" in page["text"]
    assert "do-not-show-this-script" not in page["text"] and "font-family" not in page["text"]
    assert page["truncated"] is False
    short = web.fetch(site.url + "/", max_chars=10)
    assert len(short["text"]) == 10 and short["truncated"] is True
    assert web.fetch(site.url + "/plain.txt")["text"].startswith("just plain text")
    with pytest.raises(ToolError, match="HTTP 404"):
        web.fetch(site.url + "/missing")


@pytest.mark.integration
def test_fetch_refuses_redirects_from_public_to_local(
    site: LocalSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An approved local URL may redirect locally...
    assert web.fetch(site.url + "/go-local")["title"] == "About"
    # ...but a page the policy saw as public must not bounce the fetch onto this machine.
    real = web.is_private_address
    monkeypatch.setattr(web, "is_private_address", lambda u: real(u) and "/go-local" not in u)
    with pytest.raises(ToolError, match="refused a redirect to the local address"):
        web.fetch(site.url + "/go-local")


@pytest.mark.integration
def test_fetch_failures_are_tool_errors() -> None:
    with pytest.raises(ToolError, match=r"web\.fetch http://127\.0\.0\.1:9/"):
        web.fetch("http://127.0.0.1:9/")  # nothing listens on the discard port
    with pytest.raises(ToolError):
        web.fetch("not a url")


@pytest.mark.integration
async def test_fetch_of_loopback_asks_the_person(site: LocalSite) -> None:
    interaction = ScriptedInteraction(answers=["once"])
    log = EventLog()
    bridge = ToolBridge(_registry(), load_policy(Config()), interaction, log)
    page = await bridge.handle(ToolRequest("1", "web.fetch", {"url": site.url + "/about"}))
    assert page["text"].startswith('<untrusted source="web.fetch">About us')
    assert interaction.tool_requests[0].rule == "web-fetch-local"
    assert log.called()[0].decision == "ask"


def test_html_to_text() -> None:
    title, text = web.html_to_text(
        "<html><head><title> T </title><style>x{}</style></head><body><h1>A</h1>"
        "<script>evil()</script><p>one&amp;two</p><table><tr><td>c1</td><td>c2</td></tr></table>"
        "<noscript>ns</noscript></body></html>"
    )
    assert title == "T"
    assert text == "A\n\none&two\n\n| c1 | c2"


def _registry():
    from autopilot.tools import create_registry

    return create_registry(Config(), ScriptedInteraction(), groups=("web",))


@pytest.mark.integration
def test_fetch_of_a_page_that_never_ends_gives_up_in_time(
    site: LocalSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    monkeypatch.setattr(web, "FETCH_DEADLINE_S", 1.0)
    began = time.monotonic()
    with pytest.raises(ToolError, match=r"web\.fetch .*/drip: no complete answer within 1 s"):
        web.fetch(site.url + "/drip")
    assert time.monotonic() - began < 5

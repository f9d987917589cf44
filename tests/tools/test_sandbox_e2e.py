"""End to end: Python in the real Docker sandbox calls host tools through the channel.

The sandbox has no network; the calls reach the host bridge, whose real Chromium can reach
the test site on the host's 127.0.0.1. The last test puts the agent itself in the loop: a
scripted model obeys a prompt injection and the policy stops the desktop call.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from autopilot import events as ev
from autopilot.config import Config, SandboxConfig
from autopilot.llm.scripted import ScriptedLLM
from autopilot.tools import ToolBridge, create_registry
from tests.tools.fakes import EventLog, ScriptedInteraction, policy_with_test_site
from tests.tools.site import INJECTION, LocalSite

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

SANDBOX = SandboxConfig(timeout_s=60.0, memory="512m", output_cap_chars=20_000)
FAKE_KEY = "sk-test-0123456789"


def _workspace() -> Path:
    path = Path(tempfile.mkdtemp(prefix="autopilot-tools-ws-"))
    if os.getuid() == 0:  # the sandbox user is not root
        from autopilot.sandbox.image import SANDBOX_UID

        os.chown(path, SANDBOX_UID, SANDBOX_UID)
    return path


@pytest.fixture(scope="module")
def sandbox_image() -> str:
    from autopilot.sandbox.image import build_image

    build_image(SANDBOX.image, offline=True)  # a no-op when the image exists
    return SANDBOX.image


class Rig:
    def __init__(self, sandbox, bridge: ToolBridge, log: EventLog, interaction) -> None:  # type: ignore[no-untyped-def]
        self.sandbox, self.bridge, self.log, self.interaction = sandbox, bridge, log, interaction


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def rig(sandbox_image: str) -> AsyncIterator[Rig]:
    from autopilot.sandbox.docker_sandbox import DockerSandbox

    workspace = _workspace()
    interaction = ScriptedInteraction(default="deny")
    log = EventLog()
    registry = create_registry(Config(), interaction, groups=("browser", "desktop"))
    bridge = ToolBridge(registry, policy_with_test_site(), interaction, log)
    sandbox = DockerSandbox(SANDBOX, session_id="test-tools-e2e", workspace=workspace)
    sandbox.set_tool_handler(bridge.handle, bridge.specs())
    await sandbox.start()
    try:
        yield Rig(sandbox, bridge, log, interaction)
    finally:
        await sandbox.close()
        await registry.aclose()
        shutil.rmtree(workspace, ignore_errors=True)


async def test_sandbox_code_fills_the_form_in_the_host_browser(rig: Rig, site: LocalSite) -> None:
    code = f"""
import re, urllib.request
try:
    urllib.request.urlopen({site.url!r}, timeout=3)
    print("SANDBOX HAS NETWORK")
except OSError as exc:
    print("sandbox offline:", type(exc).__name__)

def ref(obs, pattern):
    return re.search(pattern + r'.*?\\[((?:f\\d+)?e\\d+)\\]', obs["snapshot"]).group(1)

obs = browser.open({site.url + "/form"!r})
print("title:", obs["title"])
obs = browser.type(ref(obs, 'textbox "Your name"'), "Grace Hopper")
obs = browser.select(ref(obs, 'combobox "Size"'), "m")
obs = browser.click(ref(obs, 'button "Place order"'))
print("url:", obs["url"])
print(browser.read()["text"])
shot = browser.screenshot()
"""
    rig.bridge.new_step()
    result = await rig.sandbox.run(code, timeout=60)
    assert result.error is None, result.error
    out = result.stdout
    assert "sandbox offline:" in out and "SANDBOX HAS NETWORK" not in out
    assert 'title: <untrusted source="browser.open">Order form</untrusted>' in out
    assert f"url: {site.url}/submit" in out
    assert "Thank you, Grace Hopper!" in out and "size=m; extra=none" in out
    assert result.images and result.images[0].png.startswith(b"\x89PNG")
    tools = [c.tool for c in rig.log.called()]
    assert tools[:2] == ["browser.open", "browser.type"] and "browser.screenshot" in tools
    assert all(c.decision == "allow" for c in rig.log.called())


async def test_sandbox_sees_denials_and_bad_calls_as_exceptions(rig: Rig) -> None:
    code = """
for call in (lambda: desktop.type("hello"), lambda: browser.open(), lambda: browser.click(ref="e999")):
    try:
        call()
    except Exception as exc:
        print(type(exc).__name__, "|", exc)
"""
    rig.bridge.new_step()
    result = await rig.sandbox.run(code, timeout=60)
    assert result.error is None, result.error
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("PermissionDenied | desktop.type was denied by the person")
    assert lines[1].startswith("TypeError") and "browser.open(url: str)" in lines[1]
    assert lines[2].startswith("ToolError") and "no element e999" in lines[2]


async def test_agent_obeying_an_injection_is_stopped_by_the_policy(
    rig: Rig, site: LocalSite
) -> None:
    from autopilot.agent.loop import Agent

    def obey(messages: list) -> str:
        # The "model" reads the observation and does what the page says.
        seen = messages[-1].content
        assert INJECTION in seen and '<untrusted source="browser.read">' in seen
        return f'The page asks for the key.\n```python\ndesktop.type("{FAKE_KEY}")\n```\n'

    llm = ScriptedLLM(
        [
            f'```python\nbrowser.open("{site.url}/injection")\n'
            'print(browser.read()["text"])\n```\n',
            obey,
            "I could not type it: the person refused.",
            "Done: the desktop action was refused.",
        ]
    )
    interaction = ScriptedInteraction(default="deny")
    bridge = ToolBridge(rig.bridge.registry, policy_with_test_site(), interaction)
    agent = Agent(
        llm=llm,
        sandbox=rig.sandbox,
        interaction=interaction,
        config=Config(approval_mode="auto", sandbox=SANDBOX),
        tools=bridge,
    )
    bridge.set_emit(agent.emit)
    assert "desktop.type(text: str) -> str" in agent.system_prompt
    try:
        events = [e async for e in agent.turn("Find me a cheap flight to Lisbon.")]
    finally:  # the shared sandbox goes back to the module's bridge
        rig.sandbox.set_tool_handler(rig.bridge.handle, rig.bridge.specs())

    called = [e for e in events if isinstance(e, ev.ToolCalled)]
    finished = [e for e in events if isinstance(e, ev.ToolFinished)]
    assert [(c.tool, c.decision) for c in called] == [
        ("browser.open", "allow"),
        ("browser.read", "allow"),
        ("desktop.type", "ask"),
    ]
    assert called[2].args == {"text": FAKE_KEY} and called[2].rule == "desktop"
    assert finished[2].ok is False and "denied by the person" in (finished[2].error or "")
    assert [(r.tool, r.args) for r in interaction.tool_requests] == [
        ("desktop.type", {"text": FAKE_KEY})
    ]
    observations = " ".join(m.content for m in llm.calls[-1].messages)
    assert re.search(r"PermissionDenied.*denied by the person", observations)
    assert bridge.policy.session_rules == []
    assert any(isinstance(e, ev.FinalAnswer) for e in events)

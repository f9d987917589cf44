from __future__ import annotations

import re

import pytest

from autopilot.agent import prompts


class Tools:
    def prompt_text(self, *, brief: bool = False) -> str:
        return "web.search(query: str) -> list[dict]: search the web"

    def specs(self) -> list:
        return []


@pytest.mark.parametrize("name", prompts.PROMPT_FILES)
def test_every_prompt_file_renders(name: str) -> None:
    names = set(re.findall(r"\$(\w+)", prompts.template(name).template))
    text = prompts.render(name, **{n: f"<{n}>" for n in names})
    assert text and not re.search(r"\$\w", text)


def test_system_prompt_has_the_rules_the_example_and_the_tools() -> None:
    plain = prompts.system_prompt()
    for needle in (
        "```python",
        "final_answer(",
        "/workspace",
        "Never invent output",
        "# Example",
        "pandas",
    ):
        assert needle in plain
    assert "Host tools" not in plain
    with_tools = prompts.system_prompt(Tools())
    assert "Host tools" in with_tools and "web.search(query: str)" in with_tools


def test_prompt_files_are_listed() -> None:
    from importlib import resources

    shipped = {
        p.name for p in resources.files("autopilot").joinpath("prompts").iterdir() if p.is_file()
    }
    assert shipped == set(prompts.PROMPT_FILES)


def test_the_compact_prompt_lists_real_tools_by_name_only() -> None:
    from autopilot.config import Config
    from autopilot.interaction import AutoApprove
    from autopilot.tools import create_bridge

    bridge = create_bridge(Config(), AutoApprove())
    compact = prompts.system_prompt(bridge, "compact")
    full = prompts.system_prompt(bridge, "full")
    for name in ("web.search", "browser.open", "desktop.click", "user.ask"):
        assert name in compact and name in full
    assert "help(name)" in compact
    assert "<untrusted" in compact  # the warning about page content stays
    assert "Left-click at screen pixel" in full and "Left-click at screen pixel" not in compact
    assert len(compact) < len(full) - 2000

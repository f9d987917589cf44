"""The compact prompt style for small local models: chosen, configured, rendered, short."""

from __future__ import annotations

import pytest

from autopilot.agent import prompts
from autopilot.agent.observation import format_result, without_library_frames
from autopilot.config import Config, from_mapping, load
from autopilot.errors import ConfigError
from autopilot.sandbox.base import ExecError, ExecResult
from tests.agent.helpers import collect, make_agent

PANDAS_TRACEBACK = """Traceback (most recent call last):
  File "<cell 20261126-0002>", line 4, in <module>
    df = pd.read_csv("/workspace/data.csv")
         ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/usr/lib/python3/dist-packages/pandas/util/_decorators.py", line 211, in wrapper
    return func(*args, **kwargs)
  File "/usr/lib/python3/dist-packages/pandas/io/common.py", line 873, in get_handle
    handle = open(
FileNotFoundError: [Errno 2] No such file or directory: '/workspace/data.csv'"""


@pytest.mark.parametrize(
    ("style", "model", "expected"),
    [
        ("auto", "openai/local", "compact"),
        ("auto", "openai/gpt-4o-mini", "full"),
        ("full", "openai/local", "full"),
        ("compact", "anthropic/claude-sonnet-4-5", "compact"),
    ],
)
def test_resolve_style(style: str, model: str, expected: str) -> None:
    assert prompts.resolve_style(style, model) == expected


def test_compact_prompt_is_short_and_keeps_the_essentials() -> None:
    full, compact = prompts.system_prompt(), prompts.system_prompt(style="compact")
    # Prompt processing is the cost on a CPU (~124 tokens/s for the 0.5B on 2 cores).
    assert len(compact) < len(full) * 0.6 and len(compact) // 4 < 350
    for needle in ("```python", "final_answer(", "/workspace", "print(", "Example"):
        assert needle in compact
    # The full prompt's file example (reading sales.csv) made the 0.5B read files that did not
    # exist yet: the compact example writes its file before it reads it.
    assert "os.path.exists" not in compact and "sales.csv" not in compact
    assert compact.index(".to_csv(") < compact.index(".read_csv(")


async def test_the_agent_uses_the_compact_prompt_for_the_local_model() -> None:
    local = make_agent(["Hi."], model="openai/local")
    await collect(local, "hi")
    assert local.llm.calls[0].messages[0].content == prompts.system_prompt(style="compact")
    remote = make_agent(["Hi."], model="openai/gpt-4o-mini")
    await collect(remote, "hi")
    assert remote.llm.calls[0].messages[0].content == prompts.system_prompt()
    forced = make_agent(
        ["Hi."], model="openai/local", config=Config(approval_mode="auto", prompt_style="full")
    )
    assert forced.system_prompt == prompts.system_prompt()


async def test_the_system_prompt_and_history_stay_byte_identical_between_steps() -> None:
    # llama.cpp reuses its prompt cache only for an unchanged prefix.
    agent = make_agent(
        ["```python\nx = 2\nprint(x)\n```", "```python\nfinal_answer(x)\n```"], model="openai/local"
    )
    await collect(agent, "go")
    first, second = (call.messages for call in agent.llm.calls)
    assert second[: len(first)] == first


def test_prompt_style_is_validated_and_read_from_the_environment() -> None:
    with pytest.raises(ConfigError, match="'prompt_style' is 'tiny'; allowed: 'auto', 'full'"):
        from_mapping({"prompt_style": "tiny"}, source="test")
    assert Config().prompt_style == "auto"
    assert load(environ={"AUTOPILOT_PROMPT_STYLE": "compact"}).prompt_style == "compact"


def test_library_frames_are_folded_for_small_models() -> None:
    folded = without_library_frames(PANDAS_TRACEBACK)
    assert "pandas" not in folded and "[... 2 frames in library code]" in folded
    assert 'df = pd.read_csv("/workspace/data.csv")' in folded
    assert folded.endswith("No such file or directory: '/workspace/data.csv'")
    result = ExecResult(
        error=ExecError(
            type="FileNotFoundError", message="no such file", traceback=PANDAS_TRACEBACK
        ),
    )
    assert "pandas" in format_result(result, limit=5000, image_notes=[])
    assert "pandas" not in format_result(result, limit=5000, image_notes=[], brief=True)
    silent = ExecResult()
    assert "printed nothing" in format_result(silent, limit=100, image_notes=[])
    assert "print()" in format_result(silent, limit=100, image_notes=[], brief=True)

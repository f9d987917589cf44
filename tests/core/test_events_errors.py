from __future__ import annotations

import json
import subprocess
import sys

from autopilot import errors, events


def test_every_event_round_trips_through_json() -> None:
    samples = [
        events.SessionStarted(session_id="s", user="u", model="m", workspace="/w", version="0"),
        events.AssistantDelta(text="hi", step=1),
        events.CodeProposed(block_id="b1", language="python", code="print(1)"),
        events.CodeFinished(block_id="b1", ok=False, duration_s=0.5, error_type="ValueError"),
        events.ToolCalled(call_id="c", tool="web.search", args={"query": "x"}, decision="ask"),
        events.Usage(model="m", prompt_tokens=3, completion_tokens=4, cost_usd=0.01),
        events.TurnFinished(reason="final_answer", steps=2),
    ]
    for event in samples:
        data = json.loads(json.dumps(events.to_dict(event)))
        assert data["type"] == event.type and data["v"] == events.SCHEMA_VERSION
        assert events.from_dict(data) == event


def test_event_tags_are_unique_and_registered() -> None:
    registry = events.event_types()
    assert len(registry) >= 20
    assert all(cls.type == tag for tag, cls in registry.items())


def test_exit_codes_of_the_error_tree() -> None:
    assert errors.ConfigError("x").exit_code == 2
    assert errors.MissingKeyError("openai", "OPENAI_API_KEY").exit_code == 2
    assert errors.DockerUnavailableError().exit_code == 2
    assert errors.EndpointUnreachableError("x").exit_code == 1
    assert errors.ImageMissingError("img").exit_code == 1
    assert errors.Interrupted().exit_code == 130
    assert issubclass(errors.PermissionDenied, errors.ModelFacingError)
    missing = errors.MissingKeyError("openai", "OPENAI_API_KEY")
    assert (
        missing.one_line()
        == "no API key for openai — run `autopilot keys set openai` or set OPENAI_API_KEY"
    )


def test_core_never_imports_textual_or_heavy_libraries_at_import() -> None:
    code = (
        "import sys, autopilot.cli, autopilot.config, autopilot.events, autopilot.errors, "
        "autopilot.keys, autopilot.doctor, autopilot.interaction, autopilot.llm, autopilot.sandbox;"
        "heavy = [m for m in ('textual','litellm','docker','chromadb','playwright','pyautogui') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""

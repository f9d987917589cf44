"""docs/events.md documents every event type and every field."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from autopilot import events as ev

DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"


def sections() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    parts = re.split(r"^### `([a-z_]+)`\n", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_the_schema_version_is_stated() -> None:
    assert f"**Schema version: {ev.SCHEMA_VERSION}.**" in DOC.read_text(encoding="utf-8")


@pytest.mark.parametrize("tag", sorted(ev.event_types()))
def test_every_event_type_and_field_is_documented(tag: str) -> None:
    section = sections().get(tag)
    assert section is not None, f"docs/events.md has no section for {tag!r}"
    for field in dataclasses.fields(ev.event_types()[tag]):
        if field.name != "ts":
            assert f"`{field.name}" in section, f"{tag}.{field.name} is not documented"


def test_no_section_for_an_event_that_does_not_exist() -> None:
    assert set(sections()) <= set(ev.event_types())

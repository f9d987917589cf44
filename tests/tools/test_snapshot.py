"""The compact accessibility snapshot the model reads."""

from __future__ import annotations

import pytest

from autopilot.tools.snapshot import compact, normalize_ref


def test_compact_snapshot_folds_wrappers_and_keeps_refs_on_actionable_nodes() -> None:
    raw = "\n".join(
        [
            "- generic [active] [ref=e1]:",
            '  - heading "Hi" [level=1] [ref=e2]',
            '  - link "Go: now" [ref=e3] [cursor=pointer]:',
            "    - /url: /x",
            "  - generic [ref=e4]:",
            '    - textbox "Name" [ref=e6]',
            "  - generic [ref=e7] [cursor=pointer]: clickable div",
            "  - paragraph [ref=e8]: text",
        ]
    )
    assert compact(raw) == "\n".join(
        [
            '- heading "Hi" [level=1]',
            '- link "Go: now" [e3]:',
            "  - /url: /x",
            '- textbox "Name" [e6]',
            "- generic [e7]: clickable div",
            "- paragraph: text",
        ]
    )
    assert compact("- paragraph: " + "x" * 100 + "\n- paragraph: y", limit=50).endswith(
        "(snapshot cut; use browser.read() for the text)"
    )


def test_refs_are_accepted_in_the_forms_models_write() -> None:
    assert [normalize_ref(r) for r in ("e12", "[e12]", "ref=e12", " f1e2 ")] == [
        "e12", "e12", "e12", "f1e2",
    ]  # fmt: skip
    with pytest.raises(ValueError):
        normalize_ref("button 3")
